import Testing
@testable import VAEScript

@Suite("Expressions")
struct ExpressionTests {
    let variables: [String: ScriptValue] = [
        "kl": .number(25.5), "elbo": .number(-105.25), "loss": .number(105.25), "zero": .number(0),
        "ok": .boolean(true), "nan": .number(.nan),
    ]

    func parse(_ text: String) throws(ScriptError) -> Expression {
        let characters = text.enumerated().map { LocatedCharacter($1, at: SourceLocation(line: 1, column: $0 + 1)) }
        return try ExpressionParser.parseExpression(characters, end: SourceLocation(line: 1, column: text.count + 1))
    }

    func evaluate(_ text: String) throws(ScriptError) -> ScriptValue {
        try parse(text).evaluate(variables)
    }

    @Test(arguments: [
        ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9), ("-2 * -3", 6), ("10 / 4", 2.5), ("2 - 3 - 4", -5),
        ("8 / 2 / 2", 2), ("1e-3 * 1000", 1), (".5 + 2.", 2.5), ("kl - 0.5", 25), ("-kl", -25.5),
        ("abs(elbo)", 105.25), ("min(3, 1, 2)", 1), ("max(kl, 30)", 30), ("exp(0)", 1), ("log(1)", 0),
        ("sqrt(16)", 4), ("--1", 1), ("+3", 3), ("2E2", 200),
        ("round(8.09022, 2)", 8.09), ("round(-146.776, 1)", -146.8), ("round(2.5)", 3), ("round(-2.5)", -3),
        ("round(1234, -2)", 1200), ("round(1e300, 15)", 1e300), ("round(0.125, 2)", 0.13),
    ])
    func arithmetic(text: String, expected: Double) throws {
        #expect(try evaluate(text) == .number(expected))
    }

    @Test(arguments: [
        ("kl >= 0", true), ("kl < 0", false), ("loss ~= -elbo", true), ("loss == -elbo", true),
        ("1 != 2", true), ("1 <= 1", true), ("2 > 1 and 1 > 2", false), ("2 > 1 or 1 > 2", true),
        ("not 1 > 2", true), ("not ok", false), ("ok == true", true), ("true != false", true),
        ("1 < 2 and 2 < 3 or false", true), ("not (1 < 2 and 2 < 3)", false),
        ("nan == nan", false), ("nan ~= nan", false), ("nan < 1", false),
        ("1 ~= 1 + 1e-7", true), ("1 ~= 1.00001", false), ("1e6 ~= 1e6 + 0.5", true),
        ("zero ~= 1e-13", true), ("zero ~= 1e-11", false),
    ])
    func comparisonsAndLogic(text: String, expected: Bool) throws {
        #expect(try evaluate(text) == .boolean(expected))
    }

    @Test func andShortCircuits() throws {
        #expect(try evaluate("zero != 0 and 1 / zero > 1") == .boolean(false))
        #expect(try evaluate("zero == 0 or 1 / zero > 1") == .boolean(true))
    }

    @Test func variableNamesInOrderOfFirstUse() throws {
        #expect(try parse("loss ~= -elbo and kl >= 0 and loss > kl").variableNames == ["loss", "elbo", "kl"])
    }

    @Test(arguments: [
        ("1 +", "expected a value at the end of the expression"),
        ("(1 + 2", "expected ')'"),
        ("1 2", "unexpected '2' after the expression"),
        ("kl = 1", "'=' is not a comparison; use '==' (or '~=' for approximately equal)"),
        ("1 < 2 < 3", "comparisons don't chain; write 'a < b and b < c'"),
        ("kl $ 2", "unexpected character '$' in an expression"),
        ("2x", "unexpected 'x' after the number 2"),
        ("max(1,", "expected a value at the end of the expression"),
        ("log(2", "expected ')' to close the call of log"),
        ("*", "expected a value, found '*'"),
        ("", "expected an expression"),
    ])
    func syntaxErrors(text: String, message: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            guard case .syntax(let actual, _) = error as? ScriptError else { return false }
            return actual == message
        }
    }

    @Test func errorsCarryTheColumn() {
        #expect(throws: ScriptError.divisionByZero(at: SourceLocation(line: 1, column: 4))) { try evaluate("kl / zero") }
        #expect(throws: ScriptError.unknownVariable("kll", suggestion: "kl", at: SourceLocation(line: 1, column: 5))) { try evaluate("1 + kll") }
        #expect(throws: ScriptError.unknownVariable("gap", suggestion: nil, at: SourceLocation(line: 1, column: 1))) { try evaluate("gap") }
        #expect(throws: ScriptError.unknownFunction("lg", suggestion: "log", at: SourceLocation(line: 1, column: 1))) { try evaluate("lg(2)") }
        #expect(throws: ScriptError.wrongArgumentCount(function: "log", expected: "1", got: 2, at: SourceLocation(line: 1, column: 1))) { try evaluate("log(2, 3)") }
        #expect(throws: ScriptError.wrongArgumentCount(function: "max", expected: "at least 1", got: 0, at: SourceLocation(line: 1, column: 1))) { try evaluate("max()") }
        #expect(throws: ScriptError.domainError("log needs a positive number, got 0", at: SourceLocation(line: 1, column: 1))) { try evaluate("log(0)") }
        #expect(throws: ScriptError.domainError("sqrt needs a number ≥ 0, got -1", at: SourceLocation(line: 1, column: 1))) { try evaluate("sqrt(-1)") }
        #expect(throws: ScriptError.domainError("round's digits must be a whole number from -15 to 15, got 1.5", at: SourceLocation(line: 1, column: 1))) { try evaluate("round(2, 1.5)") }
        #expect(throws: ScriptError.domainError("round's digits must be a whole number from -15 to 15, got 16", at: SourceLocation(line: 1, column: 1))) { try evaluate("round(2, 16)") }
        #expect(throws: ScriptError.wrongArgumentCount(function: "round", expected: "1 to 2", got: 3, at: SourceLocation(line: 1, column: 1))) { try evaluate("round(1, 2, 3)") }
        #expect(throws: ScriptError.typeMismatch("'not' needs a true/false value, got a number", at: SourceLocation(line: 1, column: 1))) { try evaluate("not 1") }
        #expect(throws: ScriptError.typeMismatch("'+' needs numbers, got a true/false value", at: SourceLocation(line: 1, column: 4))) { try evaluate("ok + 1") }
        #expect(throws: ScriptError.typeMismatch("'and' needs true/false values, got a number on its left", at: SourceLocation(line: 1, column: 3))) { try evaluate("1 and ok") }
        #expect(throws: ScriptError.typeMismatch("'-' needs a number, got a true/false value", at: SourceLocation(line: 1, column: 1))) { try evaluate("-ok") }
    }

    @Test func pathologicalExpressionsAreErrorsNotStackOverflows() throws {
        #expect(try evaluate(String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)) == .number(1))
        #expect(throws: ScriptError.syntax("expression nested too deeply: at most 100 levels", at: SourceLocation(line: 1, column: 101))) {
            try parse(String(repeating: "(", count: 101) + "1" + String(repeating: ")", count: 101))
        }
        #expect(throws: ScriptError.self) { try parse(String(repeating: "-", count: 5000) + "1") }
        #expect(throws: ScriptError.self) { try parse(Array(repeating: "1", count: 600).joined(separator: "+")) }
        #expect(try evaluate(Array(repeating: "1", count: 500).joined(separator: "+")) == .number(500))
    }

    @Test func approximateEqualityHandlesZeroWithAnAbsoluteFloor() {
        #expect(Expression.approximatelyEqual(0, 0))
        #expect(Expression.approximatelyEqual(0, 1e-12))
        #expect(!Expression.approximatelyEqual(0, 2e-12))
        #expect(Expression.approximatelyEqual(-105.25, -105.25 * (1 + 5e-7)))
        #expect(Expression.approximatelyEqual(.infinity, .infinity))
        #expect(!Expression.approximatelyEqual(.infinity, -.infinity))
    }

    @Test func assignmentNeedsANameAndEquals() throws {
        func assignment(_ text: String) throws(ScriptError) -> String {
            let characters = text.enumerated().map { LocatedCharacter($1, at: SourceLocation(line: 1, column: $0 + 5)) }
            return try ExpressionParser.parseAssignment(characters, end: SourceLocation(line: 1, column: 99)).name
        }
        #expect(try assignment("gap = 1 - 2") == "gap")
        #expect(throws: ScriptError.syntax("expected a variable name after 'let', as in 'let gap = logpx - elbo'", at: SourceLocation(line: 1, column: 5))) {
            try assignment("1 = 2")
        }
        #expect(throws: ScriptError.syntax("expected '=' after 'let x'", at: SourceLocation(line: 1, column: 7))) {
            try assignment("x 2")
        }
        #expect(throws: ScriptError.syntax("expected a variable name after 'let', as in 'let gap = logpx - elbo'", at: SourceLocation(line: 1, column: 5))) {
            try assignment("not = 2")
        }
    }

    @Test func templatesFillHoles() throws {
        let invocation = try #require(try Parser.parse(#"echo "gap = {loss + elbo} nats" and \{literal\} 'single {x}' {kl}"#).first)
        let template = try Template.parse(Array(invocation.words.dropFirst()))
        #expect(try template.render(variables) == "gap = 0 nats and {literal} single {x} 25.5")
    }

    @Test func templateErrorsPointIntoTheString() throws {
        let invocation = try #require(try Parser.parse(#"echo "a {kl +} b""#).first)
        #expect(throws: ScriptError.syntax("expected a value at the end of the expression", at: SourceLocation(line: 1, column: 14))) {
            try Template.parse(Array(invocation.words.dropFirst()))
        }
        let unclosed = try #require(try Parser.parse(#"echo "a {kl""#).first)
        #expect(throws: ScriptError.syntax(#"unclosed '{' in text; write '\{' for a literal brace"#, at: SourceLocation(line: 1, column: 9))) {
            try Template.parse(Array(unclosed.words.dropFirst()))
        }
    }

    @Test func valuesPrintWithSixSignificantDigitsOrExactly() {
        #expect(ScriptValue.number(0.1 + 0.2).description == "0.3")
        #expect(ScriptValue.number(0.1 + 0.2).exactDescription == "0.30000000000000004")
        #expect(ScriptValue.number(3).description == "3")
        #expect(ScriptValue.number(-0.3).exactDescription == "-0.3")
        #expect(ScriptValue.number(1e-5).description == "1e-05")
        #expect(ScriptValue.number(.nan).description == "nan")
        #expect(ScriptValue.number(-.infinity).description == "-inf")
        #expect(ScriptValue.boolean(true).description == "true")
    }
}
