import VAEKit

/// Why the input stopped where it did: the input loop reads another line for these.
public enum IncompleteInput: Equatable, Sendable {
    /// A `"` or `'` that is still open.
    case unterminatedString(quote: Character)
    /// A `\` at the very end of the input.
    case lineContinuation
}

/// Every error of the language, as a value. Each case carries where it happened; errors about one
/// argument also carry `argumentIndex`, the 0-based position of the word after the command name.
///
/// The wording lives in one place, `Diagnostics.swift`, so that the tables of (input, message) in
/// the tests pin every message down.
public enum ScriptError: Error, Equatable, Sendable {
    // MARK: - Lexing and parsing
    /// Not an error while lines can still come: the loop shows the continuation prompt.
    case incomplete(IncompleteInput, at: SourceLocation)
    case syntax(String, at: SourceLocation)

    // MARK: - Validation against the command table
    case unknownCommand(String, suggestion: String?, at: SourceLocation)
    /// `show nothing`: the first word names a family of commands, the second none of them.
    case unknownSubcommand(String, command: String, choices: [String], suggestion: String?, at: SourceLocation)
    case unknownOption(String, command: String, suggestion: String?, at: SourceLocation, argumentIndex: Int)
    /// The value does not have the argument's type: `epochs=ten`.
    case invalidValue(String, argument: String, command: String, expected: String, suggestion: String?, at: SourceLocation, argumentIndex: Int)
    /// The value has the right type but not an allowed value: `epochs=0` (`requirement` is `≥ 1`).
    case outOfRange(String, argument: String, command: String, requirement: String, at: SourceLocation, argumentIndex: Int)
    case missingArgument(String, command: String, at: SourceLocation)
    case unexpectedArgument(String, command: String, at: SourceLocation, argumentIndex: Int)
    case duplicateArgument(String, command: String, at: SourceLocation, argumentIndex: Int)

    // MARK: - Expressions
    case unknownVariable(String, suggestion: String?, at: SourceLocation)
    /// A variable computed on a model or data that has changed since: `reason` names the command
    /// that computed it and the one that changed things.
    case staleVariable(String, reason: String, remedy: String, at: SourceLocation)
    case unknownFunction(String, suggestion: String?, at: SourceLocation)
    case wrongArgumentCount(function: String, expected: String, got: Int, at: SourceLocation)
    /// An operator applied to the wrong kind of value, e.g. `not 3`.
    case typeMismatch(String, at: SourceLocation)
    case divisionByZero(at: SourceLocation)
    /// A function outside its domain, e.g. `log(0)`.
    case domainError(String, at: SourceLocation)
    /// `expression` as typed; `values` the variables it uses, in order, already formatted.
    case assertionFailed(expression: String, values: [VariableValue], at: SourceLocation)

    // MARK: - Running commands
    /// A command needs state that is not there yet: "no model yet: run 'model' or 'open FILE' first".
    case missingPrerequisite(missing: String, remedy: String, at: SourceLocation)
    case fileNotReadable(path: String, reason: String, at: SourceLocation)
    /// `chain` lists the scripts being sourced, outermost first, ending with the one refused.
    case sourceNestingTooDeep(chain: [String], limit: Int, at: SourceLocation)
    /// An `EngineError` from VAEKit, with its hint.
    case engine(message: String, hint: String?, at: SourceLocation)
    /// Any other failure a handler reports.
    case commandFailed(message: String, hint: String?, at: SourceLocation)
    /// Ctrl-C stopped the command.
    case interrupted(at: SourceLocation)
    /// A bug in vaesh rather than in the script (e.g. a handler asking for an argument its
    /// command does not declare). Reported like any error instead of crashing.
    case internalError(String, at: SourceLocation)
}

/// A variable and its value as shown in an assertion failure: `kl = -0.3`.
public struct VariableValue: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension ScriptError {
    /// Wraps an engine error so it renders with its hint.
    public init(_ error: some EngineError, at location: SourceLocation) {
        self = .engine(message: error.message, hint: error.hint, at: location)
    }

    /// Where the error happened.
    public var location: SourceLocation {
        switch self {
        case .incomplete(_, let at), .syntax(_, let at), .unknownCommand(_, _, let at),
             .unknownSubcommand(_, _, _, _, let at), .unknownOption(_, _, _, let at, _),
             .invalidValue(_, _, _, _, _, let at, _), .outOfRange(_, _, _, _, let at, _),
             .missingArgument(_, _, let at), .unexpectedArgument(_, _, let at, _),
             .duplicateArgument(_, _, let at, _), .unknownVariable(_, _, let at), .staleVariable(_, _, _, let at),
             .unknownFunction(_, _, let at), .wrongArgumentCount(_, _, _, let at),
             .typeMismatch(_, let at), .divisionByZero(let at), .domainError(_, let at),
             .assertionFailed(_, _, let at), .missingPrerequisite(_, _, let at),
             .fileNotReadable(_, _, let at), .sourceNestingTooDeep(_, _, let at),
             .engine(_, _, let at), .commandFailed(_, _, let at), .interrupted(let at),
             .internalError(_, let at):
            return at
        }
    }

    /// The position of the offending word after the command name (0-based), for errors about one argument.
    public var argumentIndex: Int? {
        switch self {
        case .unknownOption(_, _, _, _, let index), .invalidValue(_, _, _, _, _, _, let index),
             .outOfRange(_, _, _, _, _, let index), .unexpectedArgument(_, _, _, let index),
             .duplicateArgument(_, _, _, let index):
            return index
        default:
            return nil
        }
    }
}
