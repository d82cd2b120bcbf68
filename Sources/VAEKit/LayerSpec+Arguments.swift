/// A value written as a layer's argument, as Python would read it: `3`, `0.2`, `True`, `'same'`, `(3, 5)`.
public enum LayerArgumentValue: Sendable, Hashable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case tuple([LayerArgumentValue])

    /// As Python writes it.
    public var text: String {
        switch self {
        case .int(let value): "\(value)"
        case .double(let value): pythonNumber(value)
        case .bool(let value): value ? "True" : "False"
        case .string(let value): "'\(value)'"
        case .tuple(let values): "(" + values.map(\.text).joined(separator: ", ") + (values.count == 1 ? ",)" : ")")
        }
    }
}

/// One argument of a layer call: positional (`name` nil) or by keyword.
public struct LayerArgument: Sendable, Hashable {
    public var name: String?
    public var value: LayerArgumentValue

    public init(_ value: LayerArgumentValue, name: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// Why a layer call cannot be built; `argument` is the index of the argument at fault (for a
/// location), nil when the problem is the call as a whole.
public struct LayerArgumentError: EngineError, Equatable, Sendable {
    public enum Kind: Sendable, Hashable {
        /// No such layer; `candidates` are the names there are (for "did you mean").
        case unknownLayer(candidates: [String])
        /// No such parameter; `candidates` are the layer's parameter names.
        case unknownArgument(candidates: [String])
        case missingArgument
        case tooManyArguments
        case repeatedArgument
        case wrongType
        /// A value PyTorch accepts that the engine does not build (groups ≠ 1, GELU's tanh form, …).
        case unsupported
    }

    public var kind: Kind
    public var argument: Int?
    /// One line, e.g. "Conv2d() missing required argument 'kernel_size'".
    public var message: String
}

/// A parameter of a layer's PyTorch constructor: its name and, for an optional one, its default as Python writes it.
public struct LayerParameter: Sendable, Hashable {
    public var name: String
    /// nil for a required parameter.
    public var defaultText: String?
}

extension LayerSpec {
    /// Each layer's constructor parameters in PyTorch's order (device and dtype left out), for
    /// completion and help; `LayerSpec.make` binds calls against them as Python does.
    public static let signatures: [String: [LayerParameter]] = {
        func required(_ names: String...) -> [LayerParameter] { names.map { LayerParameter(name: $0, defaultText: nil) } }
        func optional(_ pairs: (String, String)...) -> [LayerParameter] { pairs.map { LayerParameter(name: $0.0, defaultText: $0.1) } }
        let norm = required("num_features") + optional(("eps", "1e-05"), ("momentum", "0.1"), ("affine", "True"), ("track_running_stats", "True"))
        return [
            "Linear": required("in_features", "out_features") + optional(("bias", "True")),
            "Conv2d": required("in_channels", "out_channels", "kernel_size")
                + optional(("stride", "1"), ("padding", "0"), ("dilation", "1"), ("groups", "1"), ("bias", "True"), ("padding_mode", "'zeros'")),
            "ConvTranspose2d": required("in_channels", "out_channels", "kernel_size")
                + optional(("stride", "1"), ("padding", "0"), ("output_padding", "0"), ("groups", "1"), ("bias", "True"),
                           ("dilation", "1"), ("padding_mode", "'zeros'")),
            "Flatten": optional(("start_dim", "1"), ("end_dim", "-1")),
            "Unflatten": required("dim", "unflattened_size"),
            "BatchNorm1d": norm, "BatchNorm2d": norm,
            "ReLU": optional(("inplace", "False")),
            "LeakyReLU": optional(("negative_slope", "0.01"), ("inplace", "False")),
            "ELU": optional(("alpha", "1.0"), ("inplace", "False")),
            "Tanh": [], "Sigmoid": [],
            "Softplus": optional(("beta", "1.0"), ("threshold", "20.0")),
            "GELU": optional(("approximate", "'none'")),
        ]
    }()

    /// The layer `name(arguments…)` builds, binding the arguments to PyTorch's parameters as Python
    /// does (positional ones in order, then keywords). Values are checked for type here; sizes and
    /// shapes are checked by `VAEArchitecture.validate`. One shorthand beyond PyTorch:
    /// `Unflatten(C, H, W)` for `Unflatten(1, (C, H, W))`.
    public static func make(_ name: String, _ arguments: [LayerArgument]) throws(LayerArgumentError) -> LayerSpec {
        guard let parameters = signatures[name] else {
            throw LayerArgumentError(kind: .unknownLayer(candidates: names), argument: nil, message: "unknown layer '\(name)'")
        }
        if name == "Unflatten", arguments.count == 3, arguments.allSatisfy({ $0.name == nil }) {
            return try make(name, [LayerArgument(.int(1)), LayerArgument(.tuple(arguments.map(\.value)))])
        }
        var bound = Bound(layer: name, parameters: parameters, arguments: arguments)
        try bound.bind()
        switch name {
        case "Linear":
            return .Linear(try bound.int("in_features"), try bound.int("out_features"), bias: try bound.bool("bias", true))
        case "Conv2d", "ConvTranspose2d":
            try bound.require("groups", equals: .int(1), because: "grouped convolutions are not built")
            try bound.require("padding_mode", equals: .string("zeros"), because: "only zero padding is built")
            let kernel = try bound.pair("kernel_size"), stride = try bound.pair("stride", 1), dilation = try bound.pair("dilation", 1)
            let bias = try bound.bool("bias", true)
            if name == "Conv2d" {
                return .Conv2d(try bound.int("in_channels"), try bound.int("out_channels"), kernel, stride: stride,
                               padding: try bound.padding(), dilation: dilation, bias: bias)
            }
            return .ConvTranspose2d(try bound.int("in_channels"), try bound.int("out_channels"), kernel, stride: stride,
                                    padding: try bound.pair("padding", 0), outputPadding: try bound.pair("output_padding", 0),
                                    dilation: dilation, bias: bias)
        case "Flatten":
            try bound.require("start_dim", equals: .int(1), because: "a stack flattens each example whole")
            try bound.require("end_dim", equals: .int(-1), because: "a stack flattens each example whole")
            return .flatten
        case "Unflatten":
            try bound.require("dim", equals: .int(1), because: "a stack unflattens each example's values")
            let size = try bound.ints("unflattened_size", count: 3, what: "(C, H, W)")
            return .Unflatten(size[0], size[1], size[2])
        case "BatchNorm1d", "BatchNorm2d":
            try bound.require("track_running_stats", equals: .bool(true), because: "evaluation uses the running statistics")
            let spec = BatchNormSpec(try bound.int("num_features"), eps: try bound.double("eps", 1e-5),
                                     momentum: try bound.double("momentum", 0.1), affine: try bound.bool("affine", true))
            return name == "BatchNorm1d" ? .batchNorm1d(spec) : .batchNorm2d(spec)
        case "LeakyReLU":
            _ = try bound.bool("inplace", false)
            return .LeakyReLU(negativeSlope: try bound.double("negative_slope", 0.01))
        case "ELU":
            _ = try bound.bool("inplace", false)
            return .ELU(alpha: try bound.double("alpha", 1))
        case "Softplus":
            return .Softplus(beta: try bound.double("beta", 1), threshold: try bound.double("threshold", 20))
        case "GELU":
            try bound.require("approximate", equals: .string("none"), because: "only the exact erf form is built")
            return .gelu
        case "ReLU":
            _ = try bound.bool("inplace", false)  // in place or not, the numbers are the same
            return .relu
        case "Tanh": return .tanh
        default: return .sigmoid
        }
    }
}

/// A call's arguments bound to a layer's parameters, with typed reads.
private struct Bound {
    let layer: String
    let parameters: [LayerParameter]
    let arguments: [LayerArgument]
    /// Parameter name → (argument index, value).
    var values: [String: (index: Int, value: LayerArgumentValue)] = [:]

    init(layer: String, parameters: [LayerParameter], arguments: [LayerArgument]) {
        self.layer = layer
        self.parameters = parameters
        self.arguments = arguments
    }

    mutating func bind() throws(LayerArgumentError) {
        var position = 0
        for (index, argument) in arguments.enumerated() {
            let name: String
            if let keyword = argument.name {
                guard parameters.contains(where: { $0.name == keyword }) else {
                    throw LayerArgumentError(kind: .unknownArgument(candidates: parameters.map(\.name)), argument: index,
                                             message: "\(layer)() got an unexpected keyword argument '\(keyword)'")
                }
                name = keyword
            } else {
                guard position < parameters.count else {
                    throw LayerArgumentError(kind: .tooManyArguments, argument: index,
                                             message: "\(layer)() takes \(parameters.count) positional argument\(parameters.count == 1 ? "" : "s") but \(arguments.filter { $0.name == nil }.count) were given")
                }
                name = parameters[position].name
                position += 1
            }
            if values[name] != nil {
                throw LayerArgumentError(kind: .repeatedArgument, argument: index, message: "\(layer)() got multiple values for argument '\(name)'")
            }
            values[name] = (index, argument.value)
        }
        if let missing = parameters.first(where: { $0.defaultText == nil && values[$0.name] == nil }) {
            throw LayerArgumentError(kind: .missingArgument, argument: nil, message: "\(layer)() missing required argument '\(missing.name)'")
        }
    }

    private func wrongType(_ name: String, _ expected: String) -> LayerArgumentError {
        let value = values[name]
        return LayerArgumentError(kind: .wrongType, argument: value?.index,
                                  message: "\(layer)() argument '\(name)' must be \(expected), not \(value?.value.text ?? "nothing")")
    }

    func int(_ name: String, _ fallback: Int? = nil) throws(LayerArgumentError) -> Int {
        guard let value = values[name]?.value else { return fallback ?? 0 }
        guard case .int(let result) = value else { throw wrongType(name, "an integer") }
        return result
    }

    func double(_ name: String, _ fallback: Double) throws(LayerArgumentError) -> Double {
        switch values[name]?.value {
        case nil: return fallback
        case .double(let result): return result
        case .int(let result): return Double(result)
        default: throw wrongType(name, "a number")
        }
    }

    func bool(_ name: String, _ fallback: Bool) throws(LayerArgumentError) -> Bool {
        guard let value = values[name]?.value else { return fallback }
        guard case .bool(let result) = value else { throw wrongType(name, "True or False") }
        return result
    }

    /// An int (square) or a tuple of two ints (height, width).
    func pair(_ name: String, _ fallback: Int = 0) throws(LayerArgumentError) -> SpatialPair {
        switch values[name]?.value {
        case nil: return SpatialPair(fallback, fallback)
        case .int(let value): return SpatialPair(value, value)
        case .tuple(let items):
            guard items.count == 2, case .int(let height) = items[0], case .int(let width) = items[1] else {
                throw wrongType(name, "an integer or a pair (h, w)")
            }
            return SpatialPair(height, width)
        default: throw wrongType(name, "an integer or a pair (h, w)")
        }
    }

    /// Conv2d's padding: a number, a pair, 'same' or 'valid'.
    func padding() throws(LayerArgumentError) -> ConvolutionPadding {
        switch values["padding"]?.value {
        case .string("same"): return .same
        case .string("valid"): return .valid
        case .string: throw wrongType("padding", "a number, a pair, 'same' or 'valid'")
        default: return .explicit(try pair("padding", 0))
        }
    }

    /// A tuple of `count` integers.
    func ints(_ name: String, count: Int, what: String) throws(LayerArgumentError) -> [Int] {
        guard case .tuple(let items) = values[name]?.value, items.count == count else { throw wrongType(name, "a tuple \(what)") }
        var result: [Int] = []
        for item in items {
            guard case .int(let value) = item else { throw wrongType(name, "a tuple \(what) of integers") }
            result.append(value)
        }
        return result
    }

    /// The argument, when given, must be `expected` (its PyTorch default); else unsupported.
    func require(_ name: String, equals expected: LayerArgumentValue, because reason: String) throws(LayerArgumentError) {
        guard let (index, value) = values[name], value != expected else { return }
        throw LayerArgumentError(kind: .unsupported, argument: index, message: "\(layer)(\(name)=\(value.text)) is not supported: \(reason)")
    }
}
