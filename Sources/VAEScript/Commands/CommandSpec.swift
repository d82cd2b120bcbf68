import VAEFormats
import VAEKit

/// The groups `help` lists commands in, in this order.
///
/// Each topic's commands live in one file, `Commands+<Topic>.swift`.
public enum CommandTopic: String, CaseIterable, Sendable {
    case data = "Data"
    case model = "Model"
    case terms = "Objective terms"
    case teaching = "Teaching: the sign, checked and explained"
    case training = "Training"
    case pictures = "Samples and pictures"
    case latent = "The latent space"
    case variables = "Variables and checks"
    case session = "Session"
}

/// What a command does when run. It receives validated arguments and must be all-or-nothing:
/// compute everything first, then change the session (a failed command changes nothing).
public typealias CommandHandler = @Sendable (CommandContext) throws(ScriptError) -> Void

/// One command, declared once as data. Parsing, validation, `help`, completion, "did you mean"
/// and `docs/COMMANDS.md` are all derived from it.
public struct CommandSpec: Sendable {
    /// One word, or two for a family such as `show settings` (`load mnist`, `load idx`).
    public var name: String
    public var aliases: [String]
    public var topic: CommandTopic
    public var arguments: [ArgumentSpec]
    /// One line, lowercase start, no final period: "print text, with {expr} replaced by its value".
    public var abstract: String
    /// A few sentences: what it does, what it prints, what it changes.
    public var discussion: String
    /// Complete command lines, each valid.
    public var examples: [String]
    /// False for a command that shows no result of its own, so `vaesh --step` runs it without a
    /// stop: it changes state silently (`let`, `set`, `quit`), says the teacher's own words
    /// (`echo`), waits for the user itself (`pause`), or checks (`assert`: nothing on a pass, an
    /// error on a failure). True, the default, for every command that prints what it computed or
    /// looked up, and for `source`, whose script may.
    public var printsResults: Bool
    public var handler: CommandHandler

    public init(_ name: String, aliases: [String] = [], topic: CommandTopic, arguments: [ArgumentSpec] = [],
                abstract: String, discussion: String, examples: [String], printsResults: Bool = true,
                handler: @escaping CommandHandler) {
        self.name = name
        self.aliases = aliases
        self.topic = topic
        self.arguments = arguments
        self.abstract = abstract
        self.discussion = discussion
        self.examples = examples
        self.printsResults = printsResults
        self.handler = handler
    }

    /// `train [epochs=1] [batch=128] [lr=0.001]`: positional arguments first, in order, then options.
    public var usage: String {
        let positional = arguments.filter { $0.kind != .option }.map(\.usage)
        let options = arguments.filter { $0.kind == .option }.map(\.usage)
        return ([name] + positional + options).joined(separator: " ")
    }

    public func argument(named name: String) -> ArgumentSpec? {
        arguments.first { $0.name == name }
    }

    /// The argument that takes the rest of the line, if this command has one.
    var restArgument: ArgumentSpec? { arguments.first { $0.kind == .rest } }
}

/// What a handler gets: the session, the validated arguments, where the command was written, and
/// helpers that make errors point at the command.
public struct CommandContext {
    public let session: Session
    public let arguments: ArgumentValues
    public let spec: CommandSpec
    public let invocation: Invocation

    public init(session: Session, arguments: ArgumentValues, spec: CommandSpec, invocation: Invocation) {
        self.session = session
        self.arguments = arguments
        self.spec = spec
        self.invocation = invocation
    }

    /// Where the command's name was written.
    public var location: SourceLocation { invocation.location }
    public var output: OutputSink { session.output }
    public var settings: Settings { session.settings }

    /// Prints the report (text or one JSON line) and sets a variable for every quantity, and
    /// `<key>_se` for its standard error; a quantity without one removes an earlier `<key>_se`,
    /// which described other examples. Call it last: it is the command's visible commit.
    public func report(_ report: Report) {
        for quantity in report.quantities where quantity.setsVariable {
            setVariable(quantity.key, quantity.value, unit: quantity.unit, dependency: report.dependency)
            if let error = quantity.standardError {
                setVariable(quantity.key + "_se", error, unit: quantity.unit, dependency: report.dependency)
            } else {
                session.removeVariable(quantity.key + "_se")
            }
        }
        session.emit(report)
    }

    /// Sets a variable computed by this command, recording what it depends on (so it goes stale
    /// when that changes). An empty `unit` means none.
    public func setVariable(_ name: String, _ value: Double, unit: String = "", dependency: Dependency = .modelAndData) {
        session.setVariable(name, value, unit: unit.isEmpty ? nil : unit,
                            origin: session.origin(command: invocation.sourceText, dependency: dependency))
    }

    /// An error at this command: `throw context.failure("no test split in this file", hint: "…")`.
    public func failure(_ message: String, hint: String? = nil) -> ScriptError {
        .commandFailed(message: message, hint: hint, at: location)
    }

    /// An error pointing at one argument's value (or at the command if it was not given).
    public func failure(argument name: String, _ message: String, hint: String? = nil) -> ScriptError {
        .commandFailed(message: message, hint: hint, at: arguments.location(of: name) ?? location)
    }

    /// "no model yet: run 'model' or 'open FILE' first".
    public func missing(_ what: String, remedy: String) -> ScriptError {
        .missingPrerequisite(missing: what, remedy: remedy, at: location)
    }

    /// The engine state under `key`, or the missing-prerequisite error:
    /// `let model = try context.require(ModelState.self, missing: "model", remedy: "run 'model' or 'open FILE' first")`.
    public func require<Key: SessionStateKey>(_ key: Key.Type, missing what: String, remedy: String) throws(ScriptError) -> Key.Value {
        guard let value = session[state: key] else { throw missing(what, remedy: remedy) }
        return value
    }

    /// Runs engine or file code, turning its errors into `ScriptError`s at this command: an
    /// `EngineError` or a formats module's `DescribedError` keeps its message and hint; anything
    /// else becomes its description.
    public func engine<Result>(_ body: () throws -> Result) throws(ScriptError) -> Result {
        do {
            return try body()
        } catch let error as ScriptError {
            throw error
        } catch let error as any EngineError {
            throw ScriptError(error, at: location)
        } catch let error as any DescribedError {
            throw .engine(message: error.message, hint: error.hint, at: location)
        } catch {
            throw failure(String(describing: error))
        }
    }

    /// True once Ctrl-C was pressed: long commands check it at safe points and stop there.
    public var isInterrupted: Bool { session.interrupt.isRequested }
}
