import RealModule

/// What a model is: sizes, activation and likelihood. The defaults are the pytorch/examples VAE
/// (784-400-20, ReLU, Bernoulli), so a fresh `VAEConfiguration()` is directly comparable with it.
public struct VAEConfiguration: Sendable, Equatable, Codable {
    /// D: pixels per example.
    public var inputSize: Int = 784
    /// Encoder hidden widths, first to last (one or more).
    public var encoderHidden: [Int] = [400]
    /// Z: latent dimensions.
    public var latentSize: Int = 20
    /// Decoder hidden widths, first to last; nil mirrors the encoder's.
    public var decoderHidden: [Int]? = nil
    public var activation: Activation = .relu
    public var likelihood: Likelihood = .bernoulli

    public init(inputSize: Int = 784, encoderHidden: [Int] = [400], latentSize: Int = 20,
                decoderHidden: [Int]? = nil, activation: Activation = .relu, likelihood: Likelihood = .bernoulli) {
        self.inputSize = inputSize
        self.encoderHidden = encoderHidden
        self.latentSize = latentSize
        self.decoderHidden = decoderHidden
        self.activation = activation
        self.likelihood = likelihood
    }

    /// The pytorch/examples VAE.
    public static let pytorchExample = VAEConfiguration()

    public var resolvedDecoderHidden: [Int] { decoderHidden ?? encoderHidden.reversed() }

    /// "784-400-20" (encoder side; the decoder is listed too when it is not the mirror image).
    public var summary: String {
        var text = ([inputSize] + encoderHidden + [latentSize]).map(String.init).joined(separator: "-")
        if decoderHidden != nil && resolvedDecoderHidden != encoderHidden.reversed() {
            text += "/" + ([latentSize] + resolvedDecoderHidden + [inputSize]).map(String.init).joined(separator: "-")
        }
        return text
    }

    /// Total number of scalar parameters, or nil when it overflows.
    public var parameterCount: Int? {
        var total = 0
        let encoder = [inputSize] + encoderHidden
        let decoder = [latentSize] + resolvedDecoderHidden + [inputSize]
        var pairs = Array(zip(encoder, encoder.dropFirst())) + Array(zip(decoder, decoder.dropFirst()))
        pairs.append((encoder.last ?? inputSize, 2 * latentSize))
        for (input, output) in pairs {
            let (weights, overflow) = input.multipliedReportingOverflow(by: output)
            if overflow { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(weights + output)
            if overflow2 { return nil }
            total = sum
        }
        if likelihood == .gaussianLearned { total += inputSize }
        return total
    }

    /// The largest model the engine agrees to build: 100 million parameters (400 MB in Float32,
    /// twice that again for Adam's moments).
    public static let maximumParameterCount = 100_000_000

    /// Throws when a size is not positive or the model would be unreasonably large.
    public func validate() throws(ModelError) {
        if inputSize < 1 { throw .invalidConfiguration("input size must be at least 1, got \(inputSize)") }
        if latentSize < 1 { throw .invalidConfiguration("latent size must be at least 1, got \(latentSize)") }
        if encoderHidden.isEmpty { throw .invalidConfiguration("the encoder needs at least one hidden layer") }
        if let bad = (encoderHidden + resolvedDecoderHidden).first(where: { $0 < 1 }) {
            throw .invalidConfiguration("hidden widths must be at least 1, got \(bad)")
        }
        if case .gaussian(let sigma) = likelihood, !(sigma > 0 && sigma.isFinite) {
            throw .invalidConfiguration("the Gaussian σ must be positive and finite, got \(sigma)")
        }
        guard let count = parameterCount, count <= Self.maximumParameterCount else {
            throw .invalidConfiguration("\(summary) would have more than \(Self.maximumParameterCount) parameters")
        }
    }
}

/// Errors about a model's configuration or its fit to data.
public enum ModelError: EngineError, Equatable {
    case invalidConfiguration(String)
    case inputSizeMismatch(model: Int, data: Int)

    public var message: String {
        switch self {
        case .invalidConfiguration(let text): "invalid model: \(text)"
        case .inputSizeMismatch(let model, let data): "the model expects \(model) pixels per example, but the data has \(data)"
        }
    }

    public var hint: String? {
        switch self {
        case .invalidConfiguration: nil
        case .inputSizeMismatch: "build a model for this data with 'model', or load data of the model's size"
        }
    }
}

/// A variational autoencoder: a Gaussian encoder q(z|x), a standard normal prior p(z), and a
/// decoder p(x|z) with the configured likelihood.
///
/// The model owns its parameters (one flat block) and the scratch buffers its passes write; it is
/// a reference type so those buffers are reused. `copy()` gives an independent model.
public final class VAE<T: VAEScalar>: @unchecked Sendable {
    public let configuration: VAEConfiguration
    public let parameters: ParameterStore<T>
    let encoder: MLP
    let decoder: MLP
    /// Offset of `logvar_x` (D) for the learned-variance Gaussian.
    let outputLogVarianceOffset: Int?
    private var workspaces: [WorkspaceKey: Workspace<T>] = [:]

    /// log σ² from the encoder is clamped to this range before use, so exp(log σ²) can neither
    /// overflow nor vanish; inside it the clamp is the identity (and has gradient 1).
    public static var logVarianceRange: ClosedRange<T> { -30...20 }

    /// A fresh model, initialised like PyTorch's nn.Linear (weights and biases U(±1/√fan_in)).
    public convenience init(_ configuration: VAEConfiguration, random: inout RandomSource) throws(ModelError) {
        try configuration.validate()
        let layout = ParameterLayout(configuration)
        self.init(configuration, layout: layout, parameters: ParameterStore(slots: layout.slots))
        encoder.initialize(parameters, random: &random)
        decoder.initialize(parameters, random: &random)
        // logvar_x starts at 0: σ = 1 per pixel.
    }

    private init(_ configuration: VAEConfiguration, layout: ParameterLayout, parameters: ParameterStore<T>) {
        self.configuration = configuration
        self.parameters = parameters
        encoder = MLP(layers: (layout.encoderLayers + [layout.encoderHead]).map(Linear.init), activation: configuration.activation)
        decoder = MLP(layers: layout.decoderLayers.map(Linear.init), activation: configuration.activation)
        outputLogVarianceOffset = layout.outputLogVarianceOffset
    }

    /// A model whose parameter values are given slot by slot (`values[slot.name]`, in each slot's
    /// shape). The caller checks names and shapes; see `Checkpoint`.
    convenience init(_ configuration: VAEConfiguration, values: (ParameterSlot) -> [T]) throws(ModelError) {
        try configuration.validate()
        let layout = ParameterLayout(configuration)
        self.init(configuration, layout: layout, parameters: ParameterStore(slots: layout.slots))
        for slot in parameters.slots {
            let source = values(slot)
            precondition(source.count == slot.count, "VAE.init(values:): wrong element count for \(slot.name)")
            _ = parameters.values(of: slot).update(fromContentsOf: source)
        }
    }

    /// An independent copy of this model's parameters (gradients and scratch buffers are not shared).
    public func copy() -> VAE<T> {
        VAE(configuration, layout: ParameterLayout(configuration), parameters: parameters.copy())
    }

    /// Copies `other`'s parameter values into this model; the configurations must match.
    public func assignParameters(from other: VAE<T>) {
        precondition(other.configuration == configuration, "assignParameters: configurations differ")
        parameters.values.assign(from: other.parameters.values)
    }

    public var latentSize: Int { configuration.latentSize }
    public var inputSize: Int { configuration.inputSize }

    /// True when every parameter is finite.
    public var parametersAreFinite: Bool { parameters.values.isFinite }

    // MARK: - Scratch buffers

    /// The buffers for a pass over up to `examples` rows with `samples` draws each, reused across calls.
    func workspace(examples: Int, samples: Int) -> Workspace<T> {
        let key = WorkspaceKey(examples: examples, samples: samples)
        if let existing = workspaces[key] { return existing }
        // A training run uses two shapes (full and last batch); evaluation a few more. Keep it bounded.
        if workspaces.count >= 6 { workspaces.removeAll() }
        let created = Workspace<T>(self, examples: examples, samples: samples)
        workspaces[key] = created
        return created
    }

    /// Drops the cached scratch buffers (they are rebuilt on demand).
    public func releaseScratchMemory() { workspaces.removeAll() }
}

struct WorkspaceKey: Hashable {
    let examples: Int
    let samples: Int
}

/// Everything one pass over N examples with S samples each writes. Shapes in comments use
/// N = examples, S = samples, Z = latent, D = input.
final class Workspace<T: VAEScalar>: @unchecked Sendable {
    let examples: Int
    let samples: Int
    let encoder: MLPActivations<T>       // output (N, 2Z) = [μ | log σ²]
    let standardDeviation: Matrix<T>     // (N, Z) σ = exp(½ log σ²)
    let epsilon: Matrix<T>               // (N·S, Z)
    let z: Matrix<T>                     // (N·S, Z)
    let dZ: Matrix<T>                    // (N·S, Z)
    let decoder: MLPActivations<T>       // output (N·S, D): logits or means
    let logLikelihood: Matrix<T>         // (N·S, 1) log p(x|z) per draw
    let klMonteCarlo: Matrix<T>          // (N·S, 1) log q(z|x) − log p(z) per draw
    let klAnalytic: Matrix<T>            // (N, 1) closed form per example

    init(_ model: VAE<T>, examples: Int, samples: Int) {
        self.examples = examples
        self.samples = samples
        let draws = examples * samples
        let latent = model.latentSize
        encoder = MLPActivations(model.encoder, capacity: examples)
        standardDeviation = Matrix(rows: examples, columns: latent)
        epsilon = Matrix(rows: draws, columns: latent)
        z = Matrix(rows: draws, columns: latent)
        dZ = Matrix(rows: draws, columns: latent)
        decoder = MLPActivations(model.decoder, capacity: draws)
        logLikelihood = Matrix(rows: draws, columns: 1)
        klMonteCarlo = Matrix(rows: draws, columns: 1)
        klAnalytic = Matrix(rows: examples, columns: 1)
    }
}
