/// A picture a command shows: its pixels, what it shows in words, and the same picture drawn in
/// characters.
///
/// A terminal or a log gets the characters (`OutputSink.show`'s default); a host that shows
/// pictures itself (a notebook) takes the pixels as PNG and the description as their text form.
/// Commands put pictures into their `Report` with `addPicture`, so the host decides, not them.
public struct Picture: Sendable {
    /// The pixels, as `out=FILE.png` would write them.
    public let image: GreyImage
    /// What the picture shows, on one line, with its size: a notebook's `text/plain`.
    public let description: String
    /// The picture in characters (`TerminalPicture`, `Chart.text`), each line ending in a newline.
    public let text: String

    public init(image: GreyImage, description: String, text: String) {
        self.image = image
        self.description = description
        self.text = text
    }

    /// The pixels as an 8-bit PNG file's bytes, encoded when a host asks (a terminal never does).
    public var png: [UInt8] { image.pngData() }
}
