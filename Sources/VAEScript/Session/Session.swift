import Foundation

/// How the shell was started. The shell fills these from its flags.
public struct SessionOptions: Sendable {
    /// `--json`: one JSON object per reporting command on stdout.
    public var json = false
    /// `--echo`: print each command before running it.
    public var echo = false
    /// `--seed N`. Default 0, so that two runs of a script print the same numbers.
    public var seed: UInt64 = 0
    /// `--keep-going`: scripts carry on after an error (and still count it).
    public var keepGoing = false
    /// stdout is a terminal: progress bars, colours, inline pictures.
    public var isTerminal = false
    /// The terminal understands escape sequences: false for `TERM=dumb` (or no `TERM`), which
    /// then gets no colour, ASCII pictures, and a progress line redrawn with `\r` alone.
    public var terminalHandlesEscapes = true
    /// `NO_COLOR` is set: no colours even on a terminal.
    public var noColor = false
    /// The columns of the terminal stdout goes to, asked each time output is laid out so that a
    /// resized window is followed; nil when unknown. The shell owns the terminal and answers.
    public var terminalWidth: @Sendable () -> Int? = { nil }
    /// `--width N`: lay output out for N columns wherever it goes; 0 for no wrapping. nil: the
    /// terminal's width, or 80 for output that is not a terminal.
    public var width: Int?
    /// `vaesh --step` at a terminal: a class watches one command at a time, so a passing
    /// `assert` shows `✓ CONDITION` instead of nothing.
    public var stepping = false

    public init() {}
}

/// The kind of state an engine command keeps in the session (a dataset, a model, an optimiser),
/// stored without `Session` knowing the engine's types:
/// ```
/// enum ModelState: SessionStateKey { typealias Value = VAE<Float> }
/// session[state: ModelState.self] = model
/// ```
public protocol SessionStateKey {
    associatedtype Value
}

/// A variable's value and, when a command set it, the unit it was reported in and what it was
/// computed on.
public struct Variable: Equatable, Sendable {
    public var value: ScriptValue
    public var unit: String?
    /// Where the value came from; nil for a constant (`let x = 1`).
    public var origin: VariableOrigin?

    public init(value: ScriptValue, unit: String? = nil, origin: VariableOrigin? = nil) {
        self.value = value
        self.unit = unit
        self.origin = origin
    }
}

/// The command that computed a variable, and the versions of the model and data it describes.
public struct VariableOrigin: Equatable, Sendable {
    /// As typed, e.g. "logpx k=200".
    public var command: String
    /// The model version it describes, or nil when it does not depend on the model.
    public var modelVersion: Int?
    /// The data version it describes, or nil when it does not depend on the data.
    public var dataVersion: Int?
    /// The architecture version it describes (a parameter count), or nil when it depends on more
    /// of the model than its architecture, or on none of it.
    public var architectureVersion: Int?

    public init(command: String, modelVersion: Int?, dataVersion: Int?, architectureVersion: Int? = nil) {
        self.command = command
        self.modelVersion = modelVersion
        self.dataVersion = dataVersion
        self.architectureVersion = architectureVersion
    }
}

/// Everything a session remembers: variables, settings, the commands typed, the engine's state,
/// and the scripts being sourced. One per shell; the input loop and the handlers share it.
public final class Session {
    public let options: SessionOptions
    public let output: OutputSink
    public let commands: CommandTable
    /// Where this session looks for Ctrl-C.
    public let interrupt: InterruptFlag
    public var settings: Settings
    public private(set) var variables: [String: Variable] = [:]
    /// The top-level commands entered so far (continued lines joined), for `history`: the last
    /// `historyLimit` of them, so that a long session's memory stays flat.
    public private(set) var commandHistory: [String] = []
    /// How many older commands `commandHistory` has let go; `history` numbers from this plus 1.
    public private(set) var commandHistoryDropped = 0
    /// As many commands as the line editor's history file keeps.
    public static let historyLimit = 1000
    /// What the prompt shows between brackets, e.g. `mnist·784-400-20`; set by engine commands.
    public var promptLabel: String?

    /// Engine state, keyed by `SessionStateKey` types.
    private var state: [ObjectIdentifier: Any] = [:]
    /// The scripts being run, outermost first (the top-level one included).
    var sourceStack: [SourceFrame] = []
    /// Set by `quit` and `source` for the input loop to act on after the command.
    var pendingOutcome: RunOutcome?

    /// The maximum depth of `source` inside `source`.
    public static let sourceNestingLimit = 16

    public init(options: SessionOptions, output: OutputSink, commands: CommandTable = .standard,
                interrupt: InterruptFlag = Interrupt.process) {
        self.options = options
        self.output = output
        self.commands = commands
        self.interrupt = interrupt
        self.settings = Settings(options: options)
    }

    // MARK: - Prompt

    /// `vaesh> `, or `vaesh[mnist·784-400-20]> ` once engine commands set `promptLabel`.
    public var prompt: String {
        if let promptLabel, !promptLabel.isEmpty { return "vaesh[\(promptLabel)]> " }
        return "vaesh> "
    }

    /// `...> ` right-aligned under the prompt, shown while a quote or a `\` is open.
    public var continuationPrompt: String {
        String(repeating: " ", count: max(0, prompt.count - 5)) + "...> "
    }

    /// True when `text` stops inside a quote or right after a continuing `\`: the shell shows
    /// the continuation prompt and reads more (the lexer's dedicated `incomplete` error). Other
    /// errors are not "incomplete": more lines cannot fix them.
    public func isIncomplete(_ text: String) -> Bool { Lexer.isIncomplete(text) }

    // MARK: - Starting from another session

    /// Takes over `other`'s variables, history, prompt label and state: the workbench is copied
    /// (`Trainer.copy()`: a model trains in place), so that this session goes on from where `other`
    /// is and `other` stays as it is; any other state (a `PauseHost`) is shared. Options, settings,
    /// output and commands stay this session's own. A fuzzer prepares data and a model once and
    /// starts every input from a copy.
    public func takeState(of other: Session) {
        variables = other.variables
        commandHistory = other.commandHistory
        commandHistoryDropped = other.commandHistoryDropped
        promptLabel = other.promptLabel
        state = other.state
        if let workbench = other[state: WorkbenchKey.self] { self[state: WorkbenchKey.self] = workbench.copy() }
    }

    // MARK: - Variables

    /// Sets a number; `unit` (e.g. `nats/example`) is shown by `vars`, and `origin` says what it
    /// was computed on (so it can be refused once the model or data has changed).
    public func setVariable(_ name: String, _ value: Double, unit: String? = nil, origin: VariableOrigin? = nil) {
        variables[name] = Variable(value: .number(value), unit: unit, origin: origin)
    }

    public func setVariable(_ name: String, _ value: ScriptValue, unit: String? = nil, origin: VariableOrigin? = nil) {
        variables[name] = Variable(value: value, unit: unit, origin: origin)
    }

    public func variable(_ name: String) -> ScriptValue? { variables[name]?.value }

    /// Forgets a variable (a standard error the latest command did not compute).
    public func removeVariable(_ name: String) { variables[name] = nil }

    /// Name → value, what expressions evaluate against.
    public var variableValues: [String: ScriptValue] { variables.mapValues(\.value) }

    // MARK: - Engine state

    public subscript<Key: SessionStateKey>(state key: Key.Type) -> Key.Value? {
        get { state[ObjectIdentifier(key)] as? Key.Value }
        set { state[ObjectIdentifier(key)] = newValue }
    }

    // MARK: - Output helpers

    /// Colours only for a terminal that understands them, and never with `NO_COLOR`.
    public var usesColor: Bool { usesEscapes && !options.noColor }

    /// Escape sequences (cursor control, colour) only for a terminal that is not `TERM=dumb`;
    /// pipes and files get plain text.
    public var usesEscapes: Bool { options.isTerminal && options.terminalHandlesEscapes }

    /// The narrowest width believed: a terminal that says less is taken not to know.
    public static let narrowestWidth = 20

    /// The columns output is laid out for: `--width` when given (0: no wrapping), else the
    /// terminal's width, asked now so a resized window is followed, else 80. Output that is not
    /// a terminal gets 80, so logs and tests do not depend on where they were made, and a script
    /// piped through `tee` onto a projector still fits.
    public var lineWidth: Int {
        if let width = options.width {
            return width == 0 ? TextLayout.unlimited : max(Self.narrowestWidth, width)
        }
        guard options.isTerminal, let columns = options.terminalWidth(), columns >= Self.narrowestWidth else { return 80 }
        return columns
    }

    /// The most characters of a source line an error shows: what fits the terminal (or
    /// `--width`) beside the "…" at each end, so the caret stays on the line under it; a
    /// generous fixed width for pipes and logs, where nothing wraps.
    var widestSourceShown: Int {
        guard options.isTerminal || options.width != nil else { return Diagnostics.widestSourceLine }
        let width = lineWidth
        return width == TextLayout.unlimited ? Diagnostics.widestSourceLine : width - 2
    }

    /// Prints a report for humans or as one JSON line, depending on the `json` setting. Pictures go
    /// to the sink in their place, which draws them in characters unless it shows pictures itself.
    public func emit(_ report: Report) {
        if settings.json {
            output.write(report.json + "\n")
            return
        }
        for part in report.humanParts(width: lineWidth) {
            switch part {
            case .text(let text): output.write(text)
            case .picture(let picture): output.show(picture)
            }
        }
    }

    /// Reports an error, rendered through `Diagnostics`, to the sink (stderr by default).
    func emit(_ error: ScriptError, sourceName: String?, sourceLine: String?) {
        let rendered = Diagnostics.render(error, sourceName: sourceName, sourceLine: sourceLine,
                                          json: settings.json, color: usesColor, widestSource: widestSourceShown)
        var isInterruption = false
        if case .interrupted = error { isInterruption = true }
        output.report(ErrorReport(message: Diagnostics.message(error), hint: Diagnostics.hint(error), sourceName: sourceName,
                                  location: error.location, rendered: rendered, isInterruption: isInterruption))
    }

    func recordHistory(_ entry: String) {
        commandHistory.append(entry)
        // Dropped in blocks, so each entry is moved once per 100 commands rather than every time.
        if commandHistory.count >= Self.historyLimit + 100 {
            let excess = commandHistory.count - Self.historyLimit
            commandHistory.removeFirst(excess)
            commandHistoryDropped += excess
        }
    }

    /// The directory relative paths of `source` start from: that of the script being run, or the
    /// working directory interactively and for `-c`.
    var currentDirectory: String? { sourceStack.last?.directory }
}

/// A script being run: its name for diagnostics and the directory it lives in.
struct SourceFrame {
    var name: String?
    var directory: String?

    init(name: String?) {
        self.name = name
        // A name with a `/` is a path; anything else (nil, "-c", "tour.vae") lives in the working directory.
        if let name, name.contains("/") {
            directory = (name as NSString).deletingLastPathComponent
        } else {
            directory = nil
        }
    }
}
