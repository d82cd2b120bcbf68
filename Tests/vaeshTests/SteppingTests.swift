import Foundation
import Testing

/// `vaesh --step FILE` and `pause`: waiting for the user at a real terminal, and not waiting
/// anywhere else.
///
/// At the step and pause prompts the terminal is out of line mode and one key answers; keys are
/// sent as they are, Enter as a carriage return. The prompt shows only once the terminal is
/// ready for a single key (keys typed before it are discarded), so a test sends after seeing it.
@Suite("Stepping and pause")
struct SteppingTests {
    typealias Key = PseudoTerminal.Key

    /// Two commands print results (`vars`, `help quit`, continued over two lines); the rest print
    /// nothing of their own, narrate or check, and run without a stop.
    static let script = """
    # a comment runs without a stop
    echo "narration"
    let x = 1
    set seed=7
    assert x == 1
    vars
    echo "y = {x + 1}"
    help \\
      quit
    echo "z = 3"
    echo "done"

    """

    static let stepPrompt = "[Enter: run · c: run the rest · q: stop]"

    @Test("--step stops only before commands that print results, and Enter runs the command")
    func stepsThroughCommands() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file], environment: sandbox.environment)
        try terminal.expect("narration\n✓ x == 1\n▸ vars\n" + Self.stepPrompt)
        #expect(!terminal.transcript.contains("x = 1"), "nothing after the stop ran yet")
        terminal.send(Key.enter)
        try terminal.expect("x = 1\ny = 2\n")
        // A command continued over two lines is shown, and waited for, once.
        try terminal.expect("▸ help \\ ⏎   quit\n" + Self.stepPrompt)
        #expect(!terminal.transcript.contains("usage: quit"))
        terminal.send(Key.enter)
        try terminal.expect("usage: quit")
        try terminal.expect("z = 3\ndone\n")
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(terminal.transcript.components(separatedBy: "▸").count == 3, "two stops only:\n\(terminal.transcript)")
    }

    @Test("c alone runs the rest without stopping")
    func continueRunsTheRest() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file], environment: sandbox.environment)
        try terminal.expect(Self.stepPrompt)
        terminal.send("c")
        try terminal.expect(" c\nx = 1\ny = 2\n")  // the answer shown after the prompt
        try terminal.expect("z = 3\ndone\n")
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(terminal.transcript.components(separatedBy: "▸").count == 2, "one stop only:\n\(terminal.transcript)")
    }

    @Test("q alone stops: the rest does not run, and the exit status is 0")
    func quitStops() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let later = try sandbox.write("later.vae", "echo \"later file\"\n")
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file, later], environment: sandbox.environment)
        try terminal.expect("▸ vars\n" + Self.stepPrompt)
        terminal.send(Key.enter)
        try terminal.expect(Self.stepPrompt)
        terminal.send("q")
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(!terminal.transcript.contains("usage: quit"))
        #expect(!terminal.transcript.contains("later file"), "q ends the run, not just the file")
    }

    @Test("other keys, an arrow's escape sequence among them, answer nothing")
    func otherKeysAreIgnored() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file], environment: sandbox.environment)
        try terminal.expect(Self.stepPrompt)
        // Right arrow is ESC [ C: its C must not be taken for c.
        terminal.send("x \u{1B}[C")
        usleep(300_000)
        #expect(!terminal.transcript.contains("x = 1"), "still waiting:\n\(terminal.transcript)")
        terminal.send(Key.enter)
        try terminal.expect("x = 1\ny = 2\n")
        try terminal.expect(Self.stepPrompt)
        terminal.send("q")
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("Ctrl-C at the step prompt interrupts the script (130) and gives the terminal back in line mode")
    func interruptAtTheStepPrompt() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file], environment: sandbox.environment)
        try terminal.expect(Self.stepPrompt)
        #expect(!terminal.isInLineMode, "waiting for a single key")
        terminal.send(Key.interrupt)
        #expect(try terminal.waitForExit() == .exited(130))
        #expect(!terminal.transcript.contains("x = 1"))
        #expect(terminal.isInLineMode, "line mode and echo are back")
    }

    @Test("a signal that ends vaesh during a single-key wait gives the terminal back in line mode")
    func terminationAtTheStepPrompt() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "--step", file], environment: sandbox.environment)
        try terminal.expect(Self.stepPrompt)
        #expect(!terminal.isInLineMode, "waiting for a single key")
        terminal.child.signal(SIGTERM)
        #expect(try terminal.waitForExit() == .signalled(SIGTERM))
        #expect(terminal.isInLineMode, "line mode and echo are back")
    }

    @Test("--step is a no-op when stdin is not a terminal")
    func stepWithoutATerminal() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("steps.vae", Self.script)
        let result = try sandbox.run(["--no-rc", "--step", file])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("narration\nx = 1\ny = 2\nusage: quit"), "no ✓ either:\n\(result)")
        #expect(result.stdout.hasSuffix("z = 3\ndone\n"))
        #expect(!result.stderr.contains("▸"))
    }

    // MARK: - pause

    static let pauseScript = """
    echo "before"
    pause "Look at this"
    echo "after"

    """

    @Test("pause waits for a key at a terminal: Enter goes on")
    func pauseWaits() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("pause.vae", Self.pauseScript)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", file], environment: sandbox.environment)
        try terminal.expect("Look at this\n[Enter: go on · c: run to the end · q: quit]")
        usleep(200_000)
        #expect(!terminal.transcript.contains("after"), "the script waits")
        terminal.send(Key.enter)
        try terminal.expect("after\n")
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("q alone at a pause ends the scripts like quit, and so does Ctrl-D", arguments: ["q", Key.endOfFile])
    func pauseQuit(key: String) throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("pause.vae", Self.pauseScript)
        let terminal = try PseudoTerminal(arguments: ["--no-rc", file], environment: sandbox.environment)
        try terminal.expect("[Enter: go on · c: run to the end · q: quit]")
        terminal.send(key)
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(!terminal.transcript.contains("after"))
        #expect(terminal.isInLineMode)
    }

    @Test("pause does not wait when stdin is not a terminal")
    func pauseWithoutATerminal() throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("pause.vae", Self.pauseScript)
        let result = try sandbox.run(["--no-rc", file])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "before\nLook at this\nafter\n")
        #expect(result.stderr == "")
    }
}
