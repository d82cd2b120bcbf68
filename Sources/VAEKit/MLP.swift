/// A stack of dense layers with an activation after every layer but the last.
///
/// The encoder is an MLP D → H… → 2Z, the decoder an MLP Z → H… → D: their last layers are the
/// linear heads (mean and log-variance; logits or means).
struct MLP: Sendable {
    let layers: [Linear]
    let activation: Activation

    var inputSize: Int { layers.first?.inputSize ?? 0 }
    /// Multiply-adds per row of a forward pass (the weights' count).
    var multiplyAddsPerRow: Int { layers.reduce(0) { $0 + $1.inputSize * $1.outputSize } }
    var outputSize: Int { layers.last?.outputSize ?? 0 }

    /// Runs rows `rows` of `input` (…, inputSize) through every layer; the result is those rows of
    /// `activations.output`. Different row ranges touch disjoint memory, so they may run in parallel.
    func forward<T>(_ input: Matrix<T>, rows: Range<Int>, activations: MLPActivations<T>, parameters: ParameterStore<T>) {
        var layerInput = input
        for (index, layer) in layers.enumerated() {
            let output = activations.outputs[index]
            layer.forward(layerInput, into: output, rows: rows, parameters: parameters)
            if index < layers.count - 1 {
                activation.forward(output.pointer + rows.lowerBound * layer.outputSize, count: rows.count * layer.outputSize)
            }
            layerInput = output
        }
    }

    /// The first `rows` rows of `input` through every layer.
    func forward<T>(_ input: Matrix<T>, rows: Int, activations: MLPActivations<T>, parameters: ParameterStore<T>) {
        forward(input, rows: 0..<rows, activations: activations, parameters: parameters)
    }

    /// From `activations.dOutput` (set by the caller), accumulates every layer's parameter
    /// gradients and writes d/d(input) into `dInput` when asked. Clobbers the hidden gradients.
    func backward<T>(input: Matrix<T>, rows: Int, activations: MLPActivations<T>, dInput: Matrix<T>?, parameters: ParameterStore<T>) {
        for index in layers.indices.reversed() {
            let dOutput = activations.gradients[index]
            if index < layers.count - 1 {
                activation.backward(dOutput.pointer, output: activations.outputs[index].pointer, count: rows * layers[index].outputSize)
            }
            let layerInput = index == 0 ? input : activations.outputs[index - 1]
            let dLayerInput = index == 0 ? dInput : activations.gradients[index - 1]
            layers[index].backward(dOutput, input: layerInput, dInput: dLayerInput, rows: rows, parameters: parameters)
        }
    }

    func initialize<T>(_ parameters: ParameterStore<T>, random: inout RandomSource) {
        for layer in layers { layer.initialize(parameters, random: &random) }
    }
}

/// The buffers one forward/backward pass of an MLP over up to `capacity` rows writes. Allocated
/// once per batch size and reused, so a training step allocates nothing.
final class MLPActivations<T: VAEScalar>: @unchecked Sendable {
    /// outputs[i]: layer i's output (capacity, size_i); hidden layers hold post-activation values.
    let outputs: [Matrix<T>]
    /// gradients[i]: d(objective)/d(outputs[i]), same shapes.
    let gradients: [Matrix<T>]

    init(_ mlp: MLP, capacity: Int) {
        outputs = mlp.layers.map { Matrix(rows: capacity, columns: $0.outputSize) }
        gradients = mlp.layers.map { Matrix(rows: capacity, columns: $0.outputSize) }
    }

    var output: Matrix<T> { outputs[outputs.count - 1] }
    var dOutput: Matrix<T> { gradients[gradients.count - 1] }
}
