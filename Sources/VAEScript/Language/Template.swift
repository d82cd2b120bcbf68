/// The text of `echo`: literal text with `{expression}` holes, e.g. `"gap = {logpx - elbo} nats"`.
///
/// A `{` opens a hole unless it is escaped (`\{`) or inside single quotes; the hole runs to the
/// next such `}`. The words of the text are joined by single blanks, as a shell would.
public struct Template: Equatable, Sendable {
    public enum Part: Equatable, Sendable {
        case text(String)
        case expression(Expression)
    }

    public var parts: [Part]

    public init(parts: [Part]) {
        self.parts = parts
    }

    public static func parse(_ words: [Word]) throws(ScriptError) -> Template {
        var parts: [Part] = []
        var literal = ""
        func opensOrCloses(_ character: LocatedCharacter, _ brace: Character) -> Bool {
            character.character == brace && (character.quoting == .bare || character.quoting == .doubleQuoted)
        }
        for (wordIndex, word) in words.enumerated() {
            if wordIndex > 0 { literal.append(" ") }
            let characters = word.characters
            var index = 0
            while index < characters.count {
                let character = characters[index]
                guard opensOrCloses(character, "{") else {
                    literal.append(character.character)
                    index += 1
                    continue
                }
                guard let close = characters[(index + 1)...].firstIndex(where: { opensOrCloses($0, "}") }) else {
                    throw .syntax("unclosed '{' in text; write '\\{' for a literal brace", at: character.location)
                }
                if !literal.isEmpty { parts.append(.text(literal)) }
                literal = ""
                let inside = Array(characters[(index + 1)..<close])
                parts.append(.expression(try ExpressionParser.parseExpression(inside, end: characters[close].location)))
                index = close + 1
            }
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        return Template(parts: parts)
    }

    /// Every use of a variable in the holes, in order, with where it is written.
    public var variableReferences: [(name: String, location: SourceLocation)] {
        parts.flatMap { part -> [(name: String, location: SourceLocation)] in
            if case .expression(let expression) = part { return expression.variableReferences }
            return []
        }
    }

    /// The text with every hole filled with its value (`ScriptValue.description`).
    public func render(_ variables: [String: ScriptValue]) throws(ScriptError) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .expression(let expression): result += try expression.evaluate(variables).description
            }
        }
        return result
    }
}
