/// Fitting text into a number of columns: lines broken at blanks, never inside a word.
///
/// Widths count characters (`Character`s), as `TextTable` does: every symbol vaesh prints (‖, ≥,
/// σ, p̂, ✓, the box drawing of charts) takes one column in a terminal.
public enum TextLayout {
    /// Wider than any terminal: what "no wrapping" (`--width 0`) lays text out for.
    public static let unlimited = 100_000

    /// `line` (no newline in it) in lines of at most `width` characters, broken at blanks. The
    /// lines after the first are indented `hangingIndent` more than the first line's own indent:
    /// 2 for a report's lines, so a continued line reads as one; 0 for a paragraph of prose. A
    /// word longer than the room stays whole on a line of its own: a path or a formula broken in
    /// two would no longer be one.
    static func wrap(_ line: String, width: Int, hangingIndent: Int = 2) -> [String] {
        guard line.count > width else { return [line] }
        let indent = String(line.prefix { $0 == " " })
        let lines = fill(words(line), width: width, first: indent, rest: indent + String(repeating: " ", count: hangingIndent))
        return lines.isEmpty ? [line] : lines
    }

    /// Every line of `text` wrapped; the result ends with a newline when `text` does.
    static func wrapLines(_ text: String, width: Int, hangingIndent: Int = 2) -> String {
        guard !text.isEmpty else { return text }
        let endsWithNewline = text.hasSuffix("\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if endsWithNewline { lines.removeLast() }
        let wrapped = lines.flatMap { wrap($0, width: width, hangingIndent: hangingIndent) }.joined(separator: "\n")
        return endsWithNewline ? wrapped + "\n" : wrapped
    }

    /// A table cell in lines of at most `width` characters, each starting with the cell's own
    /// leading blanks (so a column that starts with a gap keeps it on every line).
    static func wrapCell(_ cell: String, width: Int) -> [String] {
        guard cell.count > width else { return [cell] }
        let indent = String(cell.prefix { $0 == " " })
        let lines = fill(words(cell), width: width, first: indent, rest: indent)
        return lines.isEmpty ? [cell] : lines
    }

    /// The longest word of `text`: the narrowest a column holding it can be made by wrapping.
    static func longestWord(_ text: String) -> Int {
        let indent = text.prefix { $0 == " " }.count
        return indent + (words(text).map(\.count).max() ?? 0)
    }

    private static func words(_ text: String) -> [Substring] {
        text.split(separator: " ", omittingEmptySubsequences: true)
    }

    /// Greedy filling: as many words on a line as fit.
    private static func fill(_ words: [Substring], width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var current = first
        var currentHasWord = false
        for word in words {
            if currentHasWord && current.count + 1 + word.count > width {
                lines.append(current)
                current = rest
                currentHasWord = false
            }
            current += (currentHasWord ? " " : "") + word
            currentHasWord = true
        }
        if currentHasWord { lines.append(current) }
        return lines
    }
}
