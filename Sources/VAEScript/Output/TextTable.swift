/// Aligned columns for human output. Widths count characters, so `‖` and `≥` line up.
///
/// A table wider than the room it is given (`render(width:)`, the terminal's width) shortens its
/// widest columns first, wrapping their cells at blanks onto more lines, down to each column's
/// longest word: a number, a formula or a name is never broken. If even that is too wide, the
/// table is as narrow as whole words allow.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left, right
    }

    /// One per column; missing ones are `.left`.
    public var alignments: [Alignment]
    /// Between columns.
    public var separator: String
    /// Before every line.
    public var indent: String
    /// The columns that may wrap to fit a width; nil: any of them. A column left out keeps its
    /// cells whole (a label, a number).
    public var wrappingColumns: Set<Int>?
    /// Widths below which a wrapping column is not narrowed, to keep a short phrase on one line
    /// ("maximises it"), even if the table then stays wider than it was asked to be.
    public var minimumWidths: [Int: Int] = [:]
    /// When the last column would be narrower than this (or the table still too wide), each row's
    /// last cell goes on the lines under the row, indented: for notes after a row of numbers.
    public var lastColumnMovesBelowUnder: Int?
    public private(set) var rows: [[String]] = []

    public init(alignments: [Alignment] = [], separator: String = "  ", indent: String = "") {
        self.alignments = alignments
        self.separator = separator
        self.indent = indent
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The rows, each on its own line (or several, where a cell wraps) ending with a newline;
    /// trailing blanks trimmed. At most `width` characters a line when the words allow.
    /// `indent` and `separator` replace the table's own for this rendering.
    public func render(indent: String? = nil, separator: String? = nil, width: Int = TextLayout.unlimited) -> String {
        var table = self
        if let indent { table.indent = indent }
        if let separator { table.separator = separator }
        let widths = table.columnWidths(fitting: width)
        if let minimum = lastColumnMovesBelowUnder, let last = widths.indices.last, last > 0 {
            let natural = table.columnWidths(fitting: TextLayout.unlimited)
            let total = table.indent.count + widths.reduce(0, +) + table.separator.count * last
            if total > width || widths[last] < min(minimum, natural[last]) {
                return table.renderWithLastColumnBelow(width: width)
            }
        }
        return table.render(columnWidths: widths)
    }

    /// Each row without its last cell, and that cell on the lines under it, indented.
    private func renderWithLastColumnBelow(width: Int) -> String {
        var front = self
        front.lastColumnMovesBelowUnder = nil
        front.rows = rows.map { Array($0.dropLast()) }
        let widths = front.columnWidths(fitting: width)
        var text = ""
        for row in rows {
            var single = front
            single.rows = [Array(row.dropLast())]
            text += single.render(columnWidths: widths)
            let cell = String((row.last ?? "").drop { $0 == " " })
            if row.count > 1, !cell.isEmpty { text += TextLayout.wrapLines(indent + "    " + cell + "\n", width: width) }
        }
        return text
    }

    /// The rows with these column widths (another table's, so that several tables line up).
    func render(columnWidths widths: [Int]) -> String {
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { column, cell in TextLayout.wrapCell(cell, width: column < widths.count ? widths[column] : cell.count) }
            for line in 0..<max(1, cells.map(\.count).max() ?? 1) {
                var parts: [String] = []
                for (column, lines) in cells.enumerated() {
                    let cell = line < lines.count ? lines[line] : ""
                    let padding = String(repeating: " ", count: max(0, (column < widths.count ? widths[column] : 0) - cell.count))
                    let alignment = column < alignments.count ? alignments[column] : .left
                    parts.append(alignment == .right ? padding + cell : cell + padding)
                }
                var rendered = indent + parts.joined(separator: separator)
                while rendered.last == " " { rendered.removeLast() }
                text += rendered + "\n"
            }
        }
        return text
    }

    /// Each column's width: its widest cell, then, while the table is wider than `width`, the
    /// widest column that can still wrap loses a character.
    func columnWidths(fitting width: Int) -> [Int] {
        let columnCount = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columnCount)
        var narrowest = [Int](repeating: 0, count: columnCount)
        for row in rows {
            for (column, cell) in row.enumerated() {
                widths[column] = max(widths[column], cell.count)
                let wraps = wrappingColumns?.contains(column) ?? true
                narrowest[column] = max(narrowest[column], wraps ? TextLayout.longestWord(cell) : cell.count)
            }
        }
        for (column, minimum) in minimumWidths where column < columnCount {
            narrowest[column] = max(narrowest[column], min(minimum, widths[column]))
        }
        // The last column's trailing blanks are trimmed, so only its content counts.
        var total = indent.count + widths.reduce(0, +) + separator.count * max(0, columnCount - 1)
        while total > width {
            guard let column = widths.indices.filter({ widths[$0] > narrowest[$0] }).max(by: { widths[$0] < widths[$1] }) else { break }
            widths[column] -= 1
            total -= 1
        }
        return widths
    }
}
