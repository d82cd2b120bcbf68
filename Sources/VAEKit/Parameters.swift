/// One named tensor inside the flat parameter block, e.g. `fc1.weight` with shape [400, 784].
public struct ParameterSlot: Sendable, Equatable {
    public let name: String
    /// PyTorch's layout: [out, in] for a weight, [out] for a bias.
    public let shape: [Int]
    /// Index of the first element in the flat block.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// All of a model's parameters in one flat block, with their gradients beside them and a table of
/// named slots into it (llm.c's layout).
///
/// This is the one enumeration of parameters: the optimiser is one loop over `values`, the
/// gradients are one block beside them, and a checkpoint walks `slots`. Layers keep offsets, never pointers, so
/// the optimiser may swap `values` for a buffer of the same shape (that is how it rolls back a step).
public final class ParameterStore<T: VAEScalar>: @unchecked Sendable {
    public let slots: [ParameterSlot]
    /// (1, P) where P is the total parameter count.
    public internal(set) var values: Matrix<T>
    /// (1, P); `computeGradients` writes every element of it.
    public let gradients: Matrix<T>

    public var count: Int { values.count }

    init(slots: [ParameterSlot]) {
        self.slots = slots
        let total = slots.reduce(0) { $0 + $1.count }
        values = Matrix(rows: 1, columns: total)
        gradients = Matrix(rows: 1, columns: total)
    }

    /// The slot called `name`, or nil.
    public func slot(named name: String) -> ParameterSlot? { slots.first { $0.name == name } }

    /// The values of `slot`, as a buffer into the flat block.
    public func values(of slot: ParameterSlot) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: values.pointer + slot.offset, count: slot.count)
    }

    /// The gradients of `slot`, as a buffer into the flat gradient block.
    public func gradients(of slot: ParameterSlot) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: gradients.pointer + slot.offset, count: slot.count)
    }

    public func zeroGradients() { gradients.fill(0) }

    /// An independent copy of the values (gradients start at zero).
    func copy() -> ParameterStore<T> {
        let result = ParameterStore(slots: slots)
        result.values.assign(from: values)
        return result
    }
}

/// A dense layer's place in the flat block: its weight (out, in) and bias (out) start at these offsets.
struct LinearSlots: Sendable {
    let inputSize: Int
    let outputSize: Int
    let weightOffset: Int
    let biasOffset: Int
}

/// Where every layer of a configuration lives in the flat block, and what each slot is called.
///
/// Names follow the pytorch/examples VAE so its `state_dict` maps one to one: `fc1` (encoder
/// hidden), `fc21` (mean head), `fc22` (log-variance head), `fc3` (decoder hidden), `fc4` (decoder
/// output). Deeper models continue the scheme: the k-th encoder hidden layer (k ≥ 2) is `fc1_k`,
/// the k-th decoder hidden layer is `fc3_k`. A learned Gaussian log-variance is `logvar_x` [D].
/// The two heads are laid out weight-weight-bias-bias so they also form one (2Z, H) layer whose
/// single GEMM produces [μ | log σ²].
struct ParameterLayout {
    var slots: [ParameterSlot] = []
    var encoderLayers: [LinearSlots] = []
    var encoderHead = LinearSlots(inputSize: 0, outputSize: 0, weightOffset: 0, biasOffset: 0)
    var decoderLayers: [LinearSlots] = []
    var outputLogVarianceOffset: Int?

    init(_ configuration: VAEConfiguration) {
        let encoderSizes = [configuration.inputSize] + configuration.encoderHidden
        for (index, (input, output)) in zip(encoderSizes, encoderSizes.dropFirst()).enumerated() {
            encoderLayers.append(addLinear(Self.hiddenName("fc1", index), input: input, output: output))
        }
        let headInput = encoderSizes.last ?? configuration.inputSize
        let latent = configuration.latentSize
        let meanWeight = add("fc21.weight", [latent, headInput])
        _ = add("fc22.weight", [latent, headInput])
        let meanBias = add("fc21.bias", [latent])
        _ = add("fc22.bias", [latent])
        encoderHead = LinearSlots(inputSize: headInput, outputSize: 2 * latent, weightOffset: meanWeight, biasOffset: meanBias)

        let decoderSizes = [latent] + configuration.resolvedDecoderHidden + [configuration.inputSize]
        let decoderCount = decoderSizes.count - 1
        for (index, (input, output)) in zip(decoderSizes, decoderSizes.dropFirst()).enumerated() {
            let name = index == decoderCount - 1 ? "fc4" : Self.hiddenName("fc3", index)
            decoderLayers.append(addLinear(name, input: input, output: output))
        }
        if configuration.likelihood == .gaussianLearned {
            outputLogVarianceOffset = add("logvar_x", [configuration.inputSize])
        }
    }

    private static func hiddenName(_ base: String, _ index: Int) -> String {
        index == 0 ? base : "\(base)_\(index + 1)"
    }

    private var nextOffset: Int { slots.last.map { $0.offset + $0.count } ?? 0 }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = nextOffset
        slots.append(ParameterSlot(name: name, shape: shape, offset: offset))
        return offset
    }

    private mutating func addLinear(_ name: String, input: Int, output: Int) -> LinearSlots {
        let weight = add("\(name).weight", [output, input])
        let bias = add("\(name).bias", [output])
        return LinearSlots(inputSize: input, outputSize: output, weightOffset: weight, biasOffset: bias)
    }
}
