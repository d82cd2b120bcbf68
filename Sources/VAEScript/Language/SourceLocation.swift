/// A position in the text being run: 1-based line and column.
///
/// Columns count characters (grapheme clusters), not bytes, so the caret under an error lines up
/// with `‖` or `≥` in the source. Lines count from the start of the script (or of the session,
/// interactively), so a continued command keeps the numbers its lines had in the file.
public struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `12:5`, the form that follows a file name in a diagnostic.
    public var description: String { "\(line):\(column)" }

    /// The location `count` characters further along the same line.
    public func advanced(by count: Int) -> SourceLocation {
        SourceLocation(line: line, column: column + count)
    }
}
