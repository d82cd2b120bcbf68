/// A height and a width: a kernel size, stride, padding or dilation, which PyTorch takes as one
/// number (square) or a pair (h, w). Write `3` for (3, 3).
public struct SpatialPair: Sendable, Hashable, Codable, ExpressibleByIntegerLiteral {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(integerLiteral value: Int) { self.init(value, value) }

    /// "3" when square, "(3, 5)" otherwise: how PyTorch's constructor takes it.
    public var text: String { height == width ? "\(height)" : "(\(height), \(width))" }
    var isSquare: Bool { height == width }
}

/// How a Conv2d pads its input: explicit zeros on each side, or PyTorch's 'same' and 'valid'.
public enum ConvolutionPadding: Sendable, Hashable, Codable {
    /// `padding` zeros above and below (height) and left and right (width).
    case explicit(SpatialPair)
    /// As much as keeps the output the input's size (stride 1 only, as in PyTorch); when the
    /// total is odd the extra row or column goes below or right, as PyTorch pads it.
    case same
    /// No padding (the same as 0).
    case valid

    var text: String {
        switch self {
        case .explicit(let pair): pair.text
        case .same: "'same'"
        case .valid: "'valid'"
        }
    }
}

/// A Conv2d's or ConvTranspose2d's arguments, under PyTorch's names and with its defaults.
public struct ConvolutionSpec: Sendable, Hashable, Codable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelSize: SpatialPair
    public var stride: SpatialPair
    public var padding: ConvolutionPadding
    /// ConvTranspose2d only: extra rows and columns on the bottom and right of the output.
    public var outputPadding: SpatialPair
    public var dilation: SpatialPair
    public var bias: Bool

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: SpatialPair, stride: SpatialPair = 1,
                padding: ConvolutionPadding = .explicit(0), outputPadding: SpatialPair = 0,
                dilation: SpatialPair = 1, bias: Bool = true) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.bias = bias
    }
}

/// A BatchNorm1d's or BatchNorm2d's arguments, under PyTorch's names and with its defaults
/// (`track_running_stats` is always true: evaluation uses the running statistics).
public struct BatchNormSpec: Sendable, Hashable, Codable {
    public var numFeatures: Int
    public var eps: Double
    /// The weight of the newest batch in the running statistics (PyTorch's convention, not
    /// Keras's, which is the weight of the old value).
    public var momentum: Double
    /// Whether the layer has a learned scale (weight) and shift (bias).
    public var affine: Bool

    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) {
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
    }
}

/// One layer of an encoder or decoder stack, as PyTorch's `torch.nn` names it, with its arguments.
///
/// This is the architecture as data: `VAEArchitecture` lists these, checks the shapes they
/// produce, and the engine builds its layers from them. `description` is the canonical text, the
/// shortest PyTorch constructor call that builds the layer (`Conv2d(1, 32, 3, stride=2)`):
/// required arguments by position, the others by keyword and only when not PyTorch's default.
public enum LayerSpec: Sendable, Hashable, Codable {
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    case conv2d(ConvolutionSpec)
    case convTranspose2d(ConvolutionSpec)
    /// `nn.Flatten()` (start_dim=1): C×H×W → C·H·W in NCHW order; a vector passes unchanged.
    case flatten
    /// `nn.Unflatten(1, (C, H, W))`: C·H·W values → C×H×W.
    case unflatten(channels: Int, height: Int, width: Int)
    case batchNorm1d(BatchNormSpec)
    case batchNorm2d(BatchNormSpec)
    /// An elementwise nonlinearity: ReLU, LeakyReLU, ELU, Tanh, Softplus, Sigmoid, GELU.
    case activation(ActivationFunction)

    // MARK: - Constructors with PyTorch's names and defaults

    public static func Linear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) -> LayerSpec {
        .linear(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias)
    }

    public static func Conv2d(_ inChannels: Int, _ outChannels: Int, _ kernelSize: SpatialPair, stride: SpatialPair = 1,
                              padding: ConvolutionPadding = .explicit(0), dilation: SpatialPair = 1, bias: Bool = true) -> LayerSpec {
        .conv2d(ConvolutionSpec(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                                dilation: dilation, bias: bias))
    }

    public static func ConvTranspose2d(_ inChannels: Int, _ outChannels: Int, _ kernelSize: SpatialPair,
                                       stride: SpatialPair = 1, padding: SpatialPair = 0, outputPadding: SpatialPair = 0,
                                       dilation: SpatialPair = 1, bias: Bool = true) -> LayerSpec {
        .convTranspose2d(ConvolutionSpec(inChannels, outChannels, kernelSize: kernelSize, stride: stride,
                                         padding: .explicit(padding), outputPadding: outputPadding,
                                         dilation: dilation, bias: bias))
    }

    public static func BatchNorm1d(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) -> LayerSpec {
        .batchNorm1d(BatchNormSpec(numFeatures, eps: eps, momentum: momentum, affine: affine))
    }

    public static func BatchNorm2d(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) -> LayerSpec {
        .batchNorm2d(BatchNormSpec(numFeatures, eps: eps, momentum: momentum, affine: affine))
    }

    public static func Unflatten(_ channels: Int, _ height: Int, _ width: Int) -> LayerSpec {
        .unflatten(channels: channels, height: height, width: width)
    }

    public static let relu = LayerSpec.activation(.relu)
    public static let tanh = LayerSpec.activation(.tanh)
    public static let sigmoid = LayerSpec.activation(.sigmoid)
    public static let gelu = LayerSpec.activation(.gelu)
    public static func LeakyReLU(negativeSlope: Double = 0.01) -> LayerSpec { .activation(.leakyReLU(negativeSlope: negativeSlope)) }
    public static func ELU(alpha: Double = 1) -> LayerSpec { .activation(.elu(alpha: alpha)) }
    public static func Softplus(beta: Double = 1, threshold: Double = 20) -> LayerSpec { .activation(.softplus(beta: beta, threshold: threshold)) }

    // MARK: - Names

    /// PyTorch's class name: "Conv2d", "ReLU", …
    public var name: String {
        switch self {
        case .linear: "Linear"
        case .conv2d: "Conv2d"
        case .convTranspose2d: "ConvTranspose2d"
        case .flatten: "Flatten"
        case .unflatten: "Unflatten"
        case .batchNorm1d: "BatchNorm1d"
        case .batchNorm2d: "BatchNorm2d"
        case .activation(let function): function.name
        }
    }

    /// Every layer name the engine builds, for completion and "did you mean".
    public static let names = ["Linear", "Conv2d", "ConvTranspose2d", "Flatten", "Unflatten", "BatchNorm1d", "BatchNorm2d",
                               "ReLU", "LeakyReLU", "ELU", "Tanh", "Softplus", "Sigmoid", "GELU"]

    /// Whether this is an elementwise nonlinearity (no parameters, shape unchanged).
    public var isActivation: Bool { activationFunction != nil }

    /// Whether the layer has learned parameters.
    public var hasParameters: Bool {
        switch self {
        case .linear, .conv2d, .convTranspose2d: true
        case .batchNorm1d(let spec), .batchNorm2d(let spec): spec.affine
        default: false
        }
    }

    /// The elementwise function of an activation layer; nil for the others.
    var activationFunction: ActivationFunction? {
        if case .activation(let function) = self { return function }
        return nil
    }
}

// MARK: - Canonical text

extension LayerSpec: CustomStringConvertible {
    /// The shortest PyTorch constructor call that builds this layer, e.g.
    /// `ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1)` or `LeakyReLU(negative_slope=0.2)`.
    public var description: String {
        let arguments = callArguments.map { argument in (argument.name.map { "\($0)=" } ?? "") + argument.value.text }
        return "\(name)(\(arguments.joined(separator: ", ")))"
    }

    /// The arguments of that call: the required ones by position, the others by keyword when they
    /// are not PyTorch's defaults. `LayerSpec.make(name, callArguments)` gives this layer back.
    public var callArguments: [LayerArgument] {
        func pair(_ pair: SpatialPair) -> LayerArgumentValue { pair.isSquare ? .int(pair.height) : .tuple([.int(pair.height), .int(pair.width)]) }
        var arguments: [LayerArgument]
        switch self {
        case .linear(let inFeatures, let outFeatures, let bias):
            arguments = [LayerArgument(.int(inFeatures)), LayerArgument(.int(outFeatures))]
            if !bias { arguments.append(LayerArgument(.bool(false), name: "bias")) }
        case .conv2d(let spec), .convTranspose2d(let spec):
            arguments = [LayerArgument(.int(spec.inChannels)), LayerArgument(.int(spec.outChannels)), LayerArgument(pair(spec.kernelSize))]
            if spec.stride != 1 { arguments.append(LayerArgument(pair(spec.stride), name: "stride")) }
            switch spec.padding {
            case .explicit(let padding) where padding != 0: arguments.append(LayerArgument(pair(padding), name: "padding"))
            case .same: arguments.append(LayerArgument(.string("same"), name: "padding"))
            case .valid: arguments.append(LayerArgument(.string("valid"), name: "padding"))
            case .explicit: break
            }
            if spec.outputPadding != 0 { arguments.append(LayerArgument(pair(spec.outputPadding), name: "output_padding")) }
            if spec.dilation != 1 { arguments.append(LayerArgument(pair(spec.dilation), name: "dilation")) }
            if !spec.bias { arguments.append(LayerArgument(.bool(false), name: "bias")) }
        case .flatten:
            arguments = []
        case .unflatten(let channels, let height, let width):
            arguments = [LayerArgument(.int(1)), LayerArgument(.tuple([.int(channels), .int(height), .int(width)]))]
        case .batchNorm1d(let spec), .batchNorm2d(let spec):
            arguments = [LayerArgument(.int(spec.numFeatures))]
            if spec.eps != 1e-5 { arguments.append(LayerArgument(.double(spec.eps), name: "eps")) }
            if spec.momentum != 0.1 { arguments.append(LayerArgument(.double(spec.momentum), name: "momentum")) }
            if !spec.affine { arguments.append(LayerArgument(.bool(false), name: "affine")) }
        case .activation(let function):
            arguments = function.callArguments
        }
        return arguments
    }
}

/// A number as Python's repr writes a float: the shortest text that reads back to the same
/// Double ("0.2", "1e-05", "2.0").
func pythonNumber(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    return "\(value)"
}
