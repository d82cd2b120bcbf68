import Foundation

/// A scatter of points in a square, centred view, coloured by label, with circles about the
/// origin: `latent`'s picture of the posterior means and the prior's 1σ and 2σ circles.
///
/// Drawn two ways from the same points: a colour picture with a title, axes, ticks and a legend
/// (`image`), and characters (`text`): braille dots in colour on a terminal (each character is
/// 2×4 dots, and a terminal cell is about twice as tall as wide, so a dot is square and a circle
/// stays round), or one character per cell without colour (the label's digit or letter, `*`
/// without labels, `.` on a circle) for `NO_COLOR`, `TERM=dumb` and logs.
struct ScatterPlot {
    var xs: [Double]
    var ys: [Double]
    /// One label per point; nil draws every point in one colour.
    var labels: [Int]?
    /// Capitals: the PNG font has no lower case.
    var title: String
    var xTitle: String
    var yTitle: String
    /// Radii of the dashed circles about the origin, in data units.
    var circles: [Double] = [1, 2]

    /// Half the side of the view: at least 2.5 (the 2σ circle and a margin), else the largest
    /// |coordinate| and 5% more, so no point is ever outside the picture.
    var extent: Double {
        let largest = zip(xs, ys).reduce(0.0) { max($0, abs($1.0).isFinite ? abs($1.0) : 0, abs($1.1).isFinite ? abs($1.1) : 0) }
        return max(2.5, 1.05 * largest)
    }

    /// The labels present, ascending, with how many points carry each.
    var legend: [(label: Int, count: Int)] {
        guard let labels else { return [] }
        var counts: [Int: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        return counts.keys.sorted().map { ($0, counts[$0] ?? 0) }
    }

    /// matplotlib's "tab10" for labels 0…9 (what the Keras example's `plot_label_clusters` shows);
    /// beyond, hues a golden angle apart. Without labels, tab10's blue.
    static func colour(label: Int?) -> RGB {
        let tab10 = [RGB(31, 119, 180), RGB(255, 127, 14), RGB(44, 160, 44), RGB(214, 39, 40), RGB(148, 103, 189),
                     RGB(140, 86, 75), RGB(227, 119, 194), RGB(127, 127, 127), RGB(188, 189, 34), RGB(23, 190, 207)]
        guard let label else { return tab10[0] }
        if (0..<10).contains(label) { return tab10[label] }
        let hue = (Double(label) * 137.508).truncatingRemainder(dividingBy: 360) / 60
        let x = 1 - abs(hue.truncatingRemainder(dividingBy: 2) - 1)
        let (r, g, b): (Double, Double, Double) = switch Int(hue) {
        case 0: (1, x, 0)
        case 1: (x, 1, 0)
        case 2: (0, 1, x)
        case 3: (0, x, 1)
        case 4: (x, 0, 1)
        default: (1, 0, x)
        }
        return RGB(UInt8(40 + 180 * r), UInt8(40 + 180 * g), UInt8(40 + 180 * b))
    }

    /// The character a label is drawn with in plain text: 0–9, then a–z, then `#`.
    static func symbol(label: Int?) -> Character {
        guard let label else { return "*" }
        if (0..<10).contains(label) { return Character(String(label)) }
        if (10..<36).contains(label), let scalar = Unicode.Scalar(UInt32(87 + label)) { return Character(scalar) }
        return "#"
    }

    // MARK: - Picture

    static let plotSide = 420, marginLeft = 64, marginTop = 56, marginBottom = 56, legendWidth = 120

    /// The scatter as a colour picture: the title above, the square plot with its axes, ticks
    /// and labels, the legend to the right.
    func image() -> ColourImage {
        let side = Self.plotSide, left = Self.marginLeft, top = Self.marginTop
        let width = max(left + side + Self.legendWidth, Canvas.textWidth(title) + 24)
        var canvas = Canvas(width: width, height: top + side + Self.marginBottom)
        let ink = RGB(40, 40, 40), faint = RGB(150, 150, 150)
        canvas.text(title, x: 12, y: 14, ink)
        let extent = self.extent
        func pixel(_ x: Double, _ y: Double) -> (Double, Double) {
            (Double(left) + (x + extent) / (2 * extent) * Double(side), Double(top) + (extent - y) / (2 * extent) * Double(side))
        }
        // Frame, ticks and their labels.
        canvas.line(from: (left, top), to: (left, top + side), ink, thin: true)
        canvas.line(from: (left, top + side), to: (left + side, top + side), ink, thin: true)
        canvas.line(from: (left, top), to: (left + side, top), faint, thin: true)
        canvas.line(from: (left + side, top), to: (left + side, top + side), faint, thin: true)
        let ticks = Canvas.ticks(low: -extent, high: extent, target: 6)
        let decimals = Canvas.tickDecimals(step: ticks.count > 1 ? ticks[1] - ticks[0] : 1)
        for value in ticks {
            let (px, py) = pixel(value, value)
            let label = Canvas.tickLabel(value, decimals: decimals)
            canvas.line(from: (Int(px), top + side), to: (Int(px), top + side + 5), ink, thin: true)
            canvas.text(label, x: Int(px) - Canvas.textWidth(label) / 2, y: top + side + 9, ink)
            canvas.line(from: (left - 5, Int(py)), to: (left, Int(py)), ink, thin: true)
            canvas.text(label, x: left - 9 - Canvas.textWidth(label), y: Int(py) - 5, ink)
        }
        canvas.text(xTitle, x: left + (side - Canvas.textWidth(xTitle)) / 2, y: top + side + 30, ink)
        canvas.text(yTitle, x: 8, y: top - 18, ink)
        // The axes through the origin, and the circles.
        let origin = pixel(0, 0)
        canvas.line(from: (left, Int(origin.1)), to: (left + side, Int(origin.1)), RGB(225, 225, 225), thin: true)
        canvas.line(from: (Int(origin.0), top), to: (Int(origin.0), top + side), RGB(225, 225, 225), thin: true)
        for radius in circles {
            canvas.circle(center: origin, radius: radius / (2 * extent) * Double(side), faint, dashed: true)
        }
        // The points, in their order (the data's, which mixes the labels), each a small disc.
        for index in xs.indices where xs[index].isFinite && ys[index].isFinite {
            let (px, py) = pixel(xs[index], ys[index])
            canvas.dot((Int(px.rounded()), Int(py.rounded())), radius: 1, Self.colour(label: labels?[index]))
        }
        // The circles' names, on top, where the circles cross the upper axis at 45°.
        for radius in circles {
            let (px, py) = pixel(radius * 0.7071, radius * 0.7071)
            canvas.text("\(Format.general(radius))σ", x: Int(px) + 3, y: Int(py) - 12, faint)
        }
        // Legend.
        let legendLeft = left + side + 16
        var y = top
        for (label, count) in legend.prefix((side - 10) / 16) {
            canvas.dot((legendLeft + 4, y + 4), radius: 4, Self.colour(label: label))
            canvas.text("\(label) (\(count))", x: legendLeft + 14, y: y, ink)
            y += 16
        }
        if legend.count > (side - 10) / 16 { canvas.text("...", x: legendLeft + 14, y: y, ink) }
        return canvas.image
    }

    // MARK: - Text

    /// The scatter in characters, `columns` wide for the plot (the tick labels and the frame add 8),
    /// with the legend below; every line ends in a newline. The caption under the axis may be wider
    /// than the plot; it is split in two when it would not fit in `lineWidth`.
    func text(colour: Bool, columns requested: Int, lineWidth: Int = TextLayout.unlimited) -> String {
        let columns = max(10, requested - requested % 2), rows = columns / 2
        let dotColumns = 2 * columns, dotRows = 4 * rows
        let extent = self.extent
        var dataMask = [UInt8](repeating: 0, count: rows * columns), circleMask = dataMask
        var counts = [[Int: Int]](repeating: [:], count: rows * columns)
        func dot(_ x: Double, _ y: Double) -> (column: Int, row: Int)? {
            let column = Int(((x + extent) / (2 * extent) * Double(dotColumns)).rounded(.down))
            let row = Int(((extent - y) / (2 * extent) * Double(dotRows)).rounded(.down))
            guard (0..<dotColumns).contains(column), (0..<dotRows).contains(row) else { return nil }
            return (column, row)
        }
        // Braille dot bits for (column within the cell, row within the cell).
        let bits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
        for radius in circles {
            for step in 0..<720 {
                let angle = Double(step) * Double.pi / 360
                guard let (column, row) = dot(radius * cos(angle), radius * sin(angle)) else { continue }
                circleMask[(row / 4) * columns + column / 2] |= bits[column % 2][row % 4]
            }
        }
        for index in xs.indices where xs[index].isFinite && ys[index].isFinite {
            guard let (column, row) = dot(xs[index], ys[index]) else { continue }
            let cell = (row / 4) * columns + column / 2
            dataMask[cell] |= bits[column % 2][row % 4]
            counts[cell][labels?[index] ?? -1, default: 0] += 1
        }
        let ticks = [extent, 0, -extent].map { Format.fixed($0, decimals: 1) }
        let labelWidth = ticks.map(\.count).max() ?? 3
        var text = ""
        for row in 0..<rows {
            let label = row == 0 ? ticks[0] : row == rows / 2 ? ticks[1] : row == rows - 1 ? ticks[2] : ""
            var line = String(repeating: " ", count: labelWidth - label.count) + label + (label.isEmpty ? " │" : " ┤")
            var current: Int?
            for column in 0..<columns {
                let cell = row * columns + column
                // The label most points in the cell carry (the smallest on a tie, so it is stable).
                let majority = counts[cell].max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
                let hasData = dataMask[cell] != 0
                if colour {
                    let paint = hasData ? Self.colour(label: majority == -1 ? nil : majority).paletteIndex : 245
                    if hasData || circleMask[cell] != 0, current != paint {
                        line += "\u{1B}[38;5;\(paint)m"
                        current = paint
                    }
                    let mask = hasData ? dataMask[cell] : circleMask[cell]
                    line.unicodeScalars.append(Unicode.Scalar(0x2800 + UInt32(mask)) ?? " ")
                } else {
                    line.append(hasData ? Self.symbol(label: majority == -1 ? nil : majority) : circleMask[cell] != 0 ? "." : " ")
                }
            }
            if colour, current != nil { line += "\u{1B}[0m" }
            if !colour { while line.last == " " { line.removeLast() } }
            text += line + "\n"
        }
        let pad = String(repeating: " ", count: labelWidth + 1)
        text += pad + "└" + String(repeating: "─", count: columns) + "\n"
        let left = ticks[2], middle = ticks[1], right = ticks[0]
        let gapLeft = max(1, columns / 2 - left.count - middle.count / 2)
        let gapRight = max(1, columns - left.count - gapLeft - middle.count - right.count)
        text += pad + " " + left + String(repeating: " ", count: gapLeft) + middle + String(repeating: " ", count: gapRight) + right + "\n"
        let axes = "x: " + xTitle.lowercased() + ", y: " + yTitle.lowercased()
        let circleNames = "dashed circles: the prior's " + circles.map { "\(Format.general($0))σ" }.joined(separator: " and ")
        let caption = pad + " " + axes + "; " + circleNames
        text += caption.count <= lineWidth ? caption + "\n" : pad + " " + axes + ";\n" + pad + " " + circleNames + "\n"
        if !legend.isEmpty {
            var line = pad + " "
            for (label, count) in legend {
                // In plain text a label is its own symbol up to 9; beyond, the symbol says which it stands for.
                let symbol = String(Self.symbol(label: label))
                let name = (colour ? "● " : symbol == String(label) ? "" : symbol + " = ") + "\(label) (\(Format.grouped(count)))"
                let entry = colour ? "\u{1B}[38;5;\(Self.colour(label: label).paletteIndex)m●\u{1B}[0m" + name.dropFirst() : name
                let visible = name.count
                if line.count > pad.count + 1, visibleCount(line) + visible + 2 > columns + labelWidth + 2 {
                    text += line + "\n"
                    line = pad + " "
                }
                line += (line.count > pad.count + 1 ? "  " : "") + entry
            }
            text += line + "\n"
        }
        return text
    }

    /// Characters a terminal shows: escape sequences take no room.
    private func visibleCount(_ line: String) -> Int {
        var count = 0, inEscape = false
        for scalar in line.unicodeScalars {
            if scalar == "\u{1B}" { inEscape = true; continue }
            if inEscape { if scalar == "m" { inEscape = false }; continue }
            count += 1
        }
        return count
    }
}
