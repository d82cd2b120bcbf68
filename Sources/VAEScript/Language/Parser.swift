/// Stage 2: tokens → invocations. Splits at `;` and new lines and drops empty commands.
///
/// The command language has no nesting, so the parser is small; the interesting decisions (what
/// a word means) are made against the command table in `CommandTable+Binding.swift`.
public enum Parser {
    public static func parse(_ tokens: [Token]) -> [Invocation] {
        var invocations: [Invocation] = []
        var words: [Word] = []
        for token in tokens {
            switch token {
            case .word(let word):
                words.append(word)
            case .separator:
                if !words.isEmpty { invocations.append(Invocation(words: words)) }
                words = []
            }
        }
        if !words.isEmpty { invocations.append(Invocation(words: words)) }
        return invocations
    }

    /// Lexes and parses in one go; throws `.incomplete` for an open quote or a trailing `\`.
    public static func parse(_ text: String, firstLine: Int = 1) throws(ScriptError) -> [Invocation] {
        parse(try Lexer.tokenize(text, firstLine: firstLine))
    }
}
