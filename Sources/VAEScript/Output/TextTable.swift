/// Aligned columns for human output. Widths count characters, so `‖` and `≥` line up.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left, right
    }

    /// One per column; missing ones are `.left`.
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    public init(alignments: [Alignment] = []) {
        self.alignments = alignments
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The rows, each on its own line ending with a newline; columns separated by `separator`,
    /// trailing blanks trimmed.
    public func render(indent: String = "", separator: String = "  ") -> String {
        let columnCount = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columnCount)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var text = ""
        for row in rows {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let alignment = column < alignments.count ? alignments[column] : .left
                cells.append(alignment == .right ? padding + cell : cell + padding)
            }
            var line = indent + cells.joined(separator: separator)
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}
