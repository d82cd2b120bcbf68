import Foundation

/// Pictures as real images in a terminal that draws them: the escape sequences of kitty's
/// graphics protocol, iTerm2's inline images and DEC sixel, and how to tell from a terminal's
/// answers which one it speaks.
///
/// Only encoding and parsing live here: the shell owns the terminal, asks the questions
/// (`detectionQuery`) and reads the answers (`ImageProtocol.detect`), and a sink that knows the
/// protocol writes `encode` instead of the characters. Nothing here is ever sent to a pipe or a
/// file: the shell asks only when stdin and stdout are terminals that take escape sequences.
public enum ImageProtocol: String, Sendable, CaseIterable {
    /// kitty's graphics protocol (https://sw.kovidgoyal.net/kitty/graphics-protocol/): also
    /// Ghostty, WezTerm, Konsole.
    case kitty
    /// iTerm2's inline images (https://iterm2.com/documentation-images.html): also WezTerm, mintty.
    case iterm
    /// DEC sixel graphics (VT340; xterm -ti vt340, foot, mlterm, WezTerm, Windows Terminal).
    case sixel

    // MARK: - Encoding

    /// The escape sequences that draw `picture` at the cursor, followed by a newline.
    public func encode(_ picture: Picture) -> String {
        switch self {
        case .kitty: Self.kitty(png: picture.png)
        case .iterm: Self.iterm(png: picture.png)
        case .sixel: Self.sixel(picture.pixels)
        }
    }

    /// kitty: "transmit and display" (a=T) of a PNG (f=100), with replies suppressed (q=2: the
    /// terminal would otherwise answer on our stdin, where the answer would be read as typing).
    /// The base64 is cut into chunks of at most 4096 bytes, each a multiple of 4 but the last;
    /// the first carries the keys, every one carries m=1 but the last, which carries m=0; the
    /// later chunks carry only m (and q, which the spec allows there too).
    static func kitty(png: [UInt8]) -> String {
        let encoded = Data(png).base64EncodedString()
        var text = ""
        var start = encoded.startIndex
        var first = true
        repeat {
            let end = encoded.index(start, offsetBy: 4096, limitedBy: encoded.endIndex) ?? encoded.endIndex
            let more = end < encoded.endIndex
            text += "\u{1B}_G" + (first ? "a=T,f=100,q=2," : "q=2,") + "m=\(more ? 1 : 0);" + encoded[start..<end] + "\u{1B}\\"
            first = false
            start = end
        } while start < encoded.endIndex
        return text + "\n"
    }

    /// iTerm2: OSC 1337 ; File=[arguments] : base64 BEL, with inline=1 (show rather than
    /// download), size= the file's bytes, and the picture at its own pixel size.
    static func iterm(png: [UInt8]) -> String {
        "\u{1B}]1337;File=inline=1;size=\(png.count);preserveAspectRatio=1:" + Data(png).base64EncodedString() + "\u{07}\n"
    }

    /// Sixel: DCS 0;1;0 q (P2 = 1: pixels left 0 keep the background), raster attributes
    /// "1;1;W;H (square pixels), a palette of at most 256 colour registers #n;2;r;g;b in percent,
    /// then bands six pixel rows tall: for each colour in the band, #n and one character per
    /// column, 63 + the column's six bits (the top row the lowest bit), runs of four or more as
    /// !count; `$` returns to the band's start for the next colour, `-` moves to the next band; ST.
    static func sixel(_ pixels: Picture.Pixels) -> String {
        let (width, height, colours) = sixelPixels(pixels)
        // The palette: greys as 64 levels, colours as the 6×6×6 cube: at most 64 + 216 registers
        // would be too many, so greys share the cube's six grey levels plus 58 ramp steps only
        // when the picture is grey. Register numbers are assigned in order of first use.
        var registers: [RGB: Int] = [:]
        var palette: [RGB] = []
        let quantised = colours.map { colour -> Int in
            let key = sixelQuantise(colour, greyOnly: pixels.isGrey)
            if let register = registers[key] { return register }
            registers[key] = palette.count
            palette.append(key)
            return palette.count - 1
        }
        var text = "\u{1B}P0;1;0q\"1;1;\(width);\(height)"
        for (register, colour) in palette.enumerated() {
            let percent = { (value: UInt8) in (Int(value) * 100 + 127) / 255 }
            text += "#\(register);2;\(percent(colour.red));\(percent(colour.green));\(percent(colour.blue))"
        }
        for bandTop in stride(from: 0, to: height, by: 6) {
            let rows = bandTop..<min(height, bandTop + 6)
            var used: [Int] = []
            var seen = Set<Int>()
            for y in rows { for x in 0..<width where seen.insert(quantised[y * width + x]).inserted { used.append(quantised[y * width + x]) } }
            for (offset, register) in used.enumerated() {
                if offset > 0 { text += "$" }
                text += "#\(register)"
                var run: (character: Character, count: Int)?
                func flush() {
                    guard let (character, count) = run else { return }
                    text += count >= 4 ? "!\(count)\(character)" : String(repeating: character, count: count)
                }
                for x in 0..<width {
                    var bits = 0
                    for y in rows where quantised[y * width + x] == register { bits |= 1 << (y - bandTop) }
                    let character = Character(Unicode.Scalar(UInt8(63 + bits)))
                    if run?.character == character { run?.count += 1 } else { flush(); run = (character, 1) }
                }
                flush()
            }
            if rows.upperBound < height { text += "-" }
        }
        return text + "\u{1B}\\\n"
    }

    private static func sixelPixels(_ pixels: Picture.Pixels) -> (Int, Int, [RGB]) {
        switch pixels {
        case .grey(let image): (image.width, image.height, image.pixels.map(RGB.init(grey:)))
        case .colour(let image): (image.width, image.height, image.pixels)
        }
    }

    /// A grey picture keeps 64 grey levels; a colour one goes onto the 6×6×6 cube (216 registers),
    /// whose greys cover the axes and the white background exactly.
    private static func sixelQuantise(_ colour: RGB, greyOnly: Bool) -> RGB {
        if greyOnly {
            let index: Int = (Int(colour.red) * 63 + 127) / 255
            let level = UInt8(index * 255 / 63)
            return RGB(level, level, level)
        }
        let step = { (value: UInt8) -> UInt8 in
            let index: Int = (Int(value) * 5 + 127) / 255
            return UInt8(index * 51)
        }
        return RGB(step(colour.red), step(colour.green), step(colour.blue))
    }

    // MARK: - Detection

    /// What the shell writes to ask the terminal, all at once: kitty's query (a 1×1 RGB image,
    /// a=q: checked, never stored or shown), XTVERSION (CSI > q: the terminal's name, which is how
    /// iTerm2 and WezTerm make themselves known), and Primary Device Attributes (CSI c), which
    /// every terminal answers, last: once its answer is in, every other answer that is coming
    /// has come (the method kitty's documentation recommends).
    public static let detectionQuery = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\" + "\u{1B}[>q" + "\u{1B}[c"

    /// Whether `answer` holds the answer to Primary Device Attributes (`ESC [ ? … c`): the end of
    /// the terminal's replies.
    public static func answerIsComplete(_ answer: [UInt8]) -> Bool {
        guard let start = find([0x1B, 0x5B, 0x3F], in: answer) else { return false }
        return answer[(start + 3)...].contains { $0 == UInt8(ascii: "c") }
    }

    /// The protocol the terminal's `answer` to `detectionQuery` shows, best first: kitty if it
    /// answered the graphics query OK, iTerm2 if its XTVERSION names iTerm2 or WezTerm, sixel if
    /// its device attributes list 4 (sixel graphics); nil for none of them.
    public static func detect(answer: [UInt8]) -> ImageProtocol? {
        let text = String(decoding: answer, as: UTF8.self)
        if text.contains("\u{1B}_Gi=31;OK") { return .kitty }
        if let version = text.range(of: "\u{1B}P>|") {
            let name = text[version.upperBound...].prefix { $0 != "\u{1B}" }.lowercased()
            if name.hasPrefix("iterm2") || name.hasPrefix("wezterm") { return .iterm }
        }
        if let attributes = text.range(of: "\u{1B}[?") {
            let body = text[attributes.upperBound...].prefix { $0 != "c" }
            if body.split(separator: ";").contains("4") { return .sixel }
        }
        return nil
    }

    /// `bytes` read while waiting for the answers, split into the terminal's answers and what the
    /// user typed meanwhile (type-ahead, which belongs to the line editor). Answers are the string
    /// sequences (APC `ESC _`, DCS `ESC P`, OSC `ESC ]`, up to ST `ESC \` or BEL) and the control
    /// sequences with a private marker (`ESC [ ?` and `ESC [ >`, up to their final byte); keys
    /// never send those. Everything else, arrow keys' `ESC [ A` included, is typing, in order.
    public static func separateTyping(_ bytes: [UInt8]) -> (answers: [UInt8], typed: [UInt8]) {
        let escape: UInt8 = 0x1B, bell: UInt8 = 0x07
        var answers: [UInt8] = [], typed: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == escape, i + 1 < bytes.count else {
                typed.append(bytes[i])
                i += 1
                continue
            }
            var end: Int?  // one past the answer that starts at i
            switch bytes[i + 1] {
            case UInt8(ascii: "_"), UInt8(ascii: "P"), UInt8(ascii: "]"):
                var j = i + 2
                while j < bytes.count, end == nil {
                    if bytes[j] == bell {
                        end = j + 1
                    } else if bytes[j] == escape, j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "\\") {
                        end = j + 2
                    }
                    j += 1
                }
                end = end ?? bytes.count  // cut off at the deadline: still the terminal's
            case UInt8(ascii: "[") where i + 2 < bytes.count && (bytes[i + 2] == UInt8(ascii: "?") || bytes[i + 2] == UInt8(ascii: ">")):
                let final = bytes[(i + 3)...].firstIndex { (0x40...0x7E).contains($0) }
                end = final.map { $0 + 1 } ?? bytes.count
            default:
                break
            }
            if let end {
                answers += bytes[i..<end]
                i = end
            } else {
                typed.append(bytes[i])
                i += 1
            }
        }
        return (answers, typed)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}

extension Picture.Pixels {
    /// Whether every pixel is a grey.
    var isGrey: Bool {
        switch self {
        case .grey: true
        case .colour(let image): image.pixels.allSatisfy(\.isGrey)
        }
    }
}
