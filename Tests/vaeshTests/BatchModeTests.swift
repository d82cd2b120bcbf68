import Foundation
import Glibc
import Testing

/// `vaesh` run as a program: scripts, `-c`, pipes, flags and exit statuses.
///
/// Every run gets a sandbox home directory (no real `~/.vaeshrc` or history) and a regular file
/// as standard input, so nothing here depends on the terminal the tests run in.
@Suite("Batch modes")
struct BatchModeTests {
    // MARK: - Where commands come from

    @Test("-c runs its commands, and repeated -c run in order")
    func commandsInOrder() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["-c", #"echo "one"; echo "two""#, "-c", #"echo "three""#])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "one\ntwo\nthree\n", "no banner, no prompt: only the commands' output")
        #expect(result.stderr == "")
    }

    @Test("files run in order, after the -c commands")
    func filesInOrder() throws {
        let sandbox = try Sandbox()
        let first = try sandbox.write("first.vae", "echo \"first\"\n")
        let second = try sandbox.write("second.vae", "# a comment\necho \"second\"\n")
        let result = try sandbox.run([first, second, "-c", #"echo "from -c""#])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "from -c\nfirst\nsecond\n")
    }

    @Test("commands piped into vaesh run, without a banner or prompt")
    func pipe() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.runShellScript(#"printf 'let x = 6\necho "{x * 7}"\n' | "$VAESH""#)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "42\n")
    }

    @Test("a non-terminal stdin is read when there is nothing else to run")
    func redirectedStandardInput() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run([], stdin: "echo \"from stdin\"\n")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "from stdin\n")
    }

    @Test("'-' reads stdin in its place among the files")
    func dashIsStandardInput() throws {
        let sandbox = try Sandbox()
        let before = try sandbox.write("before.vae", "echo \"before\"\n")
        let after = try sandbox.write("after.vae", "echo \"after\"\n")
        let result = try sandbox.run([before, "-", after], stdin: "echo \"stdin\"\n")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "before\nstdin\nafter\n")
    }

    @Test("a file given on the command line is not mixed with stdin")
    func filesIgnoreStandardInput() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("script.vae", "echo \"script\"\n")
        let result = try sandbox.run([script], stdin: "echo \"stdin\"\n")
        #expect(result.stdout == "script\n")
    }

    // MARK: - Errors and exit status

    @Test("the first error stops the run with status 1")
    func firstErrorStops() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("broken.vae", "echo \"before\"\nnosuchcommand\necho \"after\"\n")
        let later = try sandbox.write("later.vae", "echo \"later\"\n")
        let result = try sandbox.run([script, later])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout == "before\n")
        #expect(result.stderr.hasPrefix("\(script):2:1: error: unknown command 'nosuchcommand'"), "\(result)")
    }

    @Test("--keep-going carries on after errors, across files, and still exits 1")
    func keepGoing() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("broken.vae", "echo \"before\"\nnosuchcommand\necho \"after\"\n")
        let later = try sandbox.write("later.vae", "echo \"later\"\n")
        let result = try sandbox.run(["--keep-going", script, later])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout == "before\nafter\nlater\n")
    }

    @Test("quit N exits with N at once", arguments: [
        (#"quit 7"#, Int32(7), ""),
        (#"echo "a"; quit 3; echo "b""#, 3, "a\n"),
        (#"exit"#, 0, ""),
        (#"quit"#, 0, ""),
    ])
    func quitStatus(command: String, status: Int32, stdout: String) throws {
        let sandbox = try Sandbox()
        let later = try sandbox.write("later.vae", "echo \"never\"\n")
        let result = try sandbox.run(["-c", command, later])
        #expect(result.status == status, "\(result)")
        #expect(result.stdout == stdout)
    }

    @Test("usage errors exit 2 with the usage on stderr", arguments: [
        ["--no-such-flag"],
        ["--seed", "ten"],
        ["--seed", "-1"],
        ["--seed"],
        ["-c"],
    ])
    func usageErrors(arguments: [String]) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(arguments)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout == "")
        #expect(result.stderr.contains("Usage: vaesh"), "\(result)")
    }

    @Test("--version and --help print to stdout and exit 0")
    func versionAndHelp() throws {
        let sandbox = try Sandbox()
        let version = try sandbox.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("vaesh "), "\(version)")
        let help = try sandbox.run(["--help"])
        #expect(help.status == 0)
        for flag in ["-c, --command", "-i, --interactive", "--keep-going", "--echo", "--seed", "--json", "--no-rc", "Exit status"] {
            #expect(help.stdout.contains(flag), "--help mentions \(flag)")
        }
    }

    // MARK: - Ctrl-C

    /// A script that runs for seconds: "started", then many quick commands, then "finished".
    static func longScript(in sandbox: Sandbox) throws -> String {
        try sandbox.write("long.vae", "echo \"started\"\n" + String(repeating: "let x = 1\n", count: 200_000) + "echo \"finished\"\n")
    }

    @Test("Ctrl-C (SIGINT) stops a running script with status 130")
    func interruptScript() throws {
        let sandbox = try Sandbox()
        let shell = try sandbox.start([Self.longScript(in: sandbox)])
        try shell.waitForOutput("started\n")
        shell.child.signal(SIGINT)
        let result = try shell.finish()
        #expect(result.termination == .exited(130), "\(result)")
        #expect(!result.stdout.contains("finished"))
    }

    @Test("Ctrl-C while waiting for piped input exits 130")
    func interruptWhileReading() throws {
        let sandbox = try Sandbox()
        let shell = try sandbox.start([], stdin: .openPipe)
        usleep(300_000)  // let it reach the read; a signal before the handler is installed also ends it
        shell.child.signal(SIGINT)
        let result = try shell.finish()
        #expect(result.termination == .exited(130) || result.termination == .signalled(SIGINT), "\(result)")
    }

    @Test("-i after a failing script still shows the prompt, to look at the state")
    func interactiveAfterFailure() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("broken.vae", "let x = 5\nnosuchcommand\n")
        let result = try sandbox.run(["-i", script], stdin: "echo \"x is {x}\"\n")
        #expect(result.status == 0, "the prompt's own status: \(result)")
        #expect(result.stdout.contains("x is 5\n"))
        #expect(result.stderr.contains("unknown command 'nosuchcommand'"))
    }

    // MARK: - Files that cannot be run

    /// (what the file is, its bytes or nil for "make a directory", the reason printed)
    static let unreadableFiles: [(String, [UInt8]?, String)] = [
        ("a directory", nil, "it is a directory"),
        ("invalid UTF-8", Array("echo \"fine\"\necho \"caf".utf8) + [0xE9] + Array("\"\n".utf8), "line 2 is not valid UTF-8"),
        ("a NUL byte", Array("echo \"x\"\0\n".utf8), "line 1 contains a NUL byte; is it a binary file?"),
    ]

    @Test("a file that cannot be read is one line on stderr and exit 1; nothing of it runs", arguments: unreadableFiles)
    func unreadableFile(what: String, bytes: [UInt8]?, reason: String) throws {
        let sandbox = try Sandbox()
        let path: String
        if let bytes {
            path = try sandbox.write("bad.vae", bytes: bytes)
        } else {
            path = sandbox.path("bad.vae")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        let result = try sandbox.run([path])
        #expect(result.status == 1, "\(what): \(result)")
        #expect(result.stdout == "")
        #expect(result.stderr == "vaesh: cannot read '\(path)': \(reason)\n", "\(what)")
    }

    @Test("a missing file is reported with the system's reason")
    func missingFile() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["missing.vae"])
        #expect(result.status == 1)
        #expect(result.stderr == "vaesh: cannot read 'missing.vae': no such file or directory\n")
    }

    @Test("with --keep-going an unreadable file is skipped and the next one runs")
    func unreadableFileKeepGoing() throws {
        let sandbox = try Sandbox()
        let later = try sandbox.write("later.vae", "echo \"later\"\n")
        let result = try sandbox.run(["--keep-going", "missing.vae", later])
        #expect(result.status == 1)
        #expect(result.stdout == "later\n")
    }

    @Test("stdin is decoded line by line: lines before bad bytes run, then exit 1")
    func invalidStandardInput() throws {
        let sandbox = try Sandbox()
        let input = try sandbox.write("input", bytes: Array("echo \"ok\"\n".utf8) + [0xFF, 0x0A])
        let result = try sandbox.runShellScript(#"cat "\#(input)" | "$VAESH""#)
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout == "ok\n")
        #expect(result.stderr == "vaesh: cannot read '<stdin>': line 2 is not valid UTF-8\n")
    }

    @Test("a byte-order mark and CRLF line ends are accepted")
    func windowsText() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("windows.vae", "\u{FEFF}echo \"one\"\r\necho \"two\"\r\n")
        let result = try sandbox.run([script])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "one\ntwo\n")
    }

    // MARK: - ~/.vaeshrc and flags

    @Test("~/.vaeshrc runs first unless --no-rc")
    func rcFile() throws {
        let sandbox = try Sandbox()
        try sandbox.write(".vaeshrc", "let greeting = 1\necho \"rc\"\n")
        let with = try sandbox.run(["-c", #"echo "{greeting}""#])
        #expect(with.stdout == "rc\n1\n", "\(with)")
        let without = try sandbox.run(["--no-rc", "-c", #"echo "cmd""#])
        #expect(without.stdout == "cmd\n", "\(without)")
    }

    @Test("--echo prints each command before running it")
    func echo() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--echo", "-c", #"echo "x"; let y = 1"#])
        #expect(result.status == 0)
        #expect(result.stdout == "> echo \"x\"\nx\n> let y = 1\n", "\(result)")
    }

    @Test("--json, --seed and --keep-going reach the session's settings")
    func flagsReachTheSession() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--json", "--seed", "42", "--keep-going", "-c", "show settings"])
        #expect(result.status == 0, "\(result)")
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("{\"command\":\"show settings\""), "one JSON object: \(result)")
        #expect(line.contains("\"seed\":42"), "\(result)")
    }

    @Test("-i after scripts reads more commands, showing the prompt, even when stdin is a pipe")
    func interactiveAfterScripts() throws {
        let sandbox = try Sandbox()
        let script = try sandbox.write("setup.vae", "let x = 2\n")
        let result = try sandbox.run(["-i", script], stdin: "echo \"{x + 1}\"\n")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Type 'help'"), "the banner")
        #expect(result.stdout.contains("vaesh> 3\n"), "the prompt, then the answer: \(result)")
    }
}
