import Foundation
import Testing

/// Real images in the terminal: the shell asks a terminal which image protocol it speaks when the
/// first picture is shown, draws with the one it answers, falls back to characters when it
/// answers nothing, and never sends a byte of it to a pipe. Here the test is the terminal: it
/// reads the question from the pseudo-terminal and types the answer.
@Suite("Terminal images in a pseudo-terminal")
struct ImageProtocolTests {
    static let escape = "\u{1B}"
    static let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[>q\u{1B}[c"
    static let script = "model hidden=8 latent=2; sample 1; sample 1"

    /// The shell running `script` in an 80-column pseudo-terminal, with `options` before it.
    static func shell(_ sandbox: Sandbox, _ options: [String] = []) throws -> PseudoTerminal {
        try PseudoTerminal(arguments: ["--no-rc"] + options + ["-c", script], environment: sandbox.environment, columns: 80)
    }

    @Test("a terminal that answers kitty's query gets kitty's graphics protocol")
    func kittyAnswered() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.shell(sandbox)
        try terminal.expect(Self.query)
        terminal.send("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22c")
        try terminal.expect("\u{1B}_Ga=T,f=100,q=2,m=0;iVBORw0KGgo")  // a PNG's signature in base64
        try terminal.expect("\u{1B}_Ga=T,f=100,q=2,m=0;iVBORw0KGgo")  // the second picture too,
        #expect(try terminal.waitForExit(timeout: 60) == .exited(0), "\(terminal.transcript)")
        // … without asking again.
        #expect(terminal.transcript.components(separatedBy: Self.query).count == 2, "\(terminal.transcript.debugDescription)")
        #expect(!terminal.transcript.contains("▀"))
    }

    @Test("a terminal whose device attributes list sixel gets sixel")
    func sixelAnswered() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.shell(sandbox)
        try terminal.expect(Self.query)
        terminal.send("\u{1B}P>|XTerm(388)\u{1B}\\\u{1B}[?63;1;2;4;6;9;15;22c")
        try terminal.expect("\u{1B}P0;1;0q\"1;1;32;32#0;2;")  // one 28×28 sample with 2 pixels of padding around it
        #expect(try terminal.waitForExit(timeout: 60) == .exited(0), "\(terminal.transcript)")
    }

    @Test("a terminal that answers only its device attributes gets half-blocks at once")
    func noProtocol() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.shell(sandbox)
        try terminal.expect(Self.query)
        let asked = Date()
        terminal.send("\u{1B}[?62;22c")
        try terminal.expect("▀")
        // The answer ends the wait: well before the half-second deadline (generous for a loaded machine).
        #expect(Date().timeIntervalSince(asked) < 5)
        #expect(try terminal.waitForExit(timeout: 60) == .exited(0), "\(terminal.transcript)")
        #expect(!terminal.transcript.contains("\u{1B}_Ga=T"))
    }

    @Test("keys typed while the terminal is asked are kept for the next prompt, not thrown away")
    func typeAheadSurvivesTheQuestion() throws {
        let sandbox = try Sandbox()
        let terminal = try PseudoTerminal(arguments: ["--no-rc"], environment: sandbox.environment, columns: 80)
        terminal.send("model hidden=8 latent=2\r")
        terminal.send("sample 1\r")
        try terminal.expect(Self.query)
        // The next command, typed before the terminal's answer has come: it reaches the shell with it.
        terminal.send("echo \"typed {20 + 22}\"\r" + "\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22c")
        try terminal.expect("\u{1B}_Ga=T,f=100,q=2,m=0;iVBORw0KGgo")
        try terminal.expect("typed 42")  // the command ran: it was typed as `{20 + 22}`
        terminal.send("quit\r")
        #expect(try terminal.waitForExit(timeout: 60) == .exited(0), "\(terminal.transcript)")
    }

    @Test("a terminal that never answers gets half-blocks after the deadline, and the shell does not hang")
    func silentTerminal() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.shell(sandbox)
        try terminal.expect(Self.query)
        try terminal.expect("▀")
        #expect(try terminal.waitForExit(timeout: 60) == .exited(0), "\(terminal.transcript)")
    }

    @Test("--images=off never asks; --images=iterm draws without asking")
    func forcedOffAndOn() throws {
        let sandbox = try Sandbox()
        let off = try Self.shell(sandbox, ["--images=off"])
        #expect(try off.waitForExit(timeout: 60) == .exited(0))
        #expect(!off.transcript.contains("\u{1B}_G") && off.transcript.contains("▀"), "\(off.transcript.debugDescription)")
        let iterm = try Self.shell(sandbox, ["--images=iterm"])
        #expect(try iterm.waitForExit(timeout: 60) == .exited(0))
        #expect(iterm.transcript.contains("\u{1B}]1337;File=inline=1;size="), "\(iterm.transcript.debugDescription)")
        #expect(!iterm.transcript.contains("\u{1B}[c"), "forced: no question")
    }

    @Test("a pipe never gets an escape sequence, even with --images=kitty; --images=bogus is a usage error")
    func pipesGetCharacters() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--no-rc", "--images=kitty", "-c", Self.script])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdout.contains(Self.escape), "\(result.stdout.debugDescription)")
        let bogus = try sandbox.run(["--no-rc", "--images=bogus", "-c", "echo hi"])
        #expect(bogus.status == 2)
        #expect(bogus.stderr.contains("--images must be auto, off, kitty, iterm or sixel, not 'bogus'"), "\(bogus)")
    }
}
