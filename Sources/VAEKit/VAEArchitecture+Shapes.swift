/// One layer of a checked architecture: where it sits, what goes in and comes out, and what it
/// holds (a `torchsummary` row).
public struct ArchitectureLayer: Sendable, Equatable {
    public var place: ArchitectureError.Place
    /// The layer; for the two-Linear head, its Linear(H, Z).
    public var spec: LayerSpec
    /// The module name its tensors carry ("encoder.0", "fc1", "fc21"), nil when it has none.
    public var name: String?
    public var input: ExampleShape
    public var output: ExampleShape
    public var parameters: Int
    /// Values of its buffers (BatchNorm's running statistics and batch count).
    public var buffers: Int
}

/// What `VAEArchitecture.validate()` found: every layer with its output shape and sizes, in the
/// order encoder, head, decoder.
public struct ArchitectureSummary: Sendable, Equatable {
    public var layers: [ArchitectureLayer]
    /// Every learned value, the learned Gaussian variance (`logvar_x`, D) included.
    public var parameterCount: Int
    public var bufferCount: Int
    /// The values one example's pass writes, forward and backward (an upper bound: activations
    /// that run in place are counted as if they did not).
    public var activationValuesPerExample: Int

    /// Bytes of activations for a batch of `examples` in Float32.
    public func activationBytes(examples: Int) -> Int {
        checkedProduct([activationValuesPerExample, examples, MemoryLayout<Float>.size]) ?? .max
    }
}

extension VAEArchitecture {
    /// Checks the architecture: every size and argument, every layer against the shape it
    /// receives (from `input` through the encoder, the head, and from z through the decoder back
    /// to `input`'s shape), the names, the parameter cap and the activation-memory cap. Throws the
    /// first problem, naming its layer; returns each layer's shapes and sizes.
    public func validate() throws(ArchitectureError) -> ArchitectureSummary {
        func fail(_ place: ArchitectureError.Place, _ layer: LayerSpec?, _ problem: LayerProblem) -> ArchitectureError {
            ArchitectureError(place: place, layer: layer?.description, problem: problem.text, hint: problem.hint, kind: problem.kind)
        }
        func modelProblem(_ text: String, hint: String? = nil, kind: ArchitectureError.Kind = .argument) -> ArchitectureError {
            ArchitectureError(place: .model, layer: nil, problem: text, hint: hint, kind: kind)
        }
        if latentSize < 1 {
            throw ArchitectureError(place: .head, layer: nil, problem: "has latent size \(latentSize); it must be at least 1", kind: .argument)
        }
        do { try Self.checkSize("latent size", latentSize) } catch { throw fail(.head, nil, error) }
        if case .gaussian(let sigma) = likelihood, !(sigma > 0 && sigma.isFinite) {
            throw modelProblem("has a Gaussian likelihood with σ = \(sigma); σ must be positive and finite")
        }
        let inputSizes: [Int] = switch input {
        case .vector(let count): [count]
        case .image(let channels, let height, let width): [channels, height, width]
        }
        if let bad = inputSizes.first(where: { $0 < 1 || $0 > Self.maximumSize }) {
            throw modelProblem("has an input shape \(input.text) with a size \(bad) outside 1…\(Self.maximumSize)")
        }
        if encoder.isEmpty { throw modelProblem("has no encoder layers", hint: "the encoder needs at least a Linear or a Conv2d") }
        if decoder.isEmpty { throw modelProblem("has no decoder layers", hint: "the decoder needs at least a Linear or a ConvTranspose2d") }

        var layers: [ArchitectureLayer] = []
        var names = LayerNamer(naming)
        func run(_ stack: [LayerSpec], from start: ExampleShape, origin start0: String,
                 place: (Int) -> ArchitectureError.Place, isEncoder: Bool) throws(ArchitectureError) -> ExampleShape {
            var shape = start, origin = start0
            for (index, spec) in stack.enumerated() {
                let output: ExampleShape, counts: (parameters: Int, buffers: Int)
                do {
                    output = try Self.outputShape(of: spec, input: shape, origin: origin, flattensImage: isEncoder && index == 0)
                    counts = try Self.sizes(of: spec, input: shape)
                } catch {
                    throw fail(place(index), spec, error)
                }
                let name: String?
                do { name = try names.name(for: spec, at: place(index), isLastDecoderLinear: !isEncoder && Self.isLastLinear(index, in: stack)) } catch {
                    throw fail(place(index), spec, error)
                }
                layers.append(ArchitectureLayer(place: place(index), spec: spec, name: name, input: shape, output: output,
                                                parameters: counts.parameters, buffers: counts.buffers))
                origin = Self.origin(after: spec, output: output, previous: origin)
                shape = output
            }
            return shape
        }

        let encoded = try run(encoder, from: input, origin: "the data is \(input.text)", place: { .encoder($0) }, isEncoder: true)
        let last = ArchitectureError.Place.encoder(encoder.count - 1)
        switch head {
        case .split:
            guard encoded == .vector(2 * latentSize) else {
                throw ArchitectureError(place: last, layer: encoder.last?.description,
                                        problem: "ends the encoder with \(encoded.text)\(encoded.isImage ? "" : " values"), but the split head needs 2 × latent = \(2 * latentSize) values [μ | log σ²]",
                                        hint: encoded.isImage ? "end the encoder with Flatten() and Linear(\(encoded.count), \(2 * latentSize))" : "end the encoder with a layer of \(2 * latentSize) outputs, or use the two-Linear head",
                                        kind: .shape)
            }
        case .twoLinear:
            guard case .vector(let width) = encoded else {
                throw ArchitectureError(place: last, layer: encoder.last?.description,
                                        problem: "ends the encoder with \(encoded.text), but the two-Linear head reads flat values",
                                        hint: "end the encoder with Flatten()", kind: .shape)
            }
            let heads = naming.headNames
            for headName in [heads.mean, heads.logVariance] {
                layers.append(ArchitectureLayer(place: .head, spec: .Linear(width, latentSize), name: headName, input: encoded,
                                                output: .vector(latentSize), parameters: (width + 1) * latentSize, buffers: 0))
            }
        }

        let decoded = try run(decoder, from: .vector(latentSize), origin: "z has \(latentSize) values (the latent size)",
                              place: { .decoder($0) }, isEncoder: false)
        let fits = decoded.count == input.count && (!(decoded.isImage && input.isImage) || decoded == input)
        if !fits {
            throw ArchitectureError(place: .decoder(decoder.count - 1), layer: decoder.last?.description,
                                    problem: "ends the decoder with \(decoded.text)\(decoded.isImage ? "" : " values"), but the data is \(input.text)",
                                    hint: "the decoder's output must match one example of the data", kind: .shape)
        }
        for (stack, name) in [(encoder, "encoder"), (decoder, "decoder")] where !stack.contains(where: \.computes) {
            throw modelProblem("has no Linear or convolution in its \(name)", hint: "each stack needs a layer that computes from its input")
        }

        let learnedVariance = likelihood == .gaussianLearned ? input.count : 0
        guard let parameterCount = checkedSum(layers.map(\.parameters) + [learnedVariance]),
              parameterCount <= Self.maximumParameterCount else {
            let total = checkedSum(layers.map(\.parameters) + [learnedVariance]).map { grouped($0) } ?? "more than \(grouped(Int.max))"
            throw modelProblem("would have \(total) parameters, more than the \(grouped(Self.maximumParameterCount)) the engine builds",
                               kind: .tooLarge)
        }
        let values = checkedSum(layers.filter { !$0.spec.isReshape }.map(\.output.count) + [input.count, 3 * latentSize]) ?? .max
        let summary = ArchitectureSummary(layers: layers, parameterCount: parameterCount, bufferCount: layers.reduce(0) { $0 + $1.buffers },
                                          activationValuesPerExample: values == .max ? .max : 2 * values)
        let bytes = summary.activationBytes(examples: Self.referenceBatch)
        if bytes > Self.maximumActivationBytes {
            throw modelProblem("would need \(bytes == .max ? "an absurd amount" : megabytes(bytes)) of activations for a batch of \(Self.referenceBatch) (values and gradients), more than the \(megabytes(Self.maximumActivationBytes)) the engine allocates",
                               hint: "use fewer channels or a smaller image", kind: .tooLarge)
        }
        return summary
    }

    static func isLastLinear(_ index: Int, in stack: [LayerSpec]) -> Bool {
        stack.lastIndex { if case .linear = $0 { true } else { false } } == index
    }

    // MARK: - One layer

    /// The shape `spec` gives for `input`, or what is wrong. `origin` says where the input came from,
    /// for the message; `flattensImage`: a Linear reads an image flattened (the encoder's first layer).
    static func outputShape(of spec: LayerSpec, input: ExampleShape, origin: String, flattensImage: Bool) throws(LayerProblem) -> ExampleShape {
        func receives(_ what: String, hint: String? = nil) -> LayerProblem {
            LayerProblem(text: "receives \(what): \(origin)", hint: hint)
        }
        func positive(_ name: String, _ value: Int) throws(LayerProblem) {
            if value < 1 { throw LayerProblem(text: "has \(name)=\(value); it must be at least 1", kind: .argument) }
            try checkSize(name, value)
        }
        func image(_ what: String) throws(LayerProblem) -> (channels: Int, height: Int, width: Int) {
            guard case .image(let channels, let height, let width) = input else {
                throw receives("\(input.count) values, not an image", hint: "add Unflatten(1, (C, H, W)) before it\(what)")
            }
            return (channels, height, width)
        }
        switch spec {
        case .linear(let inFeatures, let outFeatures, _):
            try positive("in_features", inFeatures)
            try positive("out_features", outFeatures)
            if input.isImage && !flattensImage {
                throw LayerProblem(text: "receives \(input.text), an image: add Flatten() before it",
                                   hint: "PyTorch's Linear would act on the last dimension (the width) only")
            }
            guard input.count == inFeatures else { throw receives("\(input.count) values") }
            return .vector(outFeatures)
        case .conv2d(let convolution), .convTranspose2d(let convolution):
            let (channels, height, width) = try image("")
            try positive("in_channels", convolution.inChannels)
            guard channels == convolution.inChannels else { throw receives(channels == 1 ? "1 channel" : "\(channels) channels") }
            do {
                if case .conv2d = spec {
                    let geometry = try ConvolutionGeometry.conv2d(convolution, input: (channels, height, width))
                    return .image(channels: convolution.outChannels, height: geometry.outputHeight, width: geometry.outputWidth)
                }
                let geometry = try ConvolutionGeometry.convTranspose2d(convolution, input: (channels, height, width))
                return .image(channels: convolution.outChannels, height: geometry.height, width: geometry.width)
            } catch where error.kind == .shape {
                throw LayerProblem(text: "\(error.text): \(origin)", hint: error.hint, kind: .shape)
            }
        case .flatten:
            return .vector(input.count)
        case .unflatten(let channels, let height, let width):
            for (name, value) in [("channels", channels), ("height", height), ("width", width)] { try positive(name, value) }
            let shape = ExampleShape.image(channels: channels, height: height, width: width)
            if input.isImage {
                throw LayerProblem(text: "receives \(input.text), already an image", hint: "Unflatten reads flat values: remove it, or add Flatten() before it")
            }
            guard let count = shape.checkedCount, count == input.count else {
                throw receives("\(input.count) values, not \(shape.text) = \(shape.checkedCount.map { "\($0)" } ?? "too many")")
            }
            return shape
        case .batchNorm1d(let norm):
            try checkBatchNorm(norm)
            if case .image(let channels, _, _) = input { throw receives(input.text, hint: "use BatchNorm2d(\(channels)) for images") }
            guard input.count == norm.numFeatures else { throw receives("\(input.count) values") }
            return input
        case .batchNorm2d(let norm):
            try checkBatchNorm(norm)
            let (channels, _, _) = try image(", or use BatchNorm1d for flat values")
            guard channels == norm.numFeatures else { throw receives("\(channels) channels") }
            return input
        case .activation(.leakyReLU(let slope)):
            if !slope.isFinite { throw LayerProblem(text: "has negative_slope=\(pythonNumber(slope)); it must be finite", kind: .argument) }
            return input
        case .activation(.elu(let alpha)):
            if !alpha.isFinite { throw LayerProblem(text: "has alpha=\(pythonNumber(alpha)); it must be finite", kind: .argument) }
            return input
        case .activation(.softplus(let beta, let threshold)):
            if !(beta > 0 && beta.isFinite) { throw LayerProblem(text: "has beta=\(pythonNumber(beta)); it must be positive and finite", kind: .argument) }
            if !threshold.isFinite { throw LayerProblem(text: "has threshold=\(pythonNumber(threshold)); it must be finite", kind: .argument) }
            return input
        case .activation:
            return input
        }
    }

    private static func checkBatchNorm(_ norm: BatchNormSpec) throws(LayerProblem) {
        if norm.numFeatures < 1 { throw LayerProblem(text: "has num_features=\(norm.numFeatures); it must be at least 1", kind: .argument) }
        try checkSize("num_features", norm.numFeatures)
        if !(norm.eps > 0 && norm.eps.isFinite) { throw LayerProblem(text: "has eps=\(pythonNumber(norm.eps)); it must be positive", kind: .argument) }
        if !(norm.momentum >= 0 && norm.momentum <= 1) {
            throw LayerProblem(text: "has momentum=\(pythonNumber(norm.momentum)); it must be between 0 and 1", kind: .argument)
        }
    }

    /// Parameters and buffer values of `spec` on `input` (which `outputShape` accepted).
    static func sizes(of spec: LayerSpec, input: ExampleShape) throws(LayerProblem) -> (parameters: Int, buffers: Int) {
        let tooLarge = LayerProblem(text: "has too many parameters to count", kind: .tooLarge)
        switch spec {
        case .linear(let inFeatures, let outFeatures, let bias):
            guard let weights = checkedProduct([inFeatures, outFeatures]) else { throw tooLarge }
            return (weights + (bias ? outFeatures : 0), 0)
        case .conv2d(let c), .convTranspose2d(let c):
            guard let weights = checkedProduct([c.inChannels, c.outChannels, c.kernelSize.height, c.kernelSize.width]) else { throw tooLarge }
            return (weights + (c.bias ? c.outChannels : 0), 0)
        case .batchNorm1d(let norm), .batchNorm2d(let norm):
            return (norm.affine ? 2 * norm.numFeatures : 0, 2 * norm.numFeatures + 1)
        default:
            return (0, 0)
        }
    }

    /// Where the next layer's input comes from, in words, for messages.
    private static func origin(after spec: LayerSpec, output: ExampleShape, previous: String) -> String {
        switch spec {
        case .linear: "the Linear above gives \(output.text)"
        case .conv2d, .convTranspose2d: "the convolutions above leave \(output.text)"
        case .unflatten: "the Unflatten above gives \(output.text)"
        default: previous
        }
    }
}

extension LayerSpec {
    /// Flatten and Unflatten: a new shape over the same values.
    var isReshape: Bool {
        switch self {
        case .flatten, .unflatten: true
        default: false
        }
    }

    /// Linear, Conv2d and ConvTranspose2d: the layers that compute from their whole input.
    var computes: Bool {
        switch self {
        case .linear, .conv2d, .convTranspose2d: true
        default: false
        }
    }
}

/// "2 GB", "2.5 GB", "512 MB".
func megabytes(_ bytes: Int) -> String {
    guard bytes >= 1 << 30 else { return "\(bytes >> 20) MB" }
    let tenths = bytes / ((1 << 30) / 10)
    return tenths % 10 == 0 ? "\(tenths / 10) GB" : "\(tenths / 10).\(tenths % 10) GB"
}

/// 100000000 as "100,000,000".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (offset, digit) in digits.enumerated() {
        if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return (value < 0 ? "-" : "") + result
}
