/// A picture a command shows: its pixels, what it shows in words, and the same picture drawn in
/// characters.
///
/// A terminal or a log gets the characters (`OutputSink.show`'s default); a host that shows
/// pictures itself (a notebook) takes the pixels as PNG and the description as their text form.
/// Commands put pictures into their `Report` with `addPicture`, so the host decides, not them.
public struct Picture: Sendable {
    /// The pixels, as `out=FILE.png` would write them: grey (digits, curves) or colour (a scatter
    /// coloured by label).
    public enum Pixels: Sendable {
        case grey(GreyImage)
        case colour(ColourImage)
    }

    public let pixels: Pixels
    /// What the picture shows, on one line, with its size: a notebook's `text/plain`.
    public let description: String
    /// The picture in characters (`TerminalPicture`, `Chart.text`, `ScatterText`), each line ending in a newline.
    public let text: String

    public init(image: GreyImage, description: String, text: String) {
        self.init(pixels: .grey(image), description: description, text: text)
    }

    public init(image: ColourImage, description: String, text: String) {
        self.init(pixels: .colour(image), description: description, text: text)
    }

    public init(pixels: Pixels, description: String, text: String) {
        self.pixels = pixels
        self.description = description
        self.text = text
    }

    public var width: Int {
        switch pixels {
        case .grey(let image): image.width
        case .colour(let image): image.width
        }
    }

    public var height: Int {
        switch pixels {
        case .grey(let image): image.height
        case .colour(let image): image.height
        }
    }

    /// The pixels as an 8-bit PNG file's bytes, encoded when a host asks (a terminal may, to draw
    /// it with an image protocol; a log never does).
    public var png: [UInt8] {
        switch pixels {
        case .grey(let image): image.pngData()
        case .colour(let image): image.pngData()
        }
    }
}
