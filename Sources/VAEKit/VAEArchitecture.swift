/// How the encoder's output becomes q(z|x) = N(μ, diag σ²).
public enum LatentHead: String, Sendable, Hashable, Codable, CaseIterable {
    /// The encoder's last layer gives 2Z values, read as [μ | log σ²] (the TensorFlow and Keras
    /// tutorials: `Dense(latent + latent)` split in two).
    case split
    /// Two Linear layers on the encoder's output, fc21 → μ and fc22 → log σ² (pytorch/examples).
    /// They run as one GEMM: their weights sit side by side in the parameter block.
    case twoLinear = "two-linear"
}

/// The tensor names of a model's parameters and buffers, as in the PyTorch module it stands for.
public enum ParameterNaming: Sendable, Hashable, Codable {
    /// pytorch/examples' VAE: the encoder's Linear layers are fc1, fc1_2, fc1_3, …, the heads fc21
    /// and fc22, the decoder's Linear layers fc3, fc3_2, …, and its last one fc4. Only for models
    /// whose layers with parameters are all Linear (the MLP family).
    case pytorchExample
    /// `nn.Sequential` stacks: `encoder.0.weight`, `encoder.3.running_mean`, `decoder.5.bias`
    /// (the index is the layer's position in its list, counting layers without parameters), and
    /// the two-Linear head's `fc21.*`, `fc22.*`.
    case sequential(SequentialNames)

    /// `encoder.i`, `fc21`, `fc22`, `decoder.i`.
    public static let sequential = ParameterNaming.sequential(SequentialNames())
}

/// The module names of a sequential model.
public struct SequentialNames: Sendable, Hashable, Codable {
    public var encoder: String
    public var mean: String
    public var logVariance: String
    public var decoder: String

    public init(encoder: String = "encoder", mean: String = "fc21", logVariance: String = "fc22", decoder: String = "decoder") {
        self.encoder = encoder
        self.mean = mean
        self.logVariance = logVariance
        self.decoder = decoder
    }
}

/// A model as data: an encoder stack, a latent head, a decoder stack and a likelihood, with the
/// shape of the examples it reads. What `model` builds from, what checkpoints record, and what
/// `info` draws.
///
/// Nothing is allocated until `VAE(_:random:)`, which first runs `validate()`: shape inference from
/// `input` through every layer, with a typed error naming the layer that does not fit.
///
/// The encoder reads each example as `input` (C×H×W, or D values); a Linear as its very first
/// layer reads the example flattened (as pytorch/examples' `x.view(-1, 784)`). The decoder reads z
/// (Z values) and must end with `input`'s values: as many, and in the same C×H×W when both are images.
public struct VAEArchitecture: Sendable, Hashable, Codable {
    /// The shape of one example of the data (grey 28×28 MNIST: 1×28×28; an MLP built for flat data: D).
    public var input: ExampleShape
    public var encoder: [LayerSpec]
    public var head: LatentHead
    /// Z.
    public var latentSize: Int
    public var decoder: [LayerSpec]
    public var likelihood: Likelihood
    public var naming: ParameterNaming
    /// How the head's second half gives σ (log σ² unless a checkpoint's model said otherwise).
    public var variance: VarianceParameterization

    public init(input: ExampleShape, encoder: [LayerSpec], head: LatentHead, latentSize: Int, decoder: [LayerSpec],
                likelihood: Likelihood = .bernoulli, naming: ParameterNaming = .sequential,
                variance: VarianceParameterization = .logvar) {
        self.input = input
        self.encoder = encoder
        self.head = head
        self.latentSize = latentSize
        self.decoder = decoder
        self.likelihood = likelihood
        self.naming = naming
        self.variance = variance
    }

    private enum CodingKeys: String, CodingKey {
        case input, encoder, head, latentSize, decoder, likelihood, naming, variance
    }

    /// Files written before `variance` existed record none: their heads give log σ².
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(input: try container.decode(ExampleShape.self, forKey: .input),
                  encoder: try container.decode([LayerSpec].self, forKey: .encoder),
                  head: try container.decode(LatentHead.self, forKey: .head),
                  latentSize: try container.decode(Int.self, forKey: .latentSize),
                  decoder: try container.decode([LayerSpec].self, forKey: .decoder),
                  likelihood: try container.decode(Likelihood.self, forKey: .likelihood),
                  naming: try container.decode(ParameterNaming.self, forKey: .naming),
                  variance: try container.decodeIfPresent(VarianceParameterization.self, forKey: .variance) ?? .logvar)
    }

    // MARK: - Limits

    /// The largest model the engine agrees to build: 100 million parameters (400 MB in Float32,
    /// twice that again for Adam's moments).
    public static let maximumParameterCount = 100_000_000
    /// Activations are refused when a batch of `referenceBatch` examples would need more than this
    /// for its forward values and gradients (2 GiB): 4 M float values per example.
    public static let maximumActivationBytes = 2 << 30
    public static let referenceBatch = 128
    /// No size, channel count, stride, padding or dilation may exceed this (2²⁰), so that shape
    /// arithmetic on absurd inputs is refused rather than overflowing.
    public static let maximumSize = 1 << 20

    static func checkSize(_ name: String, _ value: Int) throws(LayerProblem) {
        if value > maximumSize {
            throw LayerProblem(text: "has \(name)=\(value); the engine takes at most \(maximumSize)", kind: .tooLarge)
        }
    }

    // MARK: - Text

    /// A few words for prompts and one-line reports: "784-400-20" for the MLP family (as
    /// `VAEConfiguration.summary`), else the input, the kind of encoder and Z, e.g. "1×28×28-conv-2".
    public var summary: String {
        if let configuration = mlpConfiguration { return configuration.summary }
        let convolutional = (encoder + decoder).contains {
            if case .conv2d = $0 { return true }
            if case .convTranspose2d = $0 { return true }
            return false
        }
        return "\(input.text)-\(convolutional ? "conv" : "mlp")-\(latentSize)"
    }

    /// The smallest batch training mode can run: 2 when a BatchNorm1d must estimate a variance
    /// from one value per channel otherwise (PyTorch raises there), else 1.
    public var minimumTrainingBatch: Int {
        (encoder + decoder).contains { if case .batchNorm1d = $0 { return true } else { return false } } ? 2 : 1
    }
}

// MARK: - The MLP family

extension VAEConfiguration {
    /// This MLP as an architecture: each hidden width a Linear followed by the activation, the
    /// two-Linear head (fc21, fc22), the pytorch/examples names. `input` defaults to D flat values.
    public func architecture(input: ExampleShape? = nil) -> VAEArchitecture {
        var encoder: [LayerSpec] = []
        var width = inputSize
        for hidden in encoderHidden {
            encoder += [.Linear(width, hidden), activation.layer]
            width = hidden
        }
        var decoder: [LayerSpec] = []
        width = latentSize
        for hidden in resolvedDecoderHidden {
            decoder += [.Linear(width, hidden), activation.layer]
            width = hidden
        }
        decoder.append(.Linear(width, inputSize))
        return VAEArchitecture(input: input ?? .vector(inputSize), encoder: encoder, head: .twoLinear, latentSize: latentSize,
                               decoder: decoder, likelihood: likelihood, naming: .pytorchExample)
    }

    /// The architecture of the MLP family with D inputs.
    public var architecture: VAEArchitecture { architecture() }
}

extension VAEArchitecture {
    /// The `VAEConfiguration` this architecture is, when it is one of the MLP family (Linear layers
    /// with bias, one activation among relu/tanh/softplus after every hidden layer, the two-Linear
    /// head and the pytorch/examples names); nil otherwise.
    public var mlpConfiguration: VAEConfiguration? {
        guard naming == .pytorchExample, head == .twoLinear, variance == .logvar, let inputSize = input.checkedCount else { return nil }
        func hidden(_ layers: ArraySlice<LayerSpec>, from start: Int) -> (widths: [Int], activation: Activation?, end: Int)? {
            var widths: [Int] = [], activation: Activation?, width = start
            var rest = layers
            while rest.count >= 2, case .linear(let input, let output, true) = rest[rest.startIndex], input == width {
                guard let found = Activation.allCases.first(where: { $0.layer == rest[rest.startIndex + 1] }),
                      activation == nil || activation == found else { return nil }
                activation = found
                widths.append(output)
                width = output
                rest = rest.dropFirst(2)
            }
            return rest.isEmpty ? (widths, activation, width) : nil
        }
        guard let encoderPart = hidden(encoder[...], from: inputSize), encoder.count == 2 * encoderPart.widths.count,
              !encoderPart.widths.isEmpty, let activation = encoderPart.activation,
              let decoderPart = hidden(decoder.dropLast(), from: latentSize), decoder.count == 2 * decoderPart.widths.count + 1,
              !decoderPart.widths.isEmpty, decoderPart.activation == activation,
              decoder.last == .Linear(decoderPart.end, inputSize) else { return nil }
        let mirrored = decoderPart.widths == encoderPart.widths.reversed()
        return VAEConfiguration(inputSize: inputSize, encoderHidden: encoderPart.widths, latentSize: latentSize,
                                decoderHidden: mirrored ? nil : decoderPart.widths, activation: activation, likelihood: likelihood)
    }
}

// MARK: - Tensor names

extension ParameterNaming {
    /// The module names of the two-Linear head's μ and log σ² layers.
    var headNames: (mean: String, logVariance: String) {
        switch self {
        case .pytorchExample: ("fc21", "fc22")
        case .sequential(let names): (names.mean, names.logVariance)
        }
    }
}

/// Gives each layer with tensors its module name, in stack order: the one place names are made
/// (the summary shows them, the parameter layout uses them).
struct LayerNamer {
    let naming: ParameterNaming
    private var linearsSeen: [String: Int] = [:]

    init(_ naming: ParameterNaming) { self.naming = naming }

    /// The module name of `spec` at `place`, nil for a layer without tensors. pytorch/examples
    /// names count Linear layers: fc1, fc1_2, … in the encoder; fc3, fc3_2, … and the last fc4 in
    /// the decoder.
    mutating func name(for spec: LayerSpec, at place: ArchitectureError.Place, isLastDecoderLinear: Bool) throws(LayerProblem) -> String? {
        let hasTensors: Bool = switch spec {
        case .linear, .conv2d, .convTranspose2d, .batchNorm1d, .batchNorm2d: true
        default: false
        }
        guard hasTensors else { return nil }
        switch (naming, place) {
        case (.sequential(let names), .encoder(let index)): return "\(names.encoder).\(index)"
        case (.sequential(let names), .decoder(let index)): return "\(names.decoder).\(index)"
        case (.pytorchExample, .encoder), (.pytorchExample, .decoder):
            guard case .linear = spec else {
                throw LayerProblem(text: "has tensors, but the pytorch/examples names (fc1, fc21, fc3, fc4) are only for Linear layers",
                                   hint: "use the nn.Sequential names (encoder.0, decoder.0, …)", kind: .naming)
            }
            let base = if case .encoder = place { "fc1" } else { "fc3" }
            if isLastDecoderLinear, case .decoder = place { return "fc4" }
            let seen = linearsSeen[base, default: 0]
            linearsSeen[base] = seen + 1
            return seen == 0 ? base : "\(base)_\(seen + 1)"
        default:
            return nil
        }
    }
}
