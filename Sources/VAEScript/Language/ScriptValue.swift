/// A value an expression computes: a number or a truth value.
///
/// Variables hold these; commands that compute a quantity store numbers, and `let ok = kl >= 0`
/// stores a truth value.
public enum ScriptValue: Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    case boolean(Bool)

    /// For `echo` and `vars`: six significant digits (`%g`), integers without a decimal point,
    /// `true`/`false`, `nan`, `inf`.
    public var description: String {
        switch self {
        case .number(let value): Format.general(value)
        case .boolean(let value): value ? "true" : "false"
        }
    }

    /// Every digit needed to read the number back (used in assertion failures, where two values
    /// that differ in the 9th digit must not print the same).
    public var exactDescription: String {
        switch self {
        case .number(let value): Format.exact(value)
        case .boolean(let value): value ? "true" : "false"
        }
    }

    /// What kind of value this is, for messages: "a number", "true/false".
    var kindDescription: String {
        switch self {
        case .number: "a number"
        case .boolean: "a true/false value"
        }
    }
}
