import VAEKit

/// Pictures as text, so samples and reconstructions show up inline in a terminal or a log.
///
/// - `halfBlocks` (a colour terminal): each character is `▀` with the upper pixel as the
///   foreground and the lower pixel as the background, in the 256-colour palette's greys. One
///   character is one pixel wide and two tall, which matches a terminal cell's 1:2 shape.
/// - `ascii` (`NO_COLOR`, or output that is not a terminal): one character per pixel column and
///   two pixel rows, the pair's mean mapped onto ten shades `" .:-=+*#%@"`.
///
/// Tiles wider than 16 pixels are shrunk by block averaging (MNIST's 28×28 becomes 14×14, seven
/// lines), so a row of eight digits fits in 120 columns. A grid wider than the terminal is cut
/// into bands of columns, one below the other, so a column keeps its tiles together (an original
/// stays above its reconstruction).
public enum TerminalPicture {
    public enum Style: Sendable, Equatable {
        case halfBlocks
        case ascii
    }

    /// Ten shades from black to white.
    public static let asciiShades: [Character] = Array(" .:-=+*#%@")

    /// The style a session's output calls for: half-blocks on a colour terminal, ASCII otherwise.
    public static func style(for session: Session) -> Style {
        session.usesColor ? .halfBlocks : .ascii
    }

    /// The columns available: the terminal's width as the shell reports it
    /// (`SessionOptions.terminalWidth`), else 80. Output that is not a terminal always gets 80, so
    /// logs and tests do not depend on where they were made; so does a width under 20.
    public static func availableWidth(for session: Session) -> Int {
        guard session.options.isTerminal, let columns = session.options.terminalWidth(), columns >= 20 else { return 80 }
        return columns
    }

    /// The shrink factor for tiles this wide: 1 up to 16 pixels, 2 up to 32 (MNIST), and so on.
    public static func shrinkFactor(tileWidth: Int) -> Int {
        max(1, (tileWidth + 15) / 16)
    }

    /// The grid as lines of text, each ending in a newline, at most `width` characters wide.
    public static func render(_ grid: ImageGrid, style: Style, width: Int = 80) -> String {
        let factor = shrinkFactor(tileWidth: grid.tileWidth)
        let tiles = grid.tiles.map { $0?.downsampled(by: factor) }
        let tileWidth = (grid.tileWidth + factor - 1) / factor
        let tileHeight = (grid.tileHeight + factor - 1) / factor
        let linesPerTile = (tileHeight + 1) / 2
        let tilesPerBand = max(1, min(grid.columns, (width + 1) / (tileWidth + 1)))

        var text = ""
        var bandStart = 0
        while bandStart < grid.columns {
            let bandColumns = bandStart..<min(grid.columns, bandStart + tilesPerBand)
            if bandStart > 0 { text += "\n" }
            for row in 0..<grid.rows {
                if row > 0 { text += "\n" }
                for line in 0..<linesPerTile {
                    var cells: [String] = []
                    for column in bandColumns {
                        let index = row * grid.columns + column
                        let tile = index < tiles.count ? tiles[index] : nil
                        cells.append(renderLine(tile, line: line, width: tileWidth, style: style))
                    }
                    var joined = cells.joined(separator: " ")
                    if style == .ascii { while joined.last == " " { joined.removeLast() } }
                    text += joined + "\n"
                }
            }
            bandStart = bandColumns.upperBound
        }
        return text
    }

    /// One picture on its own.
    public static func render(_ image: GreyImage, style: Style, width: Int = 80) -> String {
        render(ImageGrid(tileWidth: image.width, tileHeight: image.height, columns: 1, tiles: [image]), style: style, width: width)
    }

    /// Text line `line` of a tile (pixel rows 2·line and 2·line + 1); a blank cell for nil.
    private static func renderLine(_ tile: GreyImage?, line: Int, width: Int, style: Style) -> String {
        guard let tile else { return String(repeating: " ", count: width) }
        let top = 2 * line, bottom = 2 * line + 1
        var text = ""
        switch style {
        case .ascii:
            for x in 0..<width {
                let upper = clamped(tile[x, top])
                let lower = bottom < tile.height ? clamped(tile[x, bottom]) : upper
                text.append(shade((upper + lower) / 2))
            }
        case .halfBlocks:
            var current: (Int, Int)?
            for x in 0..<width {
                let upper = paletteGrey(GreyImage.greyLevel(tile[x, top]))
                let lower = bottom < tile.height ? paletteGrey(GreyImage.greyLevel(tile[x, bottom])) : 16
                if current.map({ $0 != (upper, lower) }) ?? true {
                    text += "\u{1B}[38;5;\(upper);48;5;\(lower)m"
                    current = (upper, lower)
                }
                text += "▀"
            }
            text += "\u{1B}[0m"
        }
        return text
    }

    /// [0, 1], NaN as 0.
    private static func clamped(_ value: Float) -> Float {
        value == value ? min(max(value, 0), 1) : 0
    }

    /// The ASCII shade of a value in [0, 1].
    static func shade(_ value: Float) -> Character {
        let index = Int((clamped(value) * Float(asciiShades.count - 1)).rounded())
        return asciiShades[min(max(index, 0), asciiShades.count - 1)]
    }

    /// The nearest grey of the xterm 256-colour palette to a level 0…255: 16 is black, 231 white,
    /// and 232…255 the ramp 8, 18, …, 238.
    static func paletteGrey(_ level: UInt8) -> Int {
        let value = Int(level)
        var best = (index: 16, distance: value)
        if 255 - value < best.distance { best = (231, 255 - value) }
        let step = min(23, max(0, Int((Double(value - 8) / 10).rounded())))
        let rampDistance = abs(8 + 10 * step - value)
        if rampDistance < best.distance { best = (232 + step, rampDistance) }
        return best.index
    }
}
