import Foundation
import Testing
@testable import VAEScript

/// A line source that plays back a fixed sequence of reads, Ctrl-C included.
final class ScriptedLineSource: LineSource {
    private var inputs: [LineInput]
    let isInteractive: Bool
    private(set) var prompts: [String] = []

    init(_ inputs: [LineInput], isInteractive: Bool = true) {
        self.inputs = inputs
        self.isInteractive = isInteractive
    }

    func nextLine(prompt: String) -> LineInput {
        prompts.append(prompt)
        return inputs.isEmpty ? .end : inputs.removeFirst()
    }
}

/// A command that behaves as if Ctrl-C arrived while it ran: it raises its session's flag and
/// stops early without an error, as `train` does at a batch boundary.
let pressesCtrlC = CommandSpec(
    "press-ctrl-c", topic: .session, abstract: "test", discussion: "Raises the interrupt flag.", examples: ["press-ctrl-c"]
) { context throws(ScriptError) in
    context.session.interrupt.request()
    context.session.setVariable("stopped", 1)
}

@Suite("Input loop")
struct InputLoopTests {
    func session(interactive: Bool = false, options: SessionOptions = SessionOptions()) -> (Session, CapturingOutput) {
        let output = CapturingOutput()
        let commands = CommandTable(CommandTable.variableCommands + CommandTable.sessionCommands + fakeCommands + [pressesCtrlC])
        return (Session(options: options, output: output, commands: commands, interrupt: InterruptFlag()), output)
    }

    @Test func continuationPromptWhileAQuoteOrBackslashIsOpen() {
        let (session, output) = session()
        let source = StringLineSource("echo \"a\nb\"\necho c \\\nd\nvars", isInteractive: true)
        _ = InputLoop.run(source, name: nil, session: session)
        #expect(source.prompts == ["vaesh> ", "  ...> ", "vaesh> ", "  ...> ", "vaesh> ", "vaesh> "])
        #expect(output.standardOutput.hasPrefix("a\nb\nc d\n"))
    }

    @Test func promptShowsTheStateAndTheContinuationLinesUp() {
        let (session, _) = session()
        _ = InputLoop.run(StringLineSource("model latent=2"), name: nil, session: session)
        #expect(session.prompt == "vaesh[fake·2]> ")
        #expect(session.continuationPrompt == "          ...> ")
        #expect(session.continuationPrompt.count == session.prompt.count)
    }

    @Test func isIncompleteAsksTheLexer() {
        let (session, _) = session()
        #expect(session.isIncomplete("echo \"open"))
        #expect(session.isIncomplete("echo 'open"))
        #expect(session.isIncomplete("train epochs=2 \\"))
        #expect(session.isIncomplete("echo \"a\nb"))
        #expect(!session.isIncomplete("echo \"closed\""))
        #expect(!session.isIncomplete("# \"a quote in a comment"))
        #expect(!session.isIncomplete("echo \\\\"))
        #expect(!session.isIncomplete("echo \"bad \\q escape\""))  // an error, but not one more lines can fix
    }

    @Test func aFailedCommandChangesNothing() {
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("model latent=2\nmodel latent=0\n"), name: nil, session: session)
        #expect(outcome == .finished(failures: 1))
        #expect(session[state: FakeModelState.self] == 2)
        #expect(session.prompt == "vaesh[fake·2]> ")
        #expect(output.standardError.contains("must be ≥ 1"))
    }

    @Test func reportsSetTheVariablesTheyShow() {
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("""
        model
        train epochs=3
        assert epoch == 3 and loss ~= 105.6 and loss_se ~= 0.25
        """), name: "t.vae", session: session)
        #expect(outcome == .finished(failures: 0), "\(output.standardError)")
        #expect(output.standardOutput == """
        epoch        =      3
        loss = -ELBO = 105.60 ± 0.25 nats/example  ≥ 0, lower is better

        """)
        #expect(session.variables["loss"]?.unit == "nats/example")
    }

    @Test func missingPrerequisiteStopsAScript() {
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("train\necho never"), name: "t.vae", session: session)
        #expect(outcome == .finished(failures: 1))
        #expect(output.standardOutput == "")
        #expect(output.standardError.hasPrefix("t.vae:1:1: error: no model yet: run 'model' or 'open FILE' first\n"))
    }

    @Test func ctrlCDuringACommandAbortsAScript() {
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("echo one\npress-ctrl-c; echo same-line\necho never"), name: "t.vae", session: session)
        #expect(outcome == .aborted)
        #expect(output.standardOutput == "one\n")
        #expect(session.variable("stopped") == .number(1), "state the command committed is kept")
        #expect(!session.interrupt.isRequested, "the loop clears the flag")
    }

    @Test func ctrlCDuringACommandReturnsToThePromptInteractively() {
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("press-ctrl-c; echo skipped\necho next", isInteractive: true), name: nil, session: session)
        #expect(outcome == .finished(failures: 0))
        #expect(output.standardOutput == "next\n")
        #expect(!session.interrupt.isRequested)
    }

    @Test func ctrlCAtThePromptDropsAHalfTypedCommand() {
        let (session, output) = session()
        let source = ScriptedLineSource([.line("echo \"half"), .interrupted, .line("echo fresh")])
        let outcome = InputLoop.run(source, name: nil, session: session)
        #expect(outcome == .finished(failures: 0))
        #expect(output.standardOutput == "fresh\n")
        #expect(source.prompts == ["vaesh> ", "  ...> ", "vaesh> ", "vaesh> "])
    }

    @Test func quitEndsTheRunWithItsStatus() {
        let (session, output) = session(interactive: true)
        let outcome = InputLoop.run(StringLineSource("echo a\nquit 7\necho b", isInteractive: true), name: nil, session: session)
        #expect(outcome == .quit(status: 7))
        #expect(output.standardOutput == "a\n")
    }

    @Test func historyHasTheTopLevelCommandsWithContinuedLinesJoined() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "let inner = 1\n".write(to: directory.appendingPathComponent("inner.vae"), atomically: true, encoding: .utf8)
        let (session, _) = session()
        let script = directory.appendingPathComponent("main.vae").path
        _ = InputLoop.run(StringLineSource("let a = 1 \\\n + 2\n\n# comment\nsource inner.vae\nbogus"), name: script, session: session)
        #expect(session.commandHistory == ["let a = 1 \\\n + 2", "source inner.vae", "bogus"])
        #expect(session.variable("inner") == .number(1))
    }

    @Test func echoPrintsEachCommandBeforeRunningIt() {
        var options = SessionOptions()
        options.echo = true
        let (session, output) = session(options: options)
        _ = InputLoop.run(StringLineSource("let x = 2; echo {x}"), name: nil, session: session)
        #expect(output.standardOutput == "> let x = 2\n> echo {x}\n2\n")
    }

    @Test func aPassingAssertShowsACheckOnlyWhileStepping() {
        let script = "let x = 2; assert x > 1; assert x ~= 2"
        let (plain, plainOutput) = session()
        _ = InputLoop.run(StringLineSource(script), name: nil, session: plain)
        #expect(plainOutput.standardOutput == "", "a script stays silent on a pass")

        var options = SessionOptions()
        options.stepping = true
        let (stepping, output) = session(options: options)
        _ = InputLoop.run(StringLineSource(script), name: nil, session: stepping)
        #expect(output.standardOutput == "✓ x > 1\n✓ x ~= 2\n")
    }

    @Test func underJSONEchoedCommandsGoToStderr() {
        var options = SessionOptions()
        options.echo = true
        options.json = true
        let (session, output) = session(options: options)
        _ = InputLoop.run(StringLineSource("echo hi"), name: nil, session: session)
        #expect(output.standardOutput == #"{"command":"echo","text":"hi"}"# + "\n")
        #expect(output.standardError == "> echo hi\n")
    }

    @Test func keepGoingCountsEveryFailure() {
        var options = SessionOptions()
        options.keepGoing = true
        let (session, _) = session(options: options)
        let outcome = InputLoop.run(StringLineSource("bogus\nassert 1 > 2\necho ok\ntrain epochs=0"), name: nil, session: session)
        #expect(outcome == .finished(failures: 3))
    }

    @Test func sourceIsRelativeToTheSourcingScript() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-source-\(UUID().uuidString)")
        let nested = directory.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "source lib/a.vae\n".write(to: directory.appendingPathComponent("main.vae"), atomically: true, encoding: .utf8)
        try "source b.vae\n".write(to: nested.appendingPathComponent("a.vae"), atomically: true, encoding: .utf8)
        try "echo \"in b\"\nbogus\n".write(to: nested.appendingPathComponent("b.vae"), atomically: true, encoding: .utf8)
        let (session, output) = session()
        let outcome = InputLoop.run(StringLineSource("source main.vae"), name: directory.appendingPathComponent("start.vae").path, session: session)
        #expect(outcome == .finished(failures: 1))
        #expect(output.standardOutput == "in b\n")
        #expect(output.standardError.hasPrefix(nested.appendingPathComponent("b.vae").path + ":2:1: error: unknown command 'bogus'"))
        #expect(session.sourceStack.isEmpty, "every frame is popped")
    }

    @Test func sourceRefusesDirectoriesAndNonUTF8() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data([0xFF, 0xFE, 0x00]).write(to: directory.appendingPathComponent("binary.vae"))
        let (session, output) = session()
        var options = SessionOptions()
        options.keepGoing = true
        let keepGoing = Session(options: options, output: output, commands: session.commands, interrupt: InterruptFlag())
        let outcome = InputLoop.run(StringLineSource("source .\nsource binary.vae"), name: directory.appendingPathComponent("x.vae").path, session: keepGoing)
        #expect(outcome == .finished(failures: 2))
        #expect(output.standardError.contains("cannot read '\(directory.path)/.': it is a directory"))
        #expect(output.standardError.contains("cannot read '\(directory.path)/binary.vae': line 1 contains a NUL byte; is it a binary file?"))
    }

    @Test func stringSourcesSplitLines() {
        let source = StringLineSource("a\r\nb\n\nc\n")
        var lines: [LineInput] = []
        while true {
            let input = source.nextLine(prompt: "")
            lines.append(input)
            if input == .end { break }
        }
        #expect(lines == [.line("a"), .line("b"), .line(""), .line("c"), .end])
        #expect(StringLineSource("").nextLine(prompt: "") == .end)
        #expect(!StringLineSource("x").isInteractive)
    }

    @Test func handlersReadingUndeclaredArgumentsGetAnInternalErrorNotACrash() {
        let broken = CommandSpec("broken", topic: .session, abstract: "test", discussion: "Reads an argument it does not declare.", examples: ["broken"]) { context throws(ScriptError) in
            _ = try context.arguments.int("nope")
        }
        let output = CapturingOutput()
        let session = Session(options: SessionOptions(), output: output, commands: CommandTable([broken]), interrupt: InterruptFlag())
        #expect(InputLoop.run(StringLineSource("broken"), name: nil, session: session) == .finished(failures: 1))
        #expect(output.standardError == """
        error: internal error: 'broken' reads an argument 'nope' it does not declare
        broken
        ^
        hint: this is a bug in vaesh, not in your script; please report it

        """)
    }
}
