import Foundation
import Testing
@testable import VAEScript

/// Input far beyond what anyone types: a 1 MB word, a 1 MB line, control characters inside a
/// quoted word. The error is still one short line, the caret still points at the right character,
/// and finding a suggestion takes one pass over the word, not seconds.
@Suite struct LongInputTests {
    static let megabyte = String(repeating: "x", count: 1_000_000)

    @Test func aMegabyteWordIsQuotedShortly() {
        let error = ScriptError.unknownCommand(Self.megabyte, suggestion: nil, at: SourceLocation(line: 1, column: 1))
        let text = Diagnostics.render(error, sourceName: "long.vae", sourceLine: Self.megabyte)
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "long.vae:1:1: error: unknown command '\(String(repeating: "x", count: 60))… (1000000 characters)'")
        #expect(lines.allSatisfy { $0.count <= Diagnostics.widestSourceLine + 2 + 60 })
        #expect(text.count < 1_000)
    }

    @Test func aLongLineIsShownAroundTheError() {
        let line = String(repeating: "a", count: 200) + "BAD" + String(repeating: "b", count: 300)
        let error = ScriptError.unknownCommand("BAD", suggestion: nil, at: SourceLocation(line: 3, column: 201))
        let lines = Diagnostics.render(error, sourceName: nil, sourceLine: line).split(separator: "\n").map(Array.init)
        let shown = lines[1], caret = lines[2]
        #expect(shown.first == "…" && shown.last == "…" && shown.count == Diagnostics.widestSourceLine + 2)
        let column = caret.firstIndex(of: "^") ?? 0
        #expect(String(shown[column..<column + 3]) == "BAD")
        #expect(String(caret[column...]) == "^~~")
    }

    /// At an 80-column terminal a 150-character command would wrap, and the caret's line with
    /// it, leaving the caret a blank row below the part of the line it points into. The session
    /// shows 78 characters around the error instead, so each row fits and the caret is under it.
    @Test func atATerminalTheLineIsCutToItsWidth() {
        let line = "model latent=2 encoder=\"" + String(repeating: "Conv2d(1,16,3) ReLU ", count: 5) + "Lineer(128,4)\" decoder=\"Linear(2,784)\""
        let column = line.distance(from: line.startIndex, to: line.range(of: "Lineer")!.lowerBound) + 1
        #expect(line.count > 120 && column > 100)
        var options = SessionOptions()
        options.width = 80
        let session = Session(options: options, output: CapturingOutput())
        let error = ScriptError.unknownCommand("Lineer", suggestion: nil, at: SourceLocation(line: 1, column: column))
        let text = Diagnostics.render(error, sourceName: nil, sourceLine: line, widestSource: session.widestSourceShown)
        let lines = text.split(separator: "\n").map(Array.init)
        #expect(lines[1].count <= 80 && lines[2].count <= 80, "\(text)")
        let caret = lines[2].firstIndex(of: "^") ?? 0
        #expect(String(lines[1][caret..<caret + 6]) == "Lineer")
        // A pipe, where nothing wraps, keeps the wide window.
        let piped = Session(options: SessionOptions(), output: CapturingOutput())
        #expect(piped.widestSourceShown == Diagnostics.widestSourceLine)
    }

    @Test func anErrorAtTheEndOfALongLine() {
        let line = String(repeating: "a", count: 500)
        let error = ScriptError.incomplete(.lineContinuation, at: SourceLocation(line: 1, column: 501))
        let lines = Diagnostics.render(error, sourceName: nil, sourceLine: line).split(separator: "\n").map(Array.init)
        #expect(lines[1].first == "…" && lines[1].last == "a")
        #expect(lines[2].firstIndex(of: "^") == lines[1].count)
    }

    @Test func controlCharactersCannotBreakTheLine() {
        let error = ScriptError.unknownCommand("a\nb\u{1B}[2Jc", suggestion: nil, at: SourceLocation(line: 1, column: 1))
        #expect(Diagnostics.message(error) == "unknown command 'a\\nb\\u{1B}[2Jc'")
        let json = Diagnostics.render(error, sourceName: "x.vae", sourceLine: nil, json: true)
        #expect(json.filter { $0 == "\n" }.count == 1)
    }

    @Test func engineMessagesAreCapped() {
        let error = ScriptError.engine(message: Self.megabyte + ": no such file", hint: nil, at: SourceLocation(line: 1, column: 1))
        let message = Diagnostics.message(error)
        #expect(message.count < Diagnostics.longestMessage + 40 && message.hasSuffix("… (1000014 characters)"))
    }

    @Test func suggestionsForAMegabyteWordTakeOnePass() {
        let names = CommandTable.standard.allNames
        let start = ContinuousClock.now
        #expect(Suggestions.closest(to: Self.megabyte, in: names) == nil)
        #expect(Suggestions.closest(to: "tra" + Self.megabyte, in: names) == nil)
        #expect(ContinuousClock.now - start < .seconds(1))
        // The short cut changes no answer: prefixes and typos still find their command.
        #expect(Suggestions.closest(to: "hist", in: names) == "history")
        #expect(Suggestions.closest(to: "trian", in: names) == "train")
        #expect(Suggestions.closest(to: "recon-and-much-more", in: names) == nil)
    }
}

/// A long script keeps its memory flat: the session keeps the last `historyLimit` commands
/// (numbered on from the first), and a script's line source keeps no prompts.
@Suite struct LongSessionTests {
    @Test func historyKeepsTheLastThousandAndNumbersOn() {
        let output = CapturingOutput()
        let session = Session(options: SessionOptions(), output: output, interrupt: InterruptFlag())
        let text = (1...2500).map { "let x\($0 % 7) = \($0)" }.joined(separator: "\n") + "\nhistory 2\n"
        let source = StringLineSource(text)
        #expect(InputLoop.run(source, name: "long.vae", session: session) == .finished(failures: 0))
        #expect(session.commandHistory.count <= Session.historyLimit + 100)
        #expect(session.commandHistory.last == "history 2")
        #expect(session.commandHistoryDropped + session.commandHistory.count == 2501)
        let lines = output.standardOutput.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines == ["2500  let x1 = 2500", "2501  history 2"])
        #expect(source.prompts.isEmpty)
    }
}
