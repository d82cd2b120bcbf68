import Testing
@testable import VAEScript

@Suite("Lexer")
struct LexerTests {
    /// The words of `text`, decoded, with `|` marking command boundaries.
    func words(_ text: String) throws -> [String] {
        try Lexer.tokenize(text).map { token in
            switch token {
            case .word(let word): word.text
            case .separator: "|"
            }
        }
    }

    @Test func splitsWordsAtBlanks() throws {
        #expect(try words("train  epochs=3\tlr=1e-3") == ["train", "epochs=3", "lr=1e-3"])
    }

    @Test func semicolonsAndNewLinesSeparateCommands() throws {
        #expect(try words("a; b;c\nd") == ["a", "|", "b", "|", "c", "|", "d"])
    }

    @Test func commentsRunToTheEndOfTheLine() throws {
        #expect(try words("echo hi # a comment; not a command\nvars") == ["echo", "hi", "|", "vars"])
        #expect(try words("echo a#b") == ["echo", "a"])
        #expect(try words("echo \"a#b\"") == ["echo", "a#b"])
    }

    @Test func doubleQuotesDecodeEscapes() throws {
        #expect(try words(#"echo "a \"b\" \\ \t{x}\{""#) == ["echo", "a \"b\" \\ \t{x}{"])
        #expect(try words(#"echo "line\nnext""#) == ["echo", "line\nnext"])
    }

    @Test func singleQuotesAreLiteral() throws {
        #expect(try words(#"echo 'a \n {b}'"#) == ["echo", #"a \n {b}"#])
    }

    @Test func quotesJoinWithBareText() throws {
        #expect(try words(#"save out="my file.png""#) == ["save", "out=my file.png"])
        #expect(try words(#"echo ab"cd"'ef'"#) == ["echo", "abcdef"])
        #expect(try words(#"echo """#) == ["echo", ""])
    }

    @Test func backslashEscapesOutsideQuotes() throws {
        #expect(try words(#"source my\ file.vae"#) == ["source", "my file.vae"])
        #expect(try words(#"echo a\;b"#) == ["echo", "a;b"])
    }

    @Test func trailingBackslashContinuesTheLine() throws {
        #expect(try words("train epochs=3 \\\n  lr=1e-3") == ["train", "epochs=3", "lr=1e-3"])
        #expect(try words("train epochs=3\\\nlr=1e-3") == ["train", "epochs=3", "lr=1e-3"])
    }

    @Test func locationsAreLineAndColumn() throws {
        let tokens = try Lexer.tokenize("a bc\n  \"d\" # x", firstLine: 7)
        let locations = tokens.compactMap { token -> SourceLocation? in
            if case .word(let word) = token { return word.location }
            return nil
        }
        #expect(locations == [SourceLocation(line: 7, column: 1), SourceLocation(line: 7, column: 3), SourceLocation(line: 8, column: 3)])
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let tokens = try Lexer.tokenize("echo ‖≥ x")
        guard case .word(let last) = tokens.last else { Issue.record("no word"); return }
        #expect(last.location == SourceLocation(line: 1, column: 9))
    }

    @Test func keyValueNeedsABareNameAndABareEquals() throws {
        func keyValue(_ text: String) throws -> String? {
            guard case .word(let word) = try Lexer.tokenize(text).first, let pair = word.keyValue else { return nil }
            return pair.key + " → " + String(pair.value.map(\.character))
        }
        #expect(try keyValue("lr=1e-3") == "lr → 1e-3")
        #expect(try keyValue("out=\"a b\"") == "out → a b")
        #expect(try keyValue("test-limit=5") == "test-limit → 5")
        #expect(try keyValue("lr=") == "lr → ")
        #expect(try keyValue("\"a=b\"") == nil)
        #expect(try keyValue("a\\=b") == nil)
        #expect(try keyValue("=b") == nil)
        #expect(try keyValue("1x=b") == nil)
    }

    @Test(arguments: [
        ("echo \"abc", ScriptError.incomplete(.unterminatedString(quote: "\""), at: SourceLocation(line: 1, column: 6))),
        ("echo 'abc", .incomplete(.unterminatedString(quote: "'"), at: SourceLocation(line: 1, column: 6))),
        ("train epochs=3 \\", .incomplete(.lineContinuation, at: SourceLocation(line: 1, column: 16))),
        ("echo \"a\nb", .incomplete(.unterminatedString(quote: "\""), at: SourceLocation(line: 1, column: 6))),
        ("echo \"a\\", .incomplete(.unterminatedString(quote: "\""), at: SourceLocation(line: 1, column: 6))),
    ])
    func incompleteInput(text: String, expected: ScriptError) {
        #expect(throws: expected) { try Lexer.tokenize(text) }
    }

    @Test func unknownEscapeIsASyntaxError() {
        #expect(throws: ScriptError.syntax(#"unknown escape '\q' in a string; write '\\' for a backslash"#, at: SourceLocation(line: 1, column: 8))) {
            try Lexer.tokenize(#"echo "a\q""#)
        }
    }

    @Test func aCommentDoesNotContinueTheLine() throws {
        #expect(try words("echo a # ends with \\\nvars") == ["echo", "a", "|", "vars"])
    }

    @Test func windowsLineEndings() throws {
        #expect(try words("a\r\nb") == ["a", "|", "b"])
    }
}

@Suite("Parser")
struct ParserTests {
    func commands(_ text: String) throws -> [[String]] {
        try Parser.parse(text).map { $0.words.map(\.text) }
    }

    @Test func oneInvocationPerCommand() throws {
        #expect(try commands("let x = 1; echo {x}\n\n;;vars") == [["let", "x", "=", "1"], ["echo", "{x}"], ["vars"]])
    }

    @Test func blankAndCommentLinesHaveNoInvocations() throws {
        #expect(try commands("   # nothing here") == [])
        #expect(try commands("") == [])
    }

    @Test func sourceTextIsTheCommandAsTyped() throws {
        let invocations = try Parser.parse("train   epochs=3  \\\n lr=\"1e-3\" ; vars")
        #expect(invocations.map(\.sourceText) == [#"train epochs=3 lr="1e-3""#, "vars"])
    }

    @Test func rawCharactersKeepLocations() throws {
        let invocation = try #require(try Parser.parse("assert  kl >= 0").first)
        let raw = invocation.rawCharacters(from: 1)
        #expect(String(raw.map(\.character)) == "kl >= 0")
        #expect(raw.first?.location == SourceLocation(line: 1, column: 9))
        #expect(raw.last?.location == SourceLocation(line: 1, column: 15))
    }
}
