import Foundation

/// The one small renderer every chart draws with: a picture to put lines, dots, circles, capital
/// text, axes with ticks and other pictures on. `curves`, `latent` and `manifold` all use it, so
/// their PNGs read the same: the same font, tick style and margins.
///
/// The font is 3×5 pixels per character, drawn `size` times larger (2 by default: 8 pixels per
/// character with the gap, 10 tall; 3 for titles meant to be read on a projector). It has
/// capitals, digits, σ, μ and the punctuation numbers and labels need; lower case is drawn as
/// capitals and a character it lacks as a blank.
struct Canvas {
    private(set) var image: ColourImage

    init(width: Int, height: Int, background: RGB = .white) {
        image = ColourImage(width: width, height: height, fill: background)
    }

    /// The picture in greys (a chart drawn in greys only: `curves`), as its luminance.
    var greyImage: GreyImage {
        GreyImage(width: image.width, height: image.height,
                  pixels: image.pixels.map { (0.299 * Float($0.red) + 0.587 * Float($0.green) + 0.114 * Float($0.blue)) / 255 })
    }

    mutating func plot(_ x: Int, _ y: Int, _ colour: RGB) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        image[x, y] = colour
    }

    mutating func plot(_ x: Int, _ y: Int, grey: Float) { plot(x, y, RGB(grey: grey)) }

    /// A filled rectangle.
    mutating func fill(x: Int, y: Int, width: Int, height: Int, _ colour: RGB) {
        for row in max(0, y)..<max(max(0, y), min(image.height, y + height)) {
            for column in max(0, x)..<max(max(0, x), min(image.width, x + width)) { image[column, row] = colour }
        }
    }

    /// A line two pixels thick (Bresenham); a dashed one is drawn 6 on, 4 off.
    mutating func line(from start: (Int, Int), to end: (Int, Int), _ colour: RGB, dashed: Bool = false, thin: Bool = false) {
        var (x, y) = start
        let dx = abs(end.0 - x), dy = -abs(end.1 - y)
        let sx = x < end.0 ? 1 : -1, sy = y < end.1 ? 1 : -1
        var error = dx + dy, step = 0
        while true {
            if !dashed || step % 10 < 6 {
                plot(x, y, colour)
                if !thin { plot(x + 1, y, colour); plot(x, y + 1, colour) }
            }
            if x == end.0 && y == end.1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
            step += 1
        }
    }

    mutating func line(from start: (Int, Int), to end: (Int, Int), grey: Float, dashed: Bool) {
        line(from: start, to: end, RGB(grey: grey), dashed: dashed)
    }

    /// A filled disc of `radius` pixels (radius 2 is a 5×5 square's inscribed disc plus corners:
    /// the 5×5 square the curves have always used).
    mutating func dot(_ center: (Int, Int), radius: Int = 2, _ colour: RGB) {
        for y in -radius...radius {
            for x in -radius...radius where radius == 2 || x * x + y * y <= radius * radius + radius {
                plot(center.0 + x, center.1 + y, colour)
            }
        }
    }

    mutating func dot(_ center: (Int, Int), grey: Float) { dot(center, radius: 2, RGB(grey: grey)) }

    /// A circle's outline of `radius` pixels, 1 pixel thick; dashed: 12° on, 8° off.
    mutating func circle(center: (Double, Double), radius: Double, _ colour: RGB, dashed: Bool = false) {
        let steps = max(16, Int(2 * Double.pi * radius * 2))
        for step in 0..<steps {
            let angle = 2 * Double.pi * Double(step) / Double(steps)
            if dashed, Int(angle / (2 * Double.pi) * 18 * 20) % 20 >= 12 { continue }
            plot(Int((center.0 + radius * cos(angle)).rounded()), Int((center.1 - radius * sin(angle)).rounded()), colour)
        }
    }

    /// A picture copied in with its top left corner at (x, y).
    mutating func draw(_ picture: ColourImage, x: Int, y: Int) {
        for row in 0..<picture.height {
            for column in 0..<picture.width { plot(x + column, y + row, picture[column, row]) }
        }
    }

    // MARK: - Text

    /// `string` with its top left corner at (x, y), each font pixel drawn as a `size`×`size` block.
    mutating func text(_ string: String, x: Int, y: Int, _ colour: RGB, size: Int = 2) {
        for (index, character) in string.enumerated() {
            // Upper case for Latin letters only: σ must not become Σ.
            guard let glyph = Self.font[character] ?? String(character).uppercased().first.flatMap({ Self.font[$0] }) else { continue }
            for (row, bits) in glyph.enumerated() {
                for (column, bit) in bits.enumerated() where bit == "#" {
                    fill(x: x + index * 4 * size + column * size, y: y + row * size, width: size, height: size, colour)
                }
            }
        }
    }

    mutating func text(_ string: String, x: Int, y: Int, grey: Float) { text(string, x: x, y: y, RGB(grey: grey)) }

    /// The width in pixels of `string` at `size`: 4·size per character less the last gap.
    static func textWidth(_ string: String, size: Int = 2) -> Int { max(0, string.count * 4 * size - size) }

    /// The height of a line of text at `size`.
    static func textHeight(size: Int = 2) -> Int { 5 * size }

    // MARK: - Axes

    /// Tick values for an axis from `low` to `high`: multiples of 1, 2 or 5 × 10^k, about `target`
    /// of them, all inside [low, high].
    static func ticks(low: Double, high: Double, target: Int = 5) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let rough = (high - low) / Double(max(1, target))
        let power = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        var values: [Double] = []
        var value = (low / step).rounded(.up) * step
        while value <= high + step * 1e-9 {
            values.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return values
    }

    /// A tick label: as few decimals as the step needs (`-2`, `0.5`, `1.28`).
    static func tickLabel(_ value: Double, decimals: Int) -> String {
        Format.fixed(value, decimals: decimals)
    }

    /// The decimals that tell ticks `step` apart.
    static func tickDecimals(step: Double) -> Int {
        step >= 1 ? 0 : min(4, Int(ceil(-log10(step) - 1e-9)))
    }

    /// Capitals, digits, σ, μ and the punctuation numbers need, five rows of three pixels each.
    static let font: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", ".##", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
        ".": ["...", "...", "...", "...", ".#."], "-": ["...", "...", "###", "...", "..."],
        "+": ["...", ".#.", "###", ".#.", "..."], "(": [".#.", "#..", "#..", "#..", ".#."],
        ")": [".#.", "..#", "..#", "..#", ".#."], "=": ["...", "###", "...", "###", "..."],
        "/": ["..#", "..#", ".#.", "#..", "#.."], " ": ["...", "...", "...", "...", "..."],
        "|": [".#.", ".#.", ".#.", ".#.", ".#."],
        "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
        "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
        "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
        "G": [".##", "#..", "#.#", "#.#", ".##"], "H": ["#.#", "#.#", "###", "#.#", "#.#"],
        "I": ["###", ".#.", ".#.", ".#.", "###"], "J": ["..#", "..#", "..#", "#.#", ".#."],
        "K": ["#.#", "#.#", "##.", "#.#", "#.#"], "L": ["#..", "#..", "#..", "#..", "###"],
        "M": ["#.#", "###", "###", "#.#", "#.#"], "N": ["##.", "#.#", "#.#", "#.#", "#.#"],
        "O": [".#.", "#.#", "#.#", "#.#", ".#."], "P": ["##.", "#.#", "##.", "#..", "#.."],
        "Q": [".#.", "#.#", "#.#", "##.", ".##"], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
        "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
        "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
        "W": ["#.#", "#.#", "###", "###", "#.#"], "X": ["#.#", "#.#", ".#.", "#.#", "#.#"],
        "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], "Z": ["###", "..#", ".#.", "#..", "###"],
        ",": ["...", "...", "...", ".#.", "#.."], ":": ["...", ".#.", "...", ".#.", "..."],
        "[": ["##.", "#..", "#..", "#..", "##."], "]": [".##", "..#", "..#", "..#", ".##"],
        "_": ["...", "...", "...", "...", "###"], "'": [".#.", ".#.", "...", "...", "..."],
        "%": ["#.#", "..#", ".#.", "#..", "#.#"], "*": ["...", "#.#", ".#.", "#.#", "..."],
        "<": ["..#", ".#.", "#..", ".#.", "..#"], ">": ["#..", ".#.", "..#", ".#.", "#.."],
        "Σ": ["###", "#..", ".#.", "#..", "###"], "−": ["...", "...", "###", "...", "..."],
        "σ": ["...", ".##", "#.#", "#.#", ".#."], "μ": ["...", "#.#", "#.#", "##.", "#.."],
        "×": ["...", "#.#", ".#.", "#.#", "..."], "²": ["##.", ".#.", "##.", "...", "..."],
    ]
}
