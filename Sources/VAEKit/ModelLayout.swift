/// Where every tensor of an architecture lives, what each is called, and the layers that use them:
/// the one enumeration of parameters (and, beside it, of buffers).
///
/// Slots follow PyTorch's `state_dict` order, layer by layer, with one exception: the two-Linear
/// head's tensors are laid out fc21.weight, fc22.weight, fc21.bias, fc22.bias, so the two heads
/// also form one (2Z, H) Linear whose single GEMM gives [μ | log σ²]. `stateOrder` lists every name
/// in PyTorch's own order, for checkpoints. A learned Gaussian variance is `logvar_x` (D), last.
struct ModelLayout {
    /// What a fresh model draws or sets, in this order (the order of the random stream).
    enum Initializer {
        case layer(Layer)
        /// The fused head, initialised like two Linear(H, Z) layers.
        case head(Linear, latent: Int)
    }

    private(set) var parameters = SlotList()
    private(set) var buffers = SlotList()
    /// The encoder's layers followed, for the two-Linear head, by the fused head: its output is [μ | log σ²] (N, 2Z).
    private(set) var encoder: LayerStack
    private(set) var decoder: LayerStack
    private(set) var outputLogVarianceOffset: Int?
    private(set) var stateOrder: [String] = []
    private(set) var initializers: [Initializer] = []

    init(_ architecture: VAEArchitecture, summary: ArchitectureSummary) throws(ArchitectureError) {
        encoder = LayerStack([], inputCount: 0)
        decoder = encoder
        var encoderLayers: [(layer: Layer, inputCount: Int, outputCount: Int)] = []
        var decoderLayers = encoderLayers
        for row in summary.layers {
            switch row.place {
            case .encoder: encoderLayers.append(try add(row))
            case .decoder: decoderLayers.append(try add(row))
            case .head, .model: continue
            }
            // The head's tensors go between the encoder's and the decoder's, as PyTorch lists them.
            if row.place == .encoder(architecture.encoder.count - 1),
               let head = makeHead(summary.layers.filter { $0.place == .head }, latent: architecture.latentSize) {
                encoderLayers.append((.linear(head), head.inputSize, head.outputSize))
            }
        }
        encoder = LayerStack(encoderLayers, inputCount: architecture.input.count)
        decoder = LayerStack(decoderLayers, inputCount: architecture.latentSize)
        if architecture.likelihood == .gaussianLearned {
            outputLogVarianceOffset = parameters.add("logvar_x", [architecture.input.count])
            stateOrder.append("logvar_x")
        }
    }

    /// `row`'s layer with its tensors added, or the layer's error.
    private mutating func add(_ row: ArchitectureLayer) throws(ArchitectureError) -> (layer: Layer, inputCount: Int, outputCount: Int) {
        do {
            return (try makeLayer(row), row.input.count, row.output.count)
        } catch {
            throw ArchitectureError(place: row.place, layer: row.spec.description, problem: error.text, hint: error.hint, kind: error.kind)
        }
    }

    /// The two Linear(H, Z) heads as one (2Z, H) layer: weights side by side, then biases.
    private mutating func makeHead(_ rows: [ArchitectureLayer], latent: Int) -> Linear? {
        guard rows.count == 2, let mean = rows[0].name, let logVariance = rows[1].name else { return nil }
        let width = rows[0].input.count
        let weight = parameters.add("\(mean).weight", [latent, width])
        _ = parameters.add("\(logVariance).weight", [latent, width])
        let bias = parameters.add("\(mean).bias", [latent])
        _ = parameters.add("\(logVariance).bias", [latent])
        stateOrder += ["\(mean).weight", "\(mean).bias", "\(logVariance).weight", "\(logVariance).bias"]
        let head = Linear(slots: LinearSlots(inputSize: width, outputSize: 2 * latent, weightOffset: weight, biasOffset: bias))
        initializers.append(.head(head, latent: latent))
        return head
    }

    /// The engine's layer for one checked row, with its tensors added to the blocks.
    private mutating func makeLayer(_ row: ArchitectureLayer) throws(LayerProblem) -> Layer {
        let name = row.name ?? ""
        func add(_ suffix: String, _ shape: [Int]) -> Int {
            stateOrder.append("\(name).\(suffix)")
            return parameters.add("\(name).\(suffix)", shape)
        }
        func image(_ shape: ExampleShape) -> (channels: Int, height: Int, width: Int) {
            if case .image(let channels, let height, let width) = shape { return (channels, height, width) }
            return (shape.count, 1, 1)
        }
        let layer: Layer
        switch row.spec {
        case .linear(let inFeatures, let outFeatures, let bias):
            let weight = add("weight", [outFeatures, inFeatures])
            layer = .linear(Linear(slots: LinearSlots(inputSize: inFeatures, outputSize: outFeatures, weightOffset: weight,
                                                      biasOffset: bias ? add("bias", [outFeatures]) : nil)))
        case .conv2d(let spec):
            let geometry = try ConvolutionGeometry.conv2d(spec, input: image(row.input))
            let weight = add("weight", [spec.outChannels, spec.inChannels, spec.kernelSize.height, spec.kernelSize.width])
            let slots = ConvolutionSlots(weightOffset: weight, biasOffset: spec.bias ? add("bias", [spec.outChannels]) : nil)
            layer = .conv2d(Conv2d(geometry: geometry, outChannels: spec.outChannels, slots: slots))
        case .convTranspose2d(let spec):
            let geometry = try ConvolutionGeometry.convTranspose2d(spec, input: image(row.input))
            let weight = add("weight", [spec.inChannels, spec.outChannels, spec.kernelSize.height, spec.kernelSize.width])
            let slots = ConvolutionSlots(weightOffset: weight, biasOffset: spec.bias ? add("bias", [spec.outChannels]) : nil)
            layer = .convTranspose2d(ConvTranspose2d(geometry: geometry, inChannels: spec.inChannels, slots: slots))
        case .batchNorm1d(let spec), .batchNorm2d(let spec):
            let channels = spec.numFeatures
            let weight = spec.affine ? add("weight", [channels]) : nil
            let bias = spec.affine ? add("bias", [channels]) : nil
            stateOrder += ["running_mean", "running_var", "num_batches_tracked"].map { "\(name).\($0)" }
            let statistics = BatchNormBuffers(runningMean: buffers.add("\(name).running_mean", [channels]),
                                              runningVariance: buffers.add("\(name).running_var", [channels]),
                                              batchesTracked: buffers.add("\(name).num_batches_tracked", []))
            layer = .batchNorm(BatchNorm(channels: channels, spatial: row.input.count / channels, eps: spec.eps, momentum: spec.momentum,
                                         weightOffset: weight, biasOffset: bias, buffers: statistics))
        case .flatten, .unflatten:
            layer = .reshape
        default:
            guard let function = row.spec.activationFunction else { preconditionFailure("unhandled layer \(row.spec)") }
            layer = .activation(ActivationLayer(function: function, count: row.input.count))
        }
        if row.spec.hasParameters || layer.isBatchNorm { initializers.append(.layer(layer)) }
        return layer
    }
}

extension ModelLayout {
    /// One stack on its own, `specs` from `input`, with tensors named `layer.i`: what the
    /// per-layer tests build (a model is always this for its encoder and decoder).
    init(stack specs: [LayerSpec], input: ExampleShape) throws(ArchitectureError) {
        encoder = LayerStack([], inputCount: 0)
        decoder = encoder
        var layers: [(layer: Layer, inputCount: Int, outputCount: Int)] = []
        var shape = input
        for (index, spec) in specs.enumerated() {
            let place = ArchitectureError.Place.encoder(index)
            let output: ExampleShape
            do {
                output = try VAEArchitecture.outputShape(of: spec, input: shape, origin: "the input is \(shape.text)", flattensImage: index == 0)
            } catch {
                throw ArchitectureError(place: place, layer: spec.description, problem: error.text, hint: error.hint, kind: error.kind)
            }
            let name: String? = spec.hasParameters || spec.isBatchNorm ? "layer.\(index)" : nil
            layers.append(try add(ArchitectureLayer(place: place, spec: spec, name: name, input: shape, output: output, parameters: 0, buffers: 0)))
            shape = output
        }
        encoder = LayerStack(layers, inputCount: input.count)
    }
}

extension LayerSpec {
    var isBatchNorm: Bool {
        switch self {
        case .batchNorm1d, .batchNorm2d: true
        default: false
        }
    }
}
