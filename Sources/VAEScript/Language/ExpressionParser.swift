/// Expression text → `Expression`, with every error at its column.
///
/// Works on located characters so that an expression inside `echo "… {kl - 1} …"` reports the
/// column in the file, not in the string.
enum ExpressionParser {
    enum Symbol: Equatable {
        case number(Double)
        case name(String)
        case punctuation(String)  // operators, parentheses, comma, `=`
        case end
    }

    struct Lexeme: Equatable {
        var symbol: Symbol
        var text: String
        var location: SourceLocation
    }

    /// Parses a whole expression; anything left over is an error.
    static func parseExpression(_ characters: [LocatedCharacter], end: SourceLocation) throws(ScriptError) -> Expression {
        var parser = try State(lexemes: tokenize(characters, end: end))
        let expression = try parser.expression()
        try parser.expectEnd()
        return expression
    }

    /// `NAME = EXPRESSION`, the text after `let`.
    static func parseAssignment(_ characters: [LocatedCharacter], end: SourceLocation) throws(ScriptError) -> (name: String, location: SourceLocation, value: Expression) {
        var parser = try State(lexemes: tokenize(characters, end: end))
        let first = parser.current
        guard case .name(let name) = first.symbol, !State.keywords.contains(name) else {
            throw .syntax("expected a variable name after 'let', as in 'let gap = logpx - elbo'", at: first.location)
        }
        parser.advance()
        guard parser.current.symbol == .punctuation("=") else {
            throw .syntax("expected '=' after 'let \(name)'", at: parser.current.location)
        }
        parser.advance()
        let value = try parser.expression()
        try parser.expectEnd()
        return (name, first.location, value)
    }

    // MARK: - Lexing

    /// Limits that keep the recursive parser and evaluator far from the end of the stack.
    static let maximumLexemes = 1000
    static let maximumNesting = 100

    static let punctuation = ["<=", ">=", "==", "!=", "~=", "+", "-", "*", "/", "(", ")", ",", "<", ">", "="]

    static func tokenize(_ characters: [LocatedCharacter], end: SourceLocation) throws(ScriptError) -> [Lexeme] {
        var lexemes: [Lexeme] = []
        var index = 0
        func character(_ offset: Int = 0) -> Character? {
            index + offset < characters.count ? characters[index + offset].character : nil
        }
        while index < characters.count {
            let current = characters[index]
            let c = current.character
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                index += 1
            } else if c == "\\" && character(1) == "\n" {
                index += 2  // a continued line inside an expression
            } else if c.isASCII && (c.isNumber || (c == "." && character(1)?.isNumber == true)) {
                var text = ""
                while let digit = character(), digit.isASCII, digit.isNumber || digit == "." {
                    text.append(digit)
                    index += 1
                }
                // An exponent only when digits follow, so `2e` stays an error rather than a name.
                if let e = character(), e == "e" || e == "E" {
                    var offset = 1
                    if let sign = character(1), sign == "+" || sign == "-" { offset = 2 }
                    if let digit = character(offset), digit.isASCII, digit.isNumber {
                        for _ in 0..<offset { text.append(character() ?? "e"); index += 1 }
                        while let digit = character(), digit.isASCII, digit.isNumber {
                            text.append(digit)
                            index += 1
                        }
                    }
                }
                if let next = character(), next.isLetter || next == "_" {
                    throw .syntax("unexpected '\(next)' after the number \(text)", at: characters[index].location)
                }
                guard let value = Double(text) else {
                    throw .syntax("'\(text)' is not a number", at: current.location)
                }
                lexemes.append(Lexeme(symbol: .number(value), text: text, location: current.location))
            } else if c.isLetter || c == "_" {
                var text = ""
                while let letter = character(), letter.isLetter || letter.isNumber || letter == "_" {
                    text.append(letter)
                    index += 1
                }
                lexemes.append(Lexeme(symbol: .name(text), text: text, location: current.location))
            } else if let op = punctuation.first(where: { op in
                op.enumerated().allSatisfy { offset, expected in character(offset) == expected }
            }) {
                lexemes.append(Lexeme(symbol: .punctuation(op), text: op, location: current.location))
                index += op.count
            } else {
                throw .syntax("unexpected character '\(c)' in an expression", at: current.location)
            }
        }
        // Parsing and evaluation recurse, so a pathological expression must not exhaust the stack.
        if lexemes.count > maximumLexemes {
            throw .syntax("expression too long: at most \(maximumLexemes) numbers, names and operators", at: lexemes[maximumLexemes].location)
        }
        // The end is just past the last character, unless that ends a line (`{1 +` then a line
        // break inside a string): past it is no column of that line, so the end is `end`.
        let last = characters.last.flatMap { Lexer.isNewline($0.character) ? nil : $0 }
        lexemes.append(Lexeme(symbol: .end, text: "", location: last.map { $0.location.advanced(by: 1) } ?? end))
        return lexemes
    }

    // MARK: - Parsing (recursive descent, one function per precedence level)

    struct State {
        static let keywords: Set<String> = ["and", "or", "not", "true", "false"]
        static let comparisons: [String: Expression.BinaryOperator] = [
            "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
            "==": .equal, "!=": .notEqual, "~=": .approximatelyEqual,
        ]

        var lexemes: [Lexeme]
        var position = 0
        /// Open parentheses, calls, `not`s and signs around the current point.
        var nesting = 0

        init(lexemes: [Lexeme]) throws(ScriptError) {
            self.lexemes = lexemes
            if lexemes.first?.symbol == .end {
                throw .syntax("expected an expression", at: lexemes[0].location)
            }
        }

        var current: Lexeme { lexemes[min(position, lexemes.count - 1)] }

        mutating func advance() { position += 1 }

        func isKeyword(_ keyword: String) -> Bool { current.symbol == .name(keyword) }

        func isPunctuation(_ text: String) -> Bool { current.symbol == .punctuation(text) }

        mutating func enter(at location: SourceLocation) throws(ScriptError) {
            nesting += 1
            guard nesting <= ExpressionParser.maximumNesting else {
                throw .syntax("expression nested too deeply: at most \(ExpressionParser.maximumNesting) levels", at: location)
            }
        }

        func expectEnd() throws(ScriptError) {
            guard current.symbol == .end else {
                if current.symbol == .punctuation("=") {
                    throw .syntax("'=' is not a comparison; use '==' (or '~=' for approximately equal)", at: current.location)
                }
                throw .syntax("unexpected '\(current.text)' after the expression", at: current.location)
            }
        }

        mutating func expression() throws(ScriptError) -> Expression {
            var left = try conjunction()
            while isKeyword("or") {
                let location = current.location
                advance()
                left = .binary(.or, left, try conjunction(), at: location)
            }
            return left
        }

        mutating func conjunction() throws(ScriptError) -> Expression {
            var left = try negation()
            while isKeyword("and") {
                let location = current.location
                advance()
                left = .binary(.and, left, try negation(), at: location)
            }
            return left
        }

        mutating func negation() throws(ScriptError) -> Expression {
            if isKeyword("not") {
                let location = current.location
                advance()
                try enter(at: location)
                defer { nesting -= 1 }
                return .unary(.not, try negation(), at: location)
            }
            return try comparison()
        }

        mutating func comparison() throws(ScriptError) -> Expression {
            let left = try sum()
            guard case .punctuation(let text) = current.symbol, let op = State.comparisons[text] else { return left }
            let location = current.location
            advance()
            let right = try sum()
            if case .punctuation(let next) = current.symbol, State.comparisons[next] != nil {
                throw .syntax("comparisons don't chain; write 'a < b and b < c'", at: current.location)
            }
            return .binary(op, left, right, at: location)
        }

        mutating func sum() throws(ScriptError) -> Expression {
            var left = try product()
            while isPunctuation("+") || isPunctuation("-") {
                let op: Expression.BinaryOperator = isPunctuation("+") ? .add : .subtract
                let location = current.location
                advance()
                left = .binary(op, left, try product(), at: location)
            }
            return left
        }

        mutating func product() throws(ScriptError) -> Expression {
            var left = try unary()
            while isPunctuation("*") || isPunctuation("/") {
                let op: Expression.BinaryOperator = isPunctuation("*") ? .multiply : .divide
                let location = current.location
                advance()
                left = .binary(op, left, try unary(), at: location)
            }
            return left
        }

        mutating func unary() throws(ScriptError) -> Expression {
            if isPunctuation("-") || isPunctuation("+") {
                let op: Expression.UnaryOperator = isPunctuation("-") ? .negate : .plus
                let location = current.location
                advance()
                try enter(at: location)
                defer { nesting -= 1 }
                return .unary(op, try unary(), at: location)
            }
            return try primary()
        }

        mutating func primary() throws(ScriptError) -> Expression {
            let lexeme = current
            switch lexeme.symbol {
            case .number(let value):
                advance()
                return .number(value, at: lexeme.location)
            case .name("true"), .name("false"):
                advance()
                return .boolean(lexeme.text == "true", at: lexeme.location)
            case .name(let name) where !State.keywords.contains(name):
                advance()
                guard isPunctuation("(") else { return .variable(name, at: lexeme.location) }
                advance()
                try enter(at: lexeme.location)
                defer { nesting -= 1 }
                var arguments: [Expression] = []
                if !isPunctuation(")") {
                    arguments.append(try expression())
                    while isPunctuation(",") {
                        advance()
                        arguments.append(try expression())
                    }
                }
                guard isPunctuation(")") else {
                    throw .syntax("expected ')' to close the call of \(name)", at: current.location)
                }
                advance()
                return .call(name, arguments, at: lexeme.location)
            case .punctuation("("):
                advance()
                try enter(at: lexeme.location)
                defer { nesting -= 1 }
                let inner = try expression()
                guard isPunctuation(")") else {
                    throw .syntax("expected ')'", at: current.location)
                }
                advance()
                return inner
            case .end:
                throw .syntax("expected a value at the end of the expression", at: lexeme.location)
            default:
                throw .syntax("expected a value, found '\(lexeme.text)'", at: lexeme.location)
            }
        }
    }
}
