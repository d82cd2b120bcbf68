import RealModule

/// An MLP model: sizes, activation and likelihood. The defaults are the pytorch/examples VAE
/// (784-400-20, ReLU, Bernoulli), so a fresh `VAEConfiguration()` is directly comparable with it.
///
/// One family of `VAEArchitecture` (see `architecture`), kept as its own type because the `model`
/// command's options and the checkpoints of earlier versions (`vaesh.configuration`) speak it.
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

    /// The largest model the engine agrees to build (`VAEArchitecture.maximumParameterCount`).
    public static let maximumParameterCount = VAEArchitecture.maximumParameterCount

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
    /// A model for images of one shape and data of another (the counts may agree: 1×28×28 vs 28×28×1).
    case inputShapeMismatch(model: ExampleShape, data: ExampleShape)

    public var message: String {
        switch self {
        case .invalidConfiguration(let text): "invalid model: \(text)"
        case .inputSizeMismatch(let model, let data): "the model expects \(model) pixels per example, but the data has \(data)"
        case .inputShapeMismatch(let model, let data): "the model reads examples of \(model.text), but the data's are \(data.text)"
        }
    }

    public var hint: String? {
        switch self {
        case .invalidConfiguration: nil
        case .inputSizeMismatch, .inputShapeMismatch: "build a model for this data with 'model', or load data of the model's size"
        }
    }
}

/// A variational autoencoder: a Gaussian encoder q(z|x), a standard normal prior p(z), and a
/// decoder p(x|z) with the architecture's likelihood; its encoder and decoder are stacks of layers.
///
/// The model owns its parameters (one flat block), its buffers (BatchNorm's running statistics)
/// and the scratch buffers its passes write; it is a reference type so those are reused. `copy()`
/// gives an independent model.
public final class VAE<T: VAEScalar>: @unchecked Sendable {
    public let architecture: VAEArchitecture
    /// Every layer with its shapes and sizes, as `architecture.validate()` found them.
    public let summary: ArchitectureSummary
    public let parameters: ParameterStore<T>
    public let buffers: BufferStore<T>
    /// The encoder's layers, then (two-Linear head) fc21 and fc22 as one layer: output [μ | log σ²] (N, 2Z).
    let encoder: LayerStack
    let decoder: LayerStack
    /// Offset of `logvar_x` (D) for the learned-variance Gaussian.
    let outputLogVarianceOffset: Int?
    /// Every tensor name in PyTorch's `state_dict` order.
    let stateOrder: [String]
    private var workspaces: [WorkspaceKey: Workspace<T>] = [:]

    /// log σ² from the encoder is clamped to this range before use, so exp(log σ²) can neither
    /// overflow nor vanish; inside it the clamp is the identity (and has gradient 1).
    public static var logVarianceRange: ClosedRange<T> { -30...20 }

    /// A fresh model of `architecture`, checked first (nothing is allocated when it does not fit),
    /// initialised layer by layer in order: PyTorch's defaults or Keras's; BatchNorm with γ = 1,
    /// β = 0, running mean 0 and variance 1; `logvar_x` at 0 (σ = 1 per value).
    public convenience init(_ architecture: VAEArchitecture, initialization: Initialization = .pytorch,
                            random: inout RandomSource) throws(ArchitectureError) {
        let summary = try architecture.validate()
        let layout = try ModelLayout(architecture, summary: summary)
        self.init(architecture, summary: summary, layout: layout)
        for step in layout.initializers {
            switch step {
            case .layer(.linear(let layer)): layer.initialize(parameters, random: &random, scheme: initialization)
            case .layer(.conv2d(let layer)): layer.initialize(parameters, random: &random, scheme: initialization)
            case .layer(.convTranspose2d(let layer)): layer.initialize(parameters, random: &random, scheme: initialization)
            case .layer(.batchNorm(let layer)): layer.initialize(parameters, buffers: buffers)
            case .layer: break
            case .head(let head, let latent):
                // One draw for both heads' weights, then their biases (what the MLP always did);
                // Keras's bound is that of two Dense(Z) layers.
                initialization.fill(parameters, weightOffset: head.slots.weightOffset, weightCount: head.outputSize * head.inputSize,
                                    biasOffset: head.slots.biasOffset, biasCount: head.outputSize, fanIn: head.inputSize,
                                    fanOut: latent, random: &random)
            }
        }
    }

    /// A fresh MLP, initialised like PyTorch's nn.Linear (weights and biases U(±1/√fan_in)).
    public convenience init(_ configuration: VAEConfiguration, random: inout RandomSource) throws(ModelError) {
        try configuration.validate()
        do {
            try self.init(configuration.architecture, random: &random)
        } catch {
            throw .invalidConfiguration(error.message)
        }
    }

    /// A model whose parameter values are given slot by slot (`values[slot.name]`, in each slot's
    /// shape), and its buffers likewise (or PyTorch's starting values where `buffers` gives nil).
    /// The caller checks names and shapes; see `Checkpoint`.
    convenience init(_ architecture: VAEArchitecture, values: (ParameterSlot) -> [T],
                     buffers bufferValues: (ParameterSlot) -> [T]? = { _ in nil }) throws(ArchitectureError) {
        let summary = try architecture.validate()
        let layout = try ModelLayout(architecture, summary: summary)
        self.init(architecture, summary: summary, layout: layout)
        for case .layer(.batchNorm(let layer)) in layout.initializers { layer.initialize(parameters, buffers: buffers) }
        for slot in parameters.slots {
            let source = values(slot)
            precondition(source.count == slot.count, "VAE.init(values:): wrong element count for \(slot.name)")
            _ = parameters.values(of: slot).update(fromContentsOf: source)
        }
        for slot in buffers.slots {
            guard let source = bufferValues(slot) else { continue }
            precondition(source.count == slot.count, "VAE.init(values:): wrong element count for \(slot.name)")
            _ = buffers.values(of: slot).update(fromContentsOf: source)
        }
    }

    /// An MLP with its parameter values given slot by slot (see the architecture's initialiser).
    convenience init(_ configuration: VAEConfiguration, values: (ParameterSlot) -> [T]) throws(ModelError) {
        try configuration.validate()
        do {
            try self.init(configuration.architecture, values: values)
        } catch {
            throw .invalidConfiguration(error.message)
        }
    }

    private convenience init(_ architecture: VAEArchitecture, summary: ArchitectureSummary, layout: ModelLayout) {
        self.init(architecture, summary: summary, encoder: layout.encoder, decoder: layout.decoder,
                  outputLogVarianceOffset: layout.outputLogVarianceOffset, stateOrder: layout.stateOrder,
                  parameters: ParameterStore(slots: layout.parameters.slots), buffers: BufferStore(slots: layout.buffers.slots))
    }

    private init(_ architecture: VAEArchitecture, summary: ArchitectureSummary, encoder: LayerStack, decoder: LayerStack,
                 outputLogVarianceOffset: Int?, stateOrder: [String], parameters: ParameterStore<T>, buffers: BufferStore<T>) {
        self.architecture = architecture
        self.summary = summary
        self.encoder = encoder
        self.decoder = decoder
        self.outputLogVarianceOffset = outputLogVarianceOffset
        self.stateOrder = stateOrder
        self.parameters = parameters
        self.buffers = buffers
    }

    /// An independent copy of this model's parameters and buffers (gradients and scratch buffers are not shared).
    public func copy() -> VAE<T> {
        VAE(architecture, summary: summary, encoder: encoder, decoder: decoder, outputLogVarianceOffset: outputLogVarianceOffset,
            stateOrder: stateOrder, parameters: parameters.copy(), buffers: buffers.copy())
    }

    /// Copies `other`'s parameter and buffer values into this model; the architectures must match.
    public func assignParameters(from other: VAE<T>) {
        precondition(other.architecture == architecture, "assignParameters: architectures differ")
        parameters.values.assign(from: other.parameters.values)
        buffers.values.assign(from: other.buffers.values)
    }

    /// Z.
    public var latentSize: Int { architecture.latentSize }
    /// D: values per example (C·H·W).
    public var inputSize: Int { architecture.input.count }

    /// True when every parameter and buffer is finite.
    public var parametersAreFinite: Bool { parameters.values.isFinite && buffers.values.isFinite }

    // MARK: - Scratch buffers

    /// Activation memory an evaluation pass may use before the engine cuts it into smaller passes
    /// (evaluation chunks, importance-sampling batches): 256 MB. The MLP family never reaches it
    /// at its defaults (500 examples, 4096 draws), so its passes are cut as they always were.
    static var activationBudget: Int { 256 << 20 }

    /// Bytes of forward values one example takes in the encoder (with σ and the KL terms), and one
    /// draw in the decoder (with ε, z and its terms).
    var valueBytesPerExample: (encoder: Int, decoder: Int) {
        let size = MemoryLayout<T>.size
        return (size * (encoder.bufferColumns.reduce(0, +) + latentSize + 1), size * (decoder.bufferColumns.reduce(0, +) + 2 * latentSize + 2))
    }

    /// The buffers for a pass over up to `examples` rows with `samples` draws each, reused across
    /// calls; without gradient buffers unless `gradients` (a pass that runs backward).
    func workspace(examples: Int, samples: Int, gradients: Bool = true) -> Workspace<T> {
        let key = WorkspaceKey(examples: examples, samples: samples, gradients: gradients)
        if let existing = workspaces[key] { return existing }
        // A training run uses two shapes (full and last batch); evaluation a few more. Keep it bounded.
        if workspaces.count >= 6 { workspaces.removeAll() }
        let created = Workspace<T>(self, examples: examples, samples: samples, gradients: gradients)
        workspaces[key] = created
        return created
    }

    /// Drops the cached scratch buffers (they are rebuilt on demand).
    public func releaseScratchMemory() { workspaces.removeAll() }
}

struct WorkspaceKey: Hashable {
    let examples: Int
    let samples: Int
    let gradients: Bool
}

/// Per-thread scratch for the convolutions (column matrices, partial weight gradients): one
/// region per part a pass is split into, grown before a pass when the thread count has grown.
final class ScratchSpace<T: VAEScalar>: @unchecked Sendable {
    let count: Int
    private var regions: [Matrix<T>] = []
    private(set) var pointers: [UnsafeMutablePointer<T>] = []

    init(count: Int) { self.count = count }

    /// One region per part for up to `parts` parts (none when no layer needs scratch).
    func pointers(for parts: Int) -> [UnsafeMutablePointer<T>] {
        guard count > 0 else { return [] }
        while regions.count < parts {
            regions.append(Matrix(rows: 1, columns: count))
            pointers.append(regions[regions.count - 1].pointer)
        }
        return pointers
    }
}

/// Everything one pass over N examples with S samples each writes. Shapes in comments use
/// N = examples, S = samples, Z = latent, D = input.
final class Workspace<T: VAEScalar>: @unchecked Sendable {
    let examples: Int
    let samples: Int
    let encoder: StackActivations<T>     // output (N, 2Z) = [μ | log σ²]
    let standardDeviation: Matrix<T>     // (N, Z) σ = exp(½ log σ²)
    let epsilon: Matrix<T>               // (N·S, Z)
    let z: Matrix<T>                     // (N·S, Z)
    let dZ: Matrix<T>                    // (N·S, Z)
    let decoder: StackActivations<T>     // output (N·S, D): logits or means
    let logLikelihood: Matrix<T>         // (N·S, 1) log p(x|z) per draw
    let klMonteCarlo: Matrix<T>          // (N·S, 1) log q(z|x) − log p(z) per draw
    let klAnalytic: Matrix<T>            // (N, 1) closed form per example
    let scratch: ScratchSpace<T>         // per part: the largest convolution's columns and partial sums

    init(_ model: VAE<T>, examples: Int, samples: Int, gradients: Bool) {
        self.examples = examples
        self.samples = samples
        let draws = examples * samples
        let latent = model.latentSize
        encoder = StackActivations(model.encoder, capacity: examples, gradients: gradients)
        standardDeviation = Matrix(rows: examples, columns: latent)
        epsilon = Matrix(rows: draws, columns: latent)
        z = Matrix(rows: draws, columns: latent)
        dZ = Matrix(rows: gradients ? draws : 0, columns: latent)
        decoder = StackActivations(model.decoder, capacity: draws, gradients: gradients)
        logLikelihood = Matrix(rows: draws, columns: 1)
        klMonteCarlo = Matrix(rows: draws, columns: 1)
        klAnalytic = Matrix(rows: examples, columns: 1)
        scratch = ScratchSpace(count: max(model.encoder.scratchCount, model.decoder.scratchCount))
    }
}
