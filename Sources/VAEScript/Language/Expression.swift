import Foundation

/// The expressions of `assert`, `let` and `echo "{…}"`, as a tree.
///
/// Grammar, loosest first:
/// ```
/// expression := and ('or' and)*
/// and        := not ('and' not)*
/// not        := 'not' not | comparison
/// comparison := sum (('<' | '<=' | '>' | '>=' | '==' | '!=' | '~=') sum)?   -- no chains
/// sum        := product (('+' | '-') product)*
/// product    := unary (('*' | '/') unary)*
/// unary      := ('-' | '+') unary | primary
/// primary    := NUMBER | 'true' | 'false' | NAME | NAME '(' expression (',' expression)* ')' | '(' expression ')'
/// ```
public indirect enum Expression: Equatable, Sendable {
    case number(Double, at: SourceLocation)
    case boolean(Bool, at: SourceLocation)
    case variable(String, at: SourceLocation)
    case unary(UnaryOperator, Expression, at: SourceLocation)
    /// `at` is the operator's location, where errors such as division by zero point.
    case binary(BinaryOperator, Expression, Expression, at: SourceLocation)
    case call(String, [Expression], at: SourceLocation)

    public enum UnaryOperator: String, Equatable, Sendable {
        case negate = "-", plus = "+", not
    }

    public enum BinaryOperator: String, Equatable, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case equal = "==", notEqual = "!=", approximatelyEqual = "~="
        case and, or
    }

    /// Relative tolerance of `a ~= b`.
    public static let relativeTolerance = 1e-6
    /// Smallest tolerance of `a ~= b`, so that `x ~= 0` accepts round-off but nothing larger.
    public static let absoluteToleranceFloor = 1e-12

    /// `a ~= b`: |a − b| ≤ max(1e-6 · max(|a|, |b|), 1e-12).
    ///
    /// The tolerance is relative to the larger magnitude, so `loss ~= -elbo` means "equal to about
    /// six digits" whatever the scale. Against zero a relative tolerance would be zero too; the
    /// absolute floor of 1e-12 accepts round-off there and nothing more. To compare with zero at a
    /// looser scale, write `abs(x) < 0.001`. NaN is never approximately equal to anything.
    public static func approximatelyEqual(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }  // also equal infinities
        if a.isInfinite || b.isInfinite { return false }  // an infinite tolerance would accept anything
        let tolerance = max(relativeTolerance * max(abs(a), abs(b)), absoluteToleranceFloor)
        return abs(a - b) <= tolerance
    }

    /// The names of the variables used, in order of first appearance.
    public var variableNames: [String] {
        var names: [String] = []
        for (name, _) in variableReferences where !names.contains(name) { names.append(name) }
        return names
    }

    /// Every use of a variable, in order, with where it is written.
    public var variableReferences: [(name: String, location: SourceLocation)] {
        var references: [(name: String, location: SourceLocation)] = []
        func collect(_ expression: Expression) {
            switch expression {
            case .number, .boolean: break
            case .variable(let name, let location): references.append((name, location))
            case .unary(_, let operand, _): collect(operand)
            case .binary(_, let left, let right, _): collect(left); collect(right)
            case .call(_, let arguments, _): arguments.forEach(collect)
            }
        }
        collect(self)
        return references
    }

    public var location: SourceLocation {
        switch self {
        case .number(_, let at), .boolean(_, let at), .variable(_, let at), .unary(_, _, let at),
             .binary(_, _, _, let at), .call(_, _, let at):
            return at
        }
    }
}

// MARK: - Functions

/// The functions expressions may call: name, how many arguments, and what they compute.
struct ExpressionFunction: Sendable {
    var name: String
    var arity: ClosedRange<Int>
    var evaluate: @Sendable ([Double], SourceLocation) throws(ScriptError) -> Double

    static let all: [ExpressionFunction] = [
        ExpressionFunction(name: "abs", arity: 1...1) { arguments, _ in abs(arguments[0]) },
        ExpressionFunction(name: "min", arity: 1...Int.max) { arguments, _ in arguments.min() ?? .nan },
        ExpressionFunction(name: "max", arity: 1...Int.max) { arguments, _ in arguments.max() ?? .nan },
        ExpressionFunction(name: "exp", arity: 1...1) { arguments, _ in Foundation.exp(arguments[0]) },
        // log(0) = -inf is mathematically fine but in a script it is almost always a bug that would
        // silently turn an assertion into a pass or a fail, so outside (0, ∞) is an error.
        ExpressionFunction(name: "log", arity: 1...1) { arguments, location throws(ScriptError) in
            guard arguments[0] > 0 else {
                throw .domainError("log needs a positive number, got \(Format.exact(arguments[0]))", at: location)
            }
            return Foundation.log(arguments[0])
        },
        ExpressionFunction(name: "sqrt", arity: 1...1) { arguments, location throws(ScriptError) in
            guard arguments[0] >= 0 else {
                throw .domainError("sqrt needs a number ≥ 0, got \(Format.exact(arguments[0]))", at: location)
            }
            return arguments[0].squareRoot()
        },
        // For text: `echo "gap ≈ {round(gap, 2)} nats"` prints 8.09 where {gap} prints 8.09022.
        ExpressionFunction(name: "round", arity: 1...2) { arguments, location throws(ScriptError) in
            let digits = arguments.count == 2 ? arguments[1] : 0
            guard digits == digits.rounded(), abs(digits) <= 15 else {
                throw .domainError("round's digits must be a whole number from -15 to 15, got \(Format.exact(digits))", at: location)
            }
            let scale = Foundation.pow(10, digits), scaled = arguments[0] * scale
            // Beyond 2⁵³ every double is already whole at that scale (and ±inf, NaN stay as they are).
            guard abs(scaled) < 9_007_199_254_740_992 else { return arguments[0] }
            return scaled.rounded(.toNearestOrAwayFromZero) / scale
        },
    ]

    static func named(_ name: String) -> ExpressionFunction? { all.first { $0.name == name } }

    var arityDescription: String {
        if arity.lowerBound == arity.upperBound { return "\(arity.lowerBound)" }
        if arity.upperBound == Int.max { return "at least \(arity.lowerBound)" }
        return "\(arity.lowerBound) to \(arity.upperBound)"
    }
}

// MARK: - Evaluation

extension Expression {
    /// Evaluates against `variables`.
    ///
    /// Division by zero is an error, not `inf`: a script that divides by zero has a bug, and an
    /// `inf` would flow silently into an assertion. Numbers that are already NaN or infinite (a
    /// diverged `loss`, say) are values like any other: comparisons with NaN are false.
    public func evaluate(_ variables: [String: ScriptValue]) throws(ScriptError) -> ScriptValue {
        switch self {
        case .number(let value, _):
            return .number(value)
        case .boolean(let value, _):
            return .boolean(value)
        case .variable(let name, let location):
            guard let value = variables[name] else {
                let suggestion = Suggestions.closest(to: name, in: variables.keys.sorted())
                throw .unknownVariable(name, suggestion: suggestion, at: location)
            }
            return value
        case .unary(let op, let operand, let location):
            let value = try operand.evaluate(variables)
            switch (op, value) {
            case (.negate, .number(let number)): return .number(-number)
            case (.plus, .number(let number)): return .number(number)
            case (.not, .boolean(let truth)): return .boolean(!truth)
            case (.not, _):
                throw .typeMismatch("'not' needs a true/false value, got \(value.kindDescription)", at: location)
            case (_, _):
                throw .typeMismatch("'\(op.rawValue)' needs a number, got \(value.kindDescription)", at: location)
            }
        case .binary(let op, let left, let right, let location):
            return try Expression.apply(op, left, right, at: location, variables)
        case .call(let name, let argumentExpressions, let location):
            guard let function = ExpressionFunction.named(name) else {
                let suggestion = Suggestions.closest(to: name, in: ExpressionFunction.all.map(\.name))
                throw .unknownFunction(name, suggestion: suggestion, at: location)
            }
            guard function.arity.contains(argumentExpressions.count) else {
                throw .wrongArgumentCount(function: name, expected: function.arityDescription, got: argumentExpressions.count, at: location)
            }
            var numbers: [Double] = []
            for argument in argumentExpressions {
                let value = try argument.evaluate(variables)
                guard case .number(let number) = value else {
                    throw .typeMismatch("\(name) needs numbers, got \(value.kindDescription)", at: argument.location)
                }
                numbers.append(number)
            }
            return .number(try function.evaluate(numbers, location))
        }
    }

    private static func apply(
        _ op: BinaryOperator, _ leftExpression: Expression, _ rightExpression: Expression,
        at location: SourceLocation, _ variables: [String: ScriptValue]
    ) throws(ScriptError) -> ScriptValue {
        let left = try leftExpression.evaluate(variables)
        // `and` / `or` short-circuit, so `n > 0 and total / n > 1` is safe.
        if op == .and || op == .or {
            guard case .boolean(let leftTruth) = left else {
                throw .typeMismatch("'\(op.rawValue)' needs true/false values, got \(left.kindDescription) on its left", at: location)
            }
            if op == .and && !leftTruth { return .boolean(false) }
            if op == .or && leftTruth { return .boolean(true) }
            let right = try rightExpression.evaluate(variables)
            guard case .boolean(let rightTruth) = right else {
                throw .typeMismatch("'\(op.rawValue)' needs true/false values, got \(right.kindDescription) on its right", at: location)
            }
            return .boolean(rightTruth)
        }
        let right = try rightExpression.evaluate(variables)
        switch (left, right) {
        case (.boolean(let a), .boolean(let b)) where op == .equal || op == .notEqual:
            return .boolean(op == .equal ? a == b : a != b)
        case (.number(let a), .number(let b)):
            switch op {
            case .add: return .number(a + b)
            case .subtract: return .number(a - b)
            case .multiply: return .number(a * b)
            case .divide:
                guard b != 0 else { throw .divisionByZero(at: location) }
                return .number(a / b)
            case .less: return .boolean(a < b)
            case .lessOrEqual: return .boolean(a <= b)
            case .greater: return .boolean(a > b)
            case .greaterOrEqual: return .boolean(a >= b)
            case .equal: return .boolean(a == b)
            case .notEqual: return .boolean(a != b)
            case .approximatelyEqual: return .boolean(approximatelyEqual(a, b))
            case .and, .or: return .boolean(false)  // handled above
            }
        default:
            let offending = left.kindDescription == "a number" ? right : left
            throw .typeMismatch("'\(op.rawValue)' needs numbers, got \(offending.kindDescription)", at: location)
        }
    }
}
