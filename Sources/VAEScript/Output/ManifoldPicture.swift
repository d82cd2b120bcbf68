/// `manifold`'s picture: a grid of decoded pictures laid out as the latent plane, with the z
/// value of every column (and row) on the axes.
///
/// Rows run from the largest value of the second dimension at the top to the smallest at the
/// bottom, as a plot's y axis does; a one-row grid (Z = 1) has no y axis.
struct ManifoldPicture {
    /// Tiles without padding, row 0 at the top.
    var grid: ImageGrid
    /// The z values of the columns, left to right (and of the rows, bottom to top).
    var values: [Double]
    var xTitle: String
    var yTitle: String?

    static let marginLeft = 72, marginTop = 24, marginBottom = 52, marginRight = 16

    /// The grid on white with ticks at the tiles' centres, labelled in z units; labels that would
    /// touch are thinned to every k-th.
    func image() -> ColourImage {
        let picture = ColourImage(grid.image())
        let left = Self.marginLeft, top = Self.marginTop
        var canvas = Canvas(width: left + picture.width + Self.marginRight, height: top + picture.height + Self.marginBottom)
        canvas.draw(picture, x: left, y: top)
        let ink = RGB(40, 40, 40)
        let labels = values.map { Canvas.tickLabel($0, decimals: 2) }
        let widest = labels.map { Canvas.textWidth($0) }.max() ?? 0
        let xEvery = max(1, (widest + 8 + grid.tileWidth - 1) / grid.tileWidth)
        for (column, label) in labels.enumerated() where column % xEvery == 0 || column == labels.count - 1 && xEvery == 1 {
            let x = left + column * grid.tileWidth + grid.tileWidth / 2
            canvas.line(from: (x, top + picture.height), to: (x, top + picture.height + 4), ink, thin: true)
            canvas.text(label, x: x - Canvas.textWidth(label) / 2, y: top + picture.height + 8, ink)
        }
        canvas.text(xTitle, x: left + (picture.width - Canvas.textWidth(xTitle)) / 2, y: top + picture.height + 30, ink)
        if let yTitle, grid.rows > 1 {
            let yEvery = max(1, (Canvas.textHeight() + 6 + grid.tileHeight - 1) / grid.tileHeight)
            for row in 0..<grid.rows where row % yEvery == 0 {
                let y = top + row * grid.tileHeight + grid.tileHeight / 2
                let label = labels[grid.rows - 1 - row]
                canvas.line(from: (left - 4, y), to: (left, y), ink, thin: true)
                canvas.text(label, x: left - 8 - Canvas.textWidth(label), y: y - 5, ink)
            }
            canvas.text(yTitle, x: 4, y: 6, ink)
        }
        return canvas.image
    }

    /// The grid in characters, shrunk as one picture to fit `width` (a grid cut into bands would
    /// no longer read as a plane), with the axes' values in words below.
    func text(style: TerminalPicture.Style, width: Int) -> String {
        let whole = grid.image()
        let factor = whole.width <= width ? 1 : (whole.width + width - 1) / width  // no overflow for an unlimited width
        var text = TerminalPicture.render(whole.downsampled(by: factor), style: style, width: width)
        let across = values.map { Format.fixed($0, decimals: 2) }.joined(separator: " ")
        text += TextLayout.wrapLines("columns, left to right, \(xTitle.lowercased()) = \(across)\n", width: width)
        if let yTitle, grid.rows > 1 {
            text += TextLayout.wrapLines("rows, bottom to top, \(yTitle.lowercased()) = the same values\n", width: width)
        }
        if factor > 1 { text += "(shrunk \(factor)× to fit \(width) columns; out=FILE.png has every pixel)\n" }
        return text
    }
}
