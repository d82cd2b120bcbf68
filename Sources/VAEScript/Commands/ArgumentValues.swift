/// A command's validated arguments: every value has its declared type and range, and defaults
/// are filled in. Handlers read them by name:
/// ```
/// let epochs = try context.arguments.int("epochs")
/// let limit = try context.arguments.optionalInt("limit")   // nil when not given and no default
/// ```
/// Asking for a name the command does not declare, or with the wrong type, is a bug in the
/// handler; it throws `ScriptError.internalError` instead of crashing.
public struct ArgumentValues: Sendable {
    public let command: String
    let declared: [String: ArgumentType]
    var values: [String: ArgumentValue] = [:]
    var locations: [String: SourceLocation] = [:]
    /// Names given on the command line, in the order given.
    public private(set) var givenNames: [String] = []
    /// Where the command was written, for internal errors.
    let commandLocation: SourceLocation

    init(spec: CommandSpec, location: SourceLocation) {
        command = spec.name
        declared = Dictionary(spec.arguments.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        commandLocation = location
    }

    mutating func set(_ name: String, _ value: ArgumentValue, at location: SourceLocation?, given: Bool) {
        values[name] = value
        if let location { locations[name] = location }
        if given && !givenNames.contains(name) { givenNames.append(name) }
    }

    /// True when the argument was written on the command line (not just defaulted).
    public func isGiven(_ name: String) -> Bool { givenNames.contains(name) }

    /// Where the argument's value was written.
    public func location(of name: String) -> SourceLocation? { locations[name] }

    /// The raw validated value, nil when absent.
    public func value(_ name: String) throws(ScriptError) -> ArgumentValue? {
        guard declared[name] != nil else {
            throw .internalError("'\(command)' reads an argument '\(name)' it does not declare", at: commandLocation)
        }
        return values[name]
    }

    // MARK: - Typed access

    public func optionalInt(_ name: String) throws(ScriptError) -> Int? {
        switch try value(name) {
        case nil: return nil
        case .int(let value)?: return value
        case let other?: throw mismatch(name, "an integer", other)
        }
    }

    /// Integers are accepted too: `default: 1` for a `.double` argument is `1.0`.
    public func optionalDouble(_ name: String) throws(ScriptError) -> Double? {
        switch try value(name) {
        case nil: return nil
        case .double(let value)?: return value
        case .int(let value)?: return Double(value)
        case let other?: throw mismatch(name, "a number", other)
        }
    }

    public func optionalBool(_ name: String) throws(ScriptError) -> Bool? {
        switch try value(name) {
        case nil: return nil
        case .bool(let value)?: return value
        case let other?: throw mismatch(name, "true/false", other)
        }
    }

    /// Strings, choices and paths.
    public func optionalString(_ name: String) throws(ScriptError) -> String? {
        switch try value(name) {
        case nil: return nil
        case .string(let value)?: return value
        case let other?: throw mismatch(name, "text", other)
        }
    }

    /// A path with `~/` expanded, relative to the working directory.
    public func optionalPath(_ name: String) throws(ScriptError) -> String? { try optionalString(name) }

    public func optionalIntList(_ name: String) throws(ScriptError) -> [Int]? {
        switch try value(name) {
        case nil: return nil
        case .intList(let values)?: return values
        case .int(let value)?: return [value]
        case .layers?: return nil
        case let other?: throw mismatch(name, "a list of integers", other)
        }
    }

    public func optionalDoubleList(_ name: String) throws(ScriptError) -> [Double]? {
        switch try value(name) {
        case nil: return nil
        case .doubleList(let values)?: return values
        case .intList(let values)?: return values.map(Double.init)
        case let other?: throw mismatch(name, "a list of numbers", other)
        }
    }

    public func int(_ name: String) throws(ScriptError) -> Int { try present(name, optionalInt(name)) }
    public func double(_ name: String) throws(ScriptError) -> Double { try present(name, optionalDouble(name)) }
    public func bool(_ name: String) throws(ScriptError) -> Bool { try present(name, optionalBool(name)) }
    public func string(_ name: String) throws(ScriptError) -> String { try present(name, optionalString(name)) }
    public func path(_ name: String) throws(ScriptError) -> String { try present(name, optionalPath(name)) }
    public func intList(_ name: String) throws(ScriptError) -> [Int] { try present(name, optionalIntList(name)) }
    public func doubleList(_ name: String) throws(ScriptError) -> [Double] { try present(name, optionalDoubleList(name)) }

    /// The expression and its text as typed.
    public func expression(_ name: String) throws(ScriptError) -> (expression: Expression, text: String) {
        switch try value(name) {
        case .expression(let expression, let text)?: return (expression, text)
        case nil: throw absent(name)
        case let other?: throw mismatch(name, "an expression", other)
        }
    }

    public func template(_ name: String) throws(ScriptError) -> Template {
        switch try value(name) {
        case .template(let template)?: return template
        case nil: return Template(parts: [])
        case let other?: throw mismatch(name, "text", other)
        }
    }

    public func assignment(_ name: String) throws(ScriptError) -> (name: String, value: Expression) {
        switch try value(name) {
        case .assignment(let variable, let value)?: return (variable, value)
        case nil: throw absent(name)
        case let other?: throw mismatch(name, "an assignment", other)
        }
    }

    /// The layers of a `.layers` argument, nil when not given; widths (`decoder=400,200`) are read with `optionalIntList`.
    public func optionalLayers(_ name: String) throws(ScriptError) -> [LayerCall]? {
        switch try value(name) {
        case nil, .intList?: return nil
        case .layers(let calls)?: return calls
        case let other?: throw mismatch(name, "layers", other)
        }
    }

    private func present<Value>(_ name: String, _ value: Value?) throws(ScriptError) -> Value {
        guard let value else { throw absent(name) }
        return value
    }

    private func absent(_ name: String) -> ScriptError {
        .internalError("'\(command)' reads '\(name)', which has no value and no default; use an optional accessor", at: commandLocation)
    }

    private func mismatch(_ name: String, _ wanted: String, _ value: ArgumentValue) -> ScriptError {
        .internalError("'\(command)' reads '\(name)' as \(wanted) but it holds \(value.displayText)", at: commandLocation)
    }
}
