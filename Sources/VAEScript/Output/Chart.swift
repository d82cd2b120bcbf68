import VAEKit

/// Line charts of per-epoch numbers, for `curves`: as text for the terminal, and as a grey
/// picture for a PNG file.
///
/// Two series per panel at most: the first (train) is drawn solid and black, or `●` in text; the
/// second (test) dashed and grey, or `○`; where both fall on one text cell it shows `◉`.
struct ChartPanel {
    /// "LOSS", "RECON", "KL": the PNG's font has capitals, digits and a little punctuation only.
    var title: String
    /// Per epoch; nil where there is no value (no test split).
    var train: [Double?]
    var test: [Double?]

    var epochs: Int { max(train.count, test.count) }

    /// The smallest and largest finite value, widened when they coincide so the axis has a span.
    var valueRange: (low: Double, high: Double)? {
        let values = (train + test).compactMap { $0 }.filter(\.isFinite)
        guard let low = values.min(), let high = values.max() else { return nil }
        if high - low < 1e-9 * max(1, abs(high)) {
            let pad = max(0.5, abs(high) * 0.01)
            return (low - pad, high + pad)
        }
        return (low, high)
    }
}

enum Chart {
    // MARK: - Text

    /// The panel as text: a y axis with the top, middle and bottom values, one column per epoch
    /// (spread over up to `width` characters), and the epoch numbers under the x axis.
    static func text(_ panel: ChartPanel, width: Int = 80, height: Int = 10) -> String {
        guard let (low, high) = panel.valueRange else { return "(no finite values to plot)\n" }
        let epochs = panel.epochs
        let middleRow = (height - 1) / 2
        // The middle label is the value of its row, which is not the midpoint for an even height.
        let labels = [high, high - Double(middleRow) / Double(height - 1) * (high - low), low].map(axisLabel)
        let labelWidth = labels.map(\.count).max() ?? 1
        // Three columns per epoch, but at least 24 so a short run still reads as a slope.
        let plotWidth = max(1, min(max(epochs * 3 - 2, 24), width - labelWidth - 3))
        var cells = [[Character]](repeating: [Character](repeating: " ", count: plotWidth), count: height)

        func column(_ epoch: Int) -> Int {  // epoch from 0
            epochs <= 1 ? 0 : Int((Double(epoch) / Double(epochs - 1) * Double(plotWidth - 1)).rounded())
        }
        func row(_ value: Double) -> Int {
            Int(((high - value) / (high - low) * Double(height - 1)).rounded())
        }
        func mark(_ values: [Double?], _ symbol: Character) {
            for (epoch, value) in values.enumerated() {
                guard let value, value.isFinite else { continue }
                let r = min(max(row(value), 0), height - 1), c = column(epoch)
                let existing = cells[r][c]
                cells[r][c] = existing == " " || existing == symbol ? symbol : "◉"
            }
        }
        mark(panel.train, "●")
        mark(panel.test, "○")

        var text = ""
        for r in 0..<height {
            let label: String
            switch r {
            case 0: label = labels[0]
            case middleRow where height > 2: label = labels[1]
            case height - 1: label = labels[2]
            default: label = ""
            }
            let tick: Character = label.isEmpty ? "│" : "┤"
            var line = String(repeating: " ", count: labelWidth - label.count) + label + " " + String(tick) + String(cells[r])
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        text += String(repeating: " ", count: labelWidth + 1) + "└" + String(repeating: "─", count: plotWidth) + "\n"
        let first = "1", last = String(epochs)
        var axis = String(repeating: " ", count: labelWidth + 2) + first
        if epochs > 1 {
            axis += String(repeating: " ", count: max(1, plotWidth - first.count - last.count)) + last
        }
        text += axis + "  epoch\n"
        return text
    }

    /// Four significant figures, at most one decimal above 100: `545.2`, `-89.31`, `0.5123`.
    static func axisLabel(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 1000 ? 0 : magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3
        return Format.fixed(value, decimals: decimals)
    }

    // MARK: - Picture

    static let panelWidth = 300, panelHeight = 240
    /// Inside a panel: the plot area and its margins.
    static let plotLeft = 58, plotTop = 30, plotWidth = 226, plotHeight = 160

    /// The panels side by side on white, under a legend, with titles, axes and labels.
    static func image(_ panels: [ChartPanel]) -> GreyImage {
        let legendHeight = 26
        var canvas = Canvas(width: max(1, panels.count) * panelWidth, height: panelHeight + legendHeight)
        // Legend: a solid black segment for train, a dashed grey one for test.
        canvas.line(from: (12, 13), to: (40, 13), grey: 0, dashed: false)
        canvas.text("TRAIN", x: 46, y: 8, grey: 0)
        canvas.line(from: (110, 13), to: (138, 13), grey: 0.55, dashed: true)
        canvas.text("TEST", x: 144, y: 8, grey: 0)
        canvas.text("NATS PER EXAMPLE", x: 210, y: 8, grey: 0.3)
        for (index, panel) in panels.enumerated() {
            drawPanel(panel, on: &canvas, left: index * panelWidth, top: legendHeight)
        }
        return canvas.greyImage
    }

    private static func drawPanel(_ panel: ChartPanel, on canvas: inout Canvas, left: Int, top: Int) {
        let x0 = left + plotLeft, y0 = top + plotTop
        canvas.text(panel.title, x: x0, y: top + 8, grey: 0)
        // Axes.
        canvas.line(from: (x0, y0), to: (x0, y0 + plotHeight), grey: 0.3, dashed: false)
        canvas.line(from: (x0, y0 + plotHeight), to: (x0 + plotWidth, y0 + plotHeight), grey: 0.3, dashed: false)
        guard let (low, high) = panel.valueRange else {
            canvas.text("NO DATA", x: x0 + 20, y: y0 + plotHeight / 2, grey: 0.3)
            return
        }
        let epochs = panel.epochs
        func point(_ epoch: Int, _ value: Double) -> (Int, Int) {
            let x = epochs <= 1 ? x0 + plotWidth / 2 : x0 + 4 + Int(Double(epoch) / Double(epochs - 1) * Double(plotWidth - 8))
            let y = y0 + 4 + Int(((high - value) / (high - low) * Double(plotHeight - 8)).rounded())
            return (x, y)
        }
        // Y labels (top, middle, bottom) with ticks; X labels for the first and last epoch.
        for value in [high, (high + low) / 2, low] {
            let (_, y) = point(0, value)
            canvas.line(from: (x0 - 4, y), to: (x0, y), grey: 0.3, dashed: false)
            let label = axisLabel(value)
            canvas.text(label, x: x0 - 8 - Canvas.textWidth(label), y: y - 5, grey: 0)
        }
        for epoch in Set([0, epochs - 1]) {
            let (x, _) = point(epoch, low)
            canvas.line(from: (x, y0 + plotHeight), to: (x, y0 + plotHeight + 4), grey: 0.3, dashed: false)
            let label = String(epoch + 1)
            canvas.text(label, x: x - Canvas.textWidth(label) / 2, y: y0 + plotHeight + 8, grey: 0)
        }
        canvas.text("EPOCH", x: x0 + (plotWidth - Canvas.textWidth("EPOCH")) / 2, y: y0 + plotHeight + 22, grey: 0.3)
        // Series: the test one first, so the train line lies on top where they meet.
        for (values, grey, dashed) in [(panel.test, 0.55, true), (panel.train, 0.0, false)] {
            var previous: (Int, Int)?
            for (epoch, value) in values.enumerated() {
                guard let value, value.isFinite else { previous = nil; continue }
                let current = point(epoch, value)
                if let previous { canvas.line(from: previous, to: current, grey: Float(grey), dashed: dashed) }
                canvas.dot(current, grey: Float(grey))
                previous = current
            }
        }
    }
}
