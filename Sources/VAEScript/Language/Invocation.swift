/// One command as written: its words, before anything is known about what they mean.
///
/// The parser makes these; validation (`CommandTable.bind`) decides which words name the command
/// (`show settings` is two), which are `key=value` options, and which are positional.
public struct Invocation: Equatable, Sendable {
    /// All words, the command's name first. Never empty.
    public var words: [Word]

    public init(words: [Word]) {
        self.words = words
    }

    /// Where the command starts: the first character of its name.
    public var location: SourceLocation { words.first?.location ?? SourceLocation(line: 1, column: 1) }

    /// The command as typed, its words joined by single blanks (what `--echo` shows).
    public var sourceText: String { words.map(\.rawText).joined(separator: " ") }

    /// The words from `index` on as raw source characters, joined by single blanks: the text of an
    /// expression (`assert kl >= 0`) or of `let x = 1`, with the location of every character.
    public func rawCharacters(from index: Int) -> [LocatedCharacter] {
        var result: [LocatedCharacter] = []
        for word in words.dropFirst(index) {
            if let last = result.last {
                result.append(LocatedCharacter(" ", at: last.location.advanced(by: 1)))
            }
            result.append(contentsOf: word.raw)
        }
        return result
    }
}
