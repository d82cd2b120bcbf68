/// Stage 1: text → tokens, shell style.
///
/// - Words are separated by blanks; `;` or a new line ends a command.
/// - `"…"` decodes the escapes `\"` `\\` `\n` `\t` `\{` `\}`; `'…'` is taken literally.
/// - Outside quotes, `\x` is the character `x`, and `\` at the end of a line continues the command
///   on the next line (the two lines are one command, the break counts as a blank).
/// - An unquoted `#` starts a comment that runs to the end of the line.
///
/// Input that stops inside a quote or right after a continuing `\` throws the dedicated
/// `ScriptError.incomplete`: the input loop then reads another line (Lua's trick) instead of
/// reporting an error, unless the input has ended.
public enum Lexer {
    public static func tokenize(_ text: String, firstLine: Int = 1) throws(ScriptError) -> [Token] {
        var scanner = Scanner(text, firstLine: firstLine)
        var tokens: [Token] = []
        while let character = scanner.peek() {
            switch character {
            case " ", "\t", "\r":
                scanner.advance()
            case "\n", "\r\n", ";":
                tokens.append(.separator(scanner.location))
                scanner.advance()
            case "#":
                while let next = scanner.peek(), next != "\n", next != "\r\n" { scanner.advance() }
            case "\\" where isNewline(scanner.peek(offset: 1)):
                scanner.advance(2)
            case "\\" where scanner.peek(offset: 1) == nil:
                throw .incomplete(.lineContinuation, at: scanner.location)
            default:
                tokens.append(.word(try scanWord(&scanner)))
            }
        }
        return tokens
    }

    /// `\r\n` is one `Character` in Swift, so a line break is either.
    static func isNewline(_ character: Character?) -> Bool {
        character == "\n" || character == "\r\n"
    }

    /// The escapes a double-quoted string understands, and what they stand for.
    static let stringEscapes: [Character: Character] = [
        "\"": "\"", "\\": "\\", "n": "\n", "t": "\t", "{": "{", "}": "}",
    ]

    private static func scanWord(_ scanner: inout Scanner) throws(ScriptError) -> Word {
        let start = scanner.location
        var characters: [LocatedCharacter] = []
        var raw: [LocatedCharacter] = []
        func take(_ scanner: inout Scanner) {
            if let character = scanner.peek() { raw.append(LocatedCharacter(character, at: scanner.location)) }
            scanner.advance()
        }
        wordLoop: while let character = scanner.peek() {
            switch character {
            case " ", "\t", "\r", "\n", "\r\n", ";", "#":
                break wordLoop
            case "\\":
                guard let escaped = scanner.peek(offset: 1) else {
                    throw .incomplete(.lineContinuation, at: scanner.location)
                }
                if isNewline(escaped) { break wordLoop }  // a continuation ends the word
                characters.append(LocatedCharacter(escaped, at: scanner.location, quoting: .escaped))
                take(&scanner)
                take(&scanner)
            case "\"":
                let quote = scanner.location
                take(&scanner)
                while true {
                    guard let inside = scanner.peek() else {
                        throw .incomplete(.unterminatedString(quote: "\""), at: quote)
                    }
                    if inside == "\"" {
                        take(&scanner)
                        break
                    }
                    if inside == "\\" {
                        guard let escaped = scanner.peek(offset: 1) else {
                            throw .incomplete(.unterminatedString(quote: "\""), at: quote)
                        }
                        if isNewline(escaped) {  // a continued line inside a string adds nothing
                            take(&scanner)
                            take(&scanner)
                            continue
                        }
                        guard let decoded = stringEscapes[escaped] else {
                            throw .syntax("unknown escape '\\\(escaped)' in a string; write '\\\\' for a backslash", at: scanner.location)
                        }
                        characters.append(LocatedCharacter(decoded, at: scanner.location, quoting: .escaped))
                        take(&scanner)
                        take(&scanner)
                        continue
                    }
                    characters.append(LocatedCharacter(inside, at: scanner.location, quoting: .doubleQuoted))
                    take(&scanner)
                }
            case "'":
                let quote = scanner.location
                take(&scanner)
                while true {
                    guard let inside = scanner.peek() else {
                        throw .incomplete(.unterminatedString(quote: "'"), at: quote)
                    }
                    if inside == "'" {
                        take(&scanner)
                        break
                    }
                    characters.append(LocatedCharacter(inside, at: scanner.location, quoting: .singleQuoted))
                    take(&scanner)
                }
            default:
                characters.append(LocatedCharacter(character, at: scanner.location))
                take(&scanner)
            }
        }
        return Word(characters: characters, location: start, raw: raw)
    }
}

/// Walks characters while keeping the line and column of the current one.
struct Scanner {
    private let characters: [Character]
    private var index = 0
    private(set) var location: SourceLocation

    init(_ text: String, firstLine: Int) {
        characters = Array(text)
        location = SourceLocation(line: firstLine, column: 1)
    }

    func peek(offset: Int = 0) -> Character? {
        let position = index + offset
        return position < characters.count ? characters[position] : nil
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < characters.count {
            if characters[index] == "\n" || characters[index] == "\r\n" {
                location = SourceLocation(line: location.line + 1, column: 1)
            } else {
                location.column += 1
            }
            index += 1
        }
    }
}
