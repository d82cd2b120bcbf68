import Foundation
import Testing

/// `vaesh` at a real pseudo-terminal, typed at the way a user would: line editing, completion,
/// history, Ctrl-C and Ctrl-D.
///
/// Each test waits for the prompt, and `type` for the line editor, before typing: keys typed
/// ahead are read by the terminal in line mode, and Ctrl-C discards them, as in any shell.
/// Every wait has a deadline, and a failing wait shows what the terminal showed.
@Suite("Interactive mode")
struct InteractiveModeTests {
    typealias Key = PseudoTerminal.Key

    static let prompt = "vaesh> "
    static let continuationPrompt = "  ...> "

    /// Starts the shell and waits for its first prompt.
    static func start(_ sandbox: Sandbox, arguments: [String] = []) throws -> PseudoTerminal {
        let terminal = try PseudoTerminal(arguments: arguments, environment: sandbox.environment)
        try terminal.expect(prompt)
        return terminal
    }

    @Test("the banner names the version and points at help; Ctrl-D on an empty line exits 0")
    func bannerAndEndOfFile() throws {
        let sandbox = try Sandbox()
        let terminal = try PseudoTerminal(environment: sandbox.environment)
        let banner = try terminal.expect(Self.prompt)
        #expect(banner.hasPrefix("vaesh "), "\(banner)")
        #expect(banner.contains("'help'"))
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("lines typed before the first prompt shows are run, not thrown away")
    func typeAheadAtStartUp() throws {
        let sandbox = try Sandbox()
        let terminal = try PseudoTerminal(environment: sandbox.environment)
        // Sent at once, while vaesh is still starting: the terminal holds them until it reads.
        terminal.send(#"echo "first {20 + 22}""# + Key.enter + #"echo "second {40 + 2}""# + Key.enter)
        try terminal.expect("first 42")
        try terminal.expect("second 42")
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0), "\(terminal.transcript)")
    }

    @Test("Ctrl-C at the prompt clears the line; the next line runs alone")
    func interruptClearsTheLine() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.start(sandbox)
        try terminal.type(#"echo "abandoned""#)
        try terminal.expect(#""abandoned""#)
        try terminal.type(Key.interrupt)
        try terminal.expect(Self.prompt)
        try terminal.type(#"echo "kept""# + Key.enter)
        try terminal.expect("kept\n")
        try terminal.expect(Self.prompt)
        #expect(!terminal.transcript.contains("abandoned\n"), "the cleared line did not run")
        #expect(!terminal.transcript.contains("error"))
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("an open quote or a trailing backslash shows the continuation prompt")
    func continuationPrompt() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.start(sandbox)
        try terminal.type(#"echo "first"# + Key.enter)
        try terminal.expect(Self.continuationPrompt)
        try terminal.type(#"second""# + Key.enter)
        try terminal.expect("first\nsecond\n")
        try terminal.expect(Self.prompt)

        try terminal.type(#"echo "left" \"# + Key.enter)
        try terminal.expect(Self.continuationPrompt)
        try terminal.type(#"; echo "right""# + Key.enter)
        try terminal.expect("left\nright\n")
        try terminal.expect(Self.prompt)

        // Ctrl-C abandons the whole unfinished command, back to the first prompt.
        try terminal.type(#"echo "{40 + 2}"# + Key.enter)
        try terminal.expect(Self.continuationPrompt)
        try terminal.type(Key.interrupt)
        try terminal.expect(Self.prompt)
        try terminal.type(#"echo "done""# + Key.enter)
        try terminal.expect("done\n")
        try terminal.expect(Self.prompt)
        #expect(!terminal.transcript.contains("42"), "the abandoned command did not run")
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("Tab completes command names, option names and their values")
    func completion() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.start(sandbox)

        // A command name: `ech` becomes `echo `.
        try terminal.type("ech" + Key.tab)
        try terminal.expect("o ")
        try terminal.type(#""completed""# + Key.enter)
        try terminal.expect("completed\n")
        try terminal.expect(Self.prompt)

        // An option name, then one of its values: `set se` → `set seed=`; `set json=tr` → `true`.
        try terminal.type("set se" + Key.tab)
        try terminal.expect("ed=")
        try terminal.type("7 json=tr" + Key.tab)
        try terminal.expect("ue ")
        try terminal.type(Key.enter)
        try terminal.expect(Self.prompt)
        try terminal.type("show settings" + Key.enter)
        try terminal.expect(#""seed":7"#)
        try terminal.expect(Self.prompt)

        // The option of the command being typed, then a `split=` value; Ctrl-C drops the line.
        try terminal.type("kl spl" + Key.tab)
        try terminal.expect("it=")
        try terminal.type("tr" + Key.tab)
        try terminal.expect("ain ")
        try terminal.type(Key.interrupt)
        try terminal.expect(Self.prompt)

        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("Tab completes file paths for path arguments")
    func pathCompletion() throws {
        let sandbox = try Sandbox()
        try sandbox.write("greeting.vae", "echo \"hello from a file\"\n")
        let terminal = try Self.start(sandbox, arguments: [])
        // The shell's working directory is the test's; name the file through an absolute path.
        let directory = sandbox.directory.path + "/"
        try terminal.type("source " + directory + "gree" + Key.tab)
        try terminal.expect("ting.vae ")
        try terminal.type(Key.enter)
        try terminal.expect("hello from a file\n")
        try terminal.expect(Self.prompt)
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("history is saved as it is typed and recalled after a restart")
    func historyAfterRestart() throws {
        let sandbox = try Sandbox()
        let first = try Self.start(sandbox)
        try first.type(#"echo "from the first session""# + Key.enter)
        try first.expect("from the first session\n")
        try first.expect(Self.prompt)
        try first.type(Key.endOfFile)
        #expect(try first.waitForExit() == .exited(0))
        #expect(sandbox.read("history") == "echo \"from the first session\"\n")

        let second = try Self.start(sandbox)
        try second.type(Key.previousHistory)
        try second.expect(#""from the first session""#)
        try second.type(Key.enter)
        try second.expect("from the first session\n")
        try second.expect(Self.prompt)
        try second.type(Key.endOfFile)
        #expect(try second.waitForExit() == .exited(0))
    }

    @Test("the history file keeps the last 1000 entries and no consecutive duplicates")
    func historyCapAndDuplicates() throws {
        let sandbox = try Sandbox()
        let old = (1...1000).map { "echo \"old \($0)\"" }
        try sandbox.write("history", old.joined(separator: "\n") + "\n")
        let terminal = try Self.start(sandbox)
        for _ in 0..<2 {
            try terminal.type(#"echo "new""# + Key.enter)
            try terminal.expect("new\n")
            try terminal.expect(Self.prompt)
        }
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
        let saved = (sandbox.read("history") ?? "").split(separator: "\n").map(String.init)
        #expect(saved.count == 1000)
        #expect(saved.first == "echo \"old 2\"")
        #expect(saved.suffix(2) == ["echo \"old 1000\"", "echo \"new\""])
    }

    @Test("a hang-up keeps the history, including the last line typed")
    func hangUpKeepsHistory() throws {
        let sandbox = try Sandbox()
        try sandbox.write("history", "echo \"older\"\n")
        let terminal = try Self.start(sandbox)
        try terminal.type(#"echo "before the hang-up""# + Key.enter)
        try terminal.expect("before the hang-up\n")
        try terminal.expect(Self.prompt)
        terminal.hangUp()
        _ = try terminal.waitForExit()
        #expect(sandbox.read("history") == "echo \"older\"\necho \"before the hang-up\"\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)
            .filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "no temporary history files left behind")
    }

    @Test("-i runs the scripts first, then shows the prompt; quit N sets the status")
    func interactiveAfterScripts() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("setup.vae", "let answer = 41\necho \"script ran\"\n")
        let terminal = try PseudoTerminal(arguments: ["-i", script], environment: sandbox.environment)
        try terminal.expect("script ran\n")
        try terminal.expect(Self.prompt)
        try terminal.type(#"echo "{answer + 1}""# + Key.enter)
        try terminal.expect("42\n")
        try terminal.expect(Self.prompt)
        try terminal.type("quit 3" + Key.enter)
        #expect(try terminal.waitForExit() == .exited(3))
    }

    @Test("an error at the prompt is reported without a file name and does not end the session")
    func errorsDoNotEndTheSession() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.start(sandbox)
        try terminal.type("nosuchcommand" + Key.enter)
        try terminal.expect("unknown command 'nosuchcommand'")
        try terminal.expect(Self.prompt)
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(!terminal.transcript.contains("<stdin>"))
    }

    @Test("Ctrl-C while a command runs stops it at a safe point and keeps the session's state")
    func interruptRunningCommand() throws {
        let sandbox = try Sandbox()
        let script = try BatchModeTests.longScript(in: sandbox)
        let terminal = try Self.start(sandbox)
        try terminal.type("let kept = 7; source " + script + Key.enter)
        try terminal.expect("started\n")
        terminal.send(Key.interrupt)  // the command is running: not `type`, which waits for the prompt
        try terminal.expect("interrupted\n")
        try terminal.expect(Self.prompt)
        try terminal.type(#"echo "kept {kept}""# + Key.enter)
        try terminal.expect("kept 7\n")
        try terminal.expect(Self.prompt)
        #expect(!terminal.transcript.contains("finished"))
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("an empty VAESH_HISTORY keeps no history file")
    func historyOff() throws {
        let sandbox = try Sandbox()
        var environment = sandbox.environment
        environment["VAESH_HISTORY"] = ""
        let terminal = try PseudoTerminal(environment: environment)
        try terminal.expect(Self.prompt)
        try terminal.type(#"echo "unrecorded""# + Key.enter)
        try terminal.expect("unrecorded\n")
        try terminal.expect(Self.prompt)
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
        let files = try FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)
        #expect(!files.contains { $0.contains("history") }, "\(files)")
    }

    @Test("a history file that cannot be written is reported once; the session goes on")
    func historyUnwritable() throws {
        let sandbox = try Sandbox()
        var environment = sandbox.environment
        let path = sandbox.path("no-such-directory/history")
        environment["VAESH_HISTORY"] = path
        let terminal = try PseudoTerminal(environment: environment)
        try terminal.expect(Self.prompt)
        for word in ["one", "two"] {
            try terminal.type("echo \"\(word)\"" + Key.enter)
            try terminal.expect("\(word)\n")
            try terminal.expect(Self.prompt)
        }
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
        let warning = "vaesh: cannot save history to '\(path)': no such file or directory\n"
        #expect(terminal.transcript.components(separatedBy: warning).count == 2, "exactly once:\n\(terminal.transcript)")
    }

    // MARK: - With the engine

    @Test("Ctrl-C during train stops at a batch boundary and keeps the model; kl works afterwards")
    func interruptDuringTraining() throws {
        let sandbox = try Sandbox()
        let terminal = try Self.start(sandbox)
        try terminal.type("load mnist limit=2000; model hidden=64 latent=8" + Key.enter)
        try terminal.expect("]> ", timeout: 60)  // the prompt now names the data and the model
        try terminal.type("train epochs=50" + Key.enter)
        try terminal.expect("epoch 1 ", timeout: 60)  // the progress bar: training is under way
        terminal.send(Key.interrupt)  // the command is running: not `type`, which waits for the prompt
        try terminal.expect("Ctrl-C", timeout: 60)  // the trainer says where it stopped
        try terminal.expect("]> ")
        try terminal.type("kl" + Key.enter)
        try terminal.expect("KL(q(z|x) ‖ p(z)) = ", timeout: 60)
        try terminal.expect("]> ")
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    // MARK: - Pictures at the terminal's width

    /// The widest line of ASCII pictures in `text` (`NO_COLOR`): 16 samples of 28×28 are two rows
    /// of eight tiles 14 characters wide with a blank between, as many to a band as fit.
    static func pictureWidth(_ text: String) -> Int {
        let shades = Set(" .:-=+*#%@")
        return text.split(separator: "\n").filter { $0.allSatisfy(shades.contains) }.map(\.count).max() ?? 0
    }

    @Test("pictures take the terminal's width, asked again after the window is resized")
    func picturesFollowTheWindow() throws {
        let sandbox = try Sandbox()
        var environment = sandbox.environment
        environment["NO_COLOR"] = "1"
        let terminal = try PseudoTerminal(environment: environment, columns: 160)
        try terminal.expect(Self.prompt)
        try terminal.type("model" + Key.enter)
        try terminal.expect("]> ")
        try terminal.type("sample 16" + Key.enter)
        let wide = try terminal.expect("]> ")
        #expect(Self.pictureWidth(wide) == 8 * 15 - 1, "a whole row of eight in one band:\n\(wide)")
        terminal.resize(columns: 60)
        try terminal.type("sample 16" + Key.enter)
        let narrow = try terminal.expect("]> ")
        #expect(Self.pictureWidth(narrow) == 4 * 15 - 1, "four tiles to a band:\n\(narrow)")
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("a terminal that does not say its width: $COLUMNS, else 80", arguments: [("50", 3), (nil, 5)] as [(String?, Int)])
    func picturesWithoutAWindowSize(columns: String?, tiles: Int) throws {
        let sandbox = try Sandbox()
        var environment = sandbox.environment
        environment["NO_COLOR"] = "1"
        environment["COLUMNS"] = columns
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "-c", "model; sample 16"], environment: environment, columns: 0)
        #expect(try terminal.waitForExit() == .exited(0))
        #expect(Self.pictureWidth(terminal.transcript) == tiles * 15 - 1, "\(terminal.transcript)")
    }
}
