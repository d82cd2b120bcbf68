import ArgumentParser
@preconcurrency import Glibc
import VAEScript

// vaesh: argv → a list of inputs → one input loop per input → an exit status.
// This file is the only place that calls exit().

/// The shell's version, shown by `--version` and by the interactive banner.
let vaeshVersion = "0.1.0"

// MARK: - The command line

/// The flags, declared once: ArgumentParser derives `--help`, usage and error messages from this.
struct VaeshCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vaesh",
        abstract: "Train, inspect and sample variational autoencoders from a shell.",
        discussion: """
            With no FILE and no -c, vaesh reads commands from the keyboard, with line editing, \
            history and completion; when standard input is not a terminal, it reads them from there.

            Order of work: ~/.vaeshrc (unless --no-rc), then each -c in turn, then each FILE, then \
            the prompt if -i. The first failing command stops the scripts; with -i the prompt \
            still follows, so the state can be inspected.

            Exit status: 0 on success, 1 if a command failed, 2 for a usage error, N for \
            'quit N', 130 when interrupted.

            'vaesh kernel install [--user|--prefix P|--sys-prefix]' makes vaesh a Jupyter kernel \
            (see 'vaesh kernel install --help').
            """,
        version: "vaesh \(vaeshVersion)"
    )

    @Argument(help: ArgumentHelp("Script files to run in order; '-' reads standard input.", valueName: "file"))
    var files: [String] = []

    @Option(
        name: [.customShort("c"), .customLong("command")],
        help: ArgumentHelp("Commands to run, separated by ';'. Repeatable.", valueName: "commands")
    )
    var commands: [String] = []

    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Show the prompt after the scripts.")
    var interactive = false

    @Flag(help: "Carry on with the next line after a failing command (the rest of its own line is skipped); the exit status is still 1.")
    var keepGoing = false

    @Flag(help: "Print each command before running it.")
    var echo = false

    @Option(help: ArgumentHelp("Seed for every random draw.", valueName: "n"))
    var seed: UInt64?

    @Flag(help: "Report results as one JSON object per line on standard output.")
    var json = false

    @Flag(name: .customLong("no-rc"), help: "Don't run ~/.vaeshrc first.")
    var noRC = false

    @Option(help: ArgumentHelp(
        "Lay output out for N columns: tables, text, charts and pictures (0: no wrapping).",
        discussion: "Default: the terminal's width; 80 when output is not a terminal.", valueName: "n"))
    var width: Int?

    @Option(help: ArgumentHelp(
        "Draw pictures as real images: auto (ask the terminal), off (characters), kitty, iterm or sixel.",
        discussion: "Only ever on a terminal: output to a pipe or a file, TERM=dumb, NO_COLOR and --json always get characters. auto asks the terminal when the first picture is shown and waits up to half a second for its answer.",
        valueName: "which"))
    var images = "auto"

    /// For scripts/install: the manual page, written from these flags and the command table.
    @Flag(name: .customLong("man-page"), help: .hidden)
    var manPage = false

    @Flag(help: ArgumentHelp(
        "Run the script files one command at a time: show each command that prints results and wait for a key (Enter: run it, c: run the rest, q: stop).",
        discussion: "Commands that print no results (\(silentCommands)) run without a stop; a passing assert shows ✓ and its condition. "
            + "Ignored when standard input is not a terminal."))
    var step = false

    @Flag(name: .customLong("kernel-protocol"), help: ArgumentHelp(
        "Serve a Jupyter kernel: requests and results as JSON lines on standard input and output.",
        discussion: "The vaesh Jupyter kernel starts vaesh this way (jupyter/README.md); ~/.vaeshrc is not run, so a notebook runs the same everywhere."))
    var kernelProtocol = false

    mutating func validate() throws {
        if images != "auto", images != "off", ImageProtocol(rawValue: images) == nil {
            throw ValidationError("--images must be auto, off, kitty, iterm or sixel, not '\(images)'")
        }
        if let width, width != 0, width < Session.narrowestWidth {
            throw ValidationError("--width must be 0 (no wrapping) or at least \(Session.narrowestWidth) columns, not \(width)")
        }
    }

    /// The commands `--step` does not stop before, from the command table: "let, set, …".
    private static var silentCommands: String {
        CommandTable.standard.commands.filter { !$0.printsResults }.map(\.name).joined(separator: ", ")
    }
}

// MARK: - Inputs

/// One thing to run through the input loop, in command-line order.
enum ScriptInput {
    case file(path: String)
    case commands(String)
    case standardInput
}

/// The outcome of the batch part and of the prompt, as an exit status.
func run(_ arguments: VaeshCommand) -> Int32 {
    let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    let stdinIsTerminal = isatty(STDIN_FILENO) == 1

    var options = SessionOptions()
    options.json = arguments.json
    options.echo = arguments.echo
    options.keepGoing = arguments.keepGoing
    if let seed = arguments.seed { options.seed = seed }
    options.isTerminal = stdoutIsTerminal
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    options.noColor = !stdoutIsTerminal || (getenv("NO_COLOR").map { $0.pointee != 0 } ?? false)
    // A dumb terminal (Emacs' shell, some CI consoles) shows escape sequences as garbage.
    let term = getenv("TERM").map { String(cString: $0) } ?? ""
    options.terminalHandlesEscapes = !term.isEmpty && term != "dumb"
    options.terminalWidth = terminalColumns
    options.width = arguments.width
    options.stepping = arguments.step && stdinIsTerminal

    if arguments.kernelProtocol {
        options.isTerminal = false
        options.noColor = true
        options.terminalWidth = { nil }
        return KernelServer.run(options: options)
    }

    let output = StandardOutput()
    let session = Session(options: options, output: output)
    SignalHandling.install()
    // `pause` and --step wait for the user only when there is one at a keyboard.
    let keyboard = stdinIsTerminal ? Keyboard(interrupt: session.interrupt) : nil
    // Never escapes to a non-terminal; and NO_COLOR asks for plain output, which a real image is not.
    if !options.json, stdoutIsTerminal, options.terminalHandlesEscapes, !options.noColor {
        switch arguments.images {
        case "off": break
        case "auto":
            output.detectImageProtocol = keyboard.map { keyboard in
                {
                    let (found, typed) = ImageDetection.ask()
                    keyboard.unread(typed)
                    return found
                }
            }
        default: output.imageProtocol = ImageProtocol(rawValue: arguments.images)
        }
    }
    let pause = keyboard.map { KeyboardPause(keyboard: $0) }
    if let pause { session[state: PauseHostKey.self] = pause }
    let stepping = options.stepping ? pause : nil

    var inputs: [ScriptInput] = []
    if !arguments.noRC, let home = homeDirectory() {
        let rc = home + "/.vaeshrc"
        if access(rc, F_OK) == 0 { inputs.append(.file(path: rc)) }
    }
    inputs += arguments.commands.map { .commands($0) }
    inputs += arguments.files.map { $0 == "-" ? .standardInput : .file(path: $0) }

    let nothingToRun = arguments.commands.isEmpty && arguments.files.isEmpty
    let prompt = arguments.interactive || (nothingToRun && stdinIsTerminal)
    if nothingToRun && !prompt { inputs.append(.standardInput) }

    var failed = false
    batch: for input in inputs {
        switch runBatch(input, session: session, stepping: stepping) {
        case .quit(let status): return status
        case .aborted: return 130
        case .finished(let failures) where failures > 0:
            failed = true
            if !arguments.keepGoing { break batch }
        case .finished: continue
        }
    }
    guard prompt else { return failed ? 1 : 0 }

    output.write("vaesh \(vaeshVersion) · variational autoencoders at a prompt\n")
    output.write("Type 'help' for the commands, Tab to complete, Ctrl-D to leave.\n")
    let source: LineSource
    if let keyboard {
        source = EditLineSource(session: session, keyboard: keyboard, history: HistoryFile.defaultPath().map(HistoryFile.init))
    } else {
        source = StdinLineSource(isInteractive: true)
    }
    switch InputLoop.run(source, name: nil, session: session) {
    case .quit(let status): return status
    case .aborted: return 130
    case .finished:
        if let error = (source as? StdinLineSource)?.readError {
            fputs(error.message + "\n", stderr)
            return 1
        }
        return 0
    }
}

/// The columns of the terminal stdout goes to, asked at each call so that a resized window is
/// followed, else `$COLUMNS`; nil when neither says (the language then uses 80).
func terminalColumns() -> Int? {
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return getenv("COLUMNS").flatMap { Int(String(cString: $0)) }
}

/// Runs one batch input; a file that cannot be read counts as one failure. With `stepping`, a
/// file runs one command at a time, and `q` there ends the run as `quit` would.
func runBatch(_ input: ScriptInput, session: Session, stepping: KeyboardPause?) -> RunOutcome {
    switch input {
    case .commands(let text):
        return InputLoop.run(StringLineSource(text), name: "-c", session: session)
    case .file(let path):
        do {
            let text = try ScriptText.read(path: path)
            guard let stepping else { return InputLoop.run(StringLineSource(text), name: path, session: session) }
            let source = SteppingLineSource(StringLineSource(text), session: session, keyboard: stepping)
            let outcome = InputLoop.run(source, name: path, session: session)
            return source.stopped ? .quit(status: 0) : outcome
        } catch {
            fputs(error.message + "\n", stderr)
            return .finished(failures: 1)
        }
    case .standardInput:
        let source = StdinLineSource()
        let outcome = InputLoop.run(source, name: "<stdin>", session: session)
        guard let error = source.readError else { return outcome }
        fputs(error.message + "\n", stderr)
        if case .finished(let failures) = outcome { return .finished(failures: failures + 1) }
        return outcome
    }
}

// MARK: - Main

/// The parsed command line, or the process ends: help and `--version` exit 0, a usage error 2.
func parsedOrExit<Root: ParsableCommand, Parsed>(_ root: Root.Type, _ parse: () throws -> Parsed) -> Parsed {
    do {
        return try parse()
    } catch {
        let message = root.fullMessage(for: error)
        if root.exitCode(for: error) == .success {
            print(message)
            exit(0)
        }
        // A usage error exits 2, as Unix tools do; ArgumentParser's own default is 64 (EX_USAGE).
        fputs(message + "\n", stderr)
        exit(2)
    }
}

// `vaesh kernel …` is a command of its own, not scripts named "kernel" (run such a file as ./kernel).
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "kernel" {
    var command = parsedOrExit(KernelCommand.self) { try KernelCommand.parseAsRoot(Array(CommandLine.arguments.dropFirst(2))) }
    if let install = command as? KernelCommand.Install { exit(install.install()) }
    // `vaesh kernel` and `vaesh kernel help install`: ArgumentParser's own run shows the help.
    parsedOrExit(KernelCommand.self) { try command.run() }
    exit(0)
}

let arguments = parsedOrExit(VaeshCommand.self) { try VaeshCommand.parse() }
if arguments.manPage {
    print(ManPage.render(), terminator: "")
    exit(0)
}
let status = run(arguments)
fflush(stdout)
exit(status)
