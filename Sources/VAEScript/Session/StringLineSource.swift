/// The lines of a string: a script file's contents, a `-c` string, a pipe read to the end, or a test.
///
/// A final newline does not make an extra empty line, and `\r\n` endings are accepted.
public final class StringLineSource: LineSource {
    private let lines: [String]
    private var nextIndex = 0
    public let isInteractive: Bool
    /// Every prompt asked for, in order, when interactive (tests check the continuation prompt
    /// with it). A script keeps none: a file of 100,000 lines must not keep 100,000 prompts.
    public private(set) var prompts: [String] = []

    /// `isInteractive: true` lets tests drive the interactive behaviour (errors never stop the loop).
    public init(_ text: String, isInteractive: Bool = false) {
        // "\r\n" is one Character in Swift, so it needs naming besides "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(String.init)
        if text.last == "\n" || text.last == "\r\n" { lines.removeLast() }
        self.lines = text.isEmpty ? [] : lines
        self.isInteractive = isInteractive
    }

    public func nextLine(prompt: String) -> LineInput {
        if isInteractive { prompts.append(prompt) }
        guard nextIndex < lines.count else { return .end }
        defer { nextIndex += 1 }
        return .line(lines[nextIndex])
    }
}
