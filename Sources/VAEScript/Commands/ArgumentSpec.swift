import Foundation

/// What an argument accepts. Validation, completion, `help` and the reference all read it.
public indirect enum ArgumentType: Equatable, Sendable {
    case int
    case double
    /// `true/false`, `yes/no`, `on/off`, `1/0`, in any case.
    case bool
    case string
    /// A file or directory; completed from the file system, `~/` expanded.
    case path
    /// One of a fixed set of words: `split=train|test`.
    case choice([String])
    /// Comma-separated elements: `hidden=400,400`. The range applies to every element.
    case list(ArgumentType)
    /// An expression (`assert kl >= 0`); only as a `rest` argument or an option.
    case expression
    /// Text with `{expression}` holes (`echo`); only as a `rest` argument.
    case template
    /// `NAME = EXPRESSION` (`let`); only as a `rest` argument.
    case assignment
    /// The name of a command (`help train`); only as a `rest` argument, so two-word names work.
    case commandName
    /// A stack of layers in PyTorch's names (`LayerText`): `"Conv2d(1,32,3,stride=2) ReLU Flatten"`.
    /// A value of integers and commas only is read as `.list(.int)` instead (an MLP's widths), so
    /// `decoder=400,200` keeps its meaning.
    case layers
    /// How the value is written in usage lines: `INT`, `NUMBER`, `train|test`, `INT,…`.
    public var placeholder: String {
        switch self {
        case .int: "INT"
        case .double: "NUMBER"
        case .bool: "BOOL"
        case .string: "TEXT"
        case .path: "PATH"
        case .choice(let values): values.joined(separator: "|")
        case .list(let element): "\(element.placeholder),…"
        case .expression: "EXPR"
        case .template: "TEXT"
        case .assignment: "NAME = EXPR"
        case .commandName: "COMMAND"
        case .layers: "\"LAYERS\""
        }
    }

    /// What a valid value looks like, for "expected …" in errors.
    public var expectation: String {
        switch self {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "true or false (or yes/no, on/off)"
        case .string: "text"
        case .path: "a path"
        case .choice(let values): "one of " + values.joined(separator: ", ")
        case .list(let element): "a comma-separated list of " + element.pluralExpectation
        case .expression: "an expression"
        case .template: "text"
        case .assignment: "NAME = EXPR"
        case .commandName: "a command name"
        case .layers: "layers in PyTorch's names, e.g. \"Linear(2,400) ReLU\""
        }
    }

    private var pluralExpectation: String {
        switch self {
        case .int: "integers"
        case .double: "numbers"
        default: "values"
        }
    }
}

/// The allowed interval of a numeric argument (or of each element of a list).
public struct ValueRange: Equatable, Sendable, CustomStringConvertible {
    public var lowerBound: Double?
    public var includesLowerBound: Bool
    public var upperBound: Double?
    public var includesUpperBound: Bool

    public init(lowerBound: Double?, includesLowerBound: Bool = true, upperBound: Double? = nil, includesUpperBound: Bool = true) {
        self.lowerBound = lowerBound
        self.includesLowerBound = includesLowerBound
        self.upperBound = upperBound
        self.includesUpperBound = includesUpperBound
    }

    /// `≥ value`, e.g. `epochs` `.atLeast(1)`.
    public static func atLeast(_ value: Double) -> ValueRange { ValueRange(lowerBound: value) }
    /// `> value`, e.g. `lr` `.greaterThan(0)`.
    public static func greaterThan(_ value: Double) -> ValueRange { ValueRange(lowerBound: value, includesLowerBound: false) }
    /// `in [low, high]`.
    public static func between(_ low: Double, _ high: Double) -> ValueRange { ValueRange(lowerBound: low, upperBound: high) }

    public func contains(_ value: Double) -> Bool {
        if value.isNaN { return false }
        if let low = lowerBound, includesLowerBound ? value < low : value <= low { return false }
        if let high = upperBound, includesUpperBound ? value > high : value >= high { return false }
        return true
    }

    /// `≥ 1`, `> 0`, `≤ 255`, `in [0, 255]`, `in (0, 1]`.
    public var description: String {
        switch (lowerBound, upperBound) {
        case let (low?, high?):
            return "in \(includesLowerBound ? "[" : "(")\(Format.exact(low)), \(Format.exact(high))\(includesUpperBound ? "]" : ")")"
        case let (low?, nil):
            return "\(includesLowerBound ? "≥" : ">") \(Format.exact(low))"
        case let (nil, high?):
            return "\(includesUpperBound ? "≤" : "<") \(Format.exact(high))"
        case (nil, nil):
            return "any value"
        }
    }
}

/// A validated argument value. Literals make tables read naturally: `default: 1e-3`, `default: "test"`.
public enum ArgumentValue: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral
{
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// Also the value of `.path` and `.choice` arguments.
    case string(String)
    case intList([Int])
    case doubleList([Double])
    /// The parsed expression and its text as typed (for messages such as assertion failures).
    case expression(Expression, text: String)
    case template(Template)
    case assignment(name: String, value: Expression)
    case layers([LayerCall])

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    /// The value as it would be typed, for defaults in `help` and the reference.
    public var displayText: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): Format.exact(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let value): value
        case .intList(let values): values.map(String.init).joined(separator: ",")
        case .doubleList(let values): values.map(Format.exact).joined(separator: ",")
        case .expression(_, let text): text
        case .template: "…"
        case .assignment(let name, _): "\(name) = …"
        case .layers(let calls): calls.map(\.text).joined(separator: " ")
        }
    }
}

/// One argument of a command, as data.
public struct ArgumentSpec: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Given by position (`source FILE`) or by name (`source file=FILE`).
        case positional
        /// Given as `key=value`, in any order.
        case option
        /// Everything after the command name, taken as one value without `key=value` splitting:
        /// the expression of `assert`, the text of `echo`. A command with a rest argument has no other.
        case rest
    }

    public var name: String
    public var kind: Kind
    public var type: ArgumentType
    /// Used when the argument is not given; nil means "absent" (read with `optionalInt` etc.).
    public var defaultValue: ArgumentValue?
    public var isRequired: Bool
    /// For numbers and lists of numbers.
    public var range: ValueRange?
    /// One line for `help` and the reference, lowercase, no final period.
    public var abstract: String

    public init(name: String, kind: Kind, type: ArgumentType, defaultValue: ArgumentValue? = nil,
                isRequired: Bool = false, range: ValueRange? = nil, abstract: String) {
        self.name = name
        self.kind = kind
        self.type = type
        self.defaultValue = defaultValue
        self.isRequired = isRequired
        self.range = range
        self.abstract = abstract
    }

    /// `key=value` argument: `.option("epochs", .int, default: 1, range: .atLeast(1), abstract: "passes over the training set")`.
    public static func option(_ name: String, _ type: ArgumentType, default defaultValue: ArgumentValue? = nil,
                              required: Bool = false, range: ValueRange? = nil, abstract: String) -> ArgumentSpec {
        ArgumentSpec(name: name, kind: .option, type: type, defaultValue: defaultValue, isRequired: required, range: range, abstract: abstract)
    }

    /// Positional argument (also accepted as `name=value`).
    public static func positional(_ name: String, _ type: ArgumentType, default defaultValue: ArgumentValue? = nil,
                                  required: Bool = false, range: ValueRange? = nil, abstract: String) -> ArgumentSpec {
        ArgumentSpec(name: name, kind: .positional, type: type, defaultValue: defaultValue, isRequired: required, range: range, abstract: abstract)
    }

    /// The rest of the command line as one value (`assert EXPR`, `echo TEXT`).
    public static func rest(_ name: String, _ type: ArgumentType, required: Bool = false, abstract: String) -> ArgumentSpec {
        ArgumentSpec(name: name, kind: .rest, type: type, isRequired: required, abstract: abstract)
    }

    /// How the argument appears in a usage line: `[epochs=1]` (the default), `[out=PATH]`, `FILE`, `[N]`.
    public var usage: String {
        let core: String
        switch kind {
        case .option: core = "\(name)=\(defaultValue?.displayText ?? type.placeholder)"
        case .positional, .rest: core = type == .assignment ? type.placeholder : name.uppercased()
        }
        return isRequired ? core : "[\(core)]"
    }
}
