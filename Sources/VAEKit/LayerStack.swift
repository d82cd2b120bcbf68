/// An activation layer: f applied to each of `count` values per example.
struct ActivationLayer: Sendable {
    let function: ActivationFunction
    let count: Int
}

/// One layer of a stack as the engine runs it, with its place in the parameter and buffer blocks.
enum Layer: Sendable {
    case linear(Linear)
    case conv2d(Conv2d)
    case convTranspose2d(ConvTranspose2d)
    case batchNorm(BatchNorm)
    case activation(ActivationLayer)
    /// Flatten or Unflatten: NCHW makes them a new name for the same values, so they do nothing.
    case reshape

    /// Multiply-adds per example in a forward pass (what decides whether a pass is worth splitting).
    var multiplyAdds: Int {
        switch self {
        case .linear(let layer): layer.multiplyAdds
        case .conv2d(let layer): layer.multiplyAdds
        case .convTranspose2d(let layer): layer.multiplyAdds
        case .batchNorm, .activation, .reshape: 0
        }
    }

    var isBatchNorm: Bool {
        if case .batchNorm = self { return true }
        return false
    }

    /// Scratch one thread needs for this layer (the convolutions' column matrices and partial sums).
    var scratchCount: Int {
        switch self {
        case .conv2d(let layer): layer.scratchCount
        case .convTranspose2d(let layer): layer.scratchCount
        default: 0
        }
    }
}

/// A layer's place in its stack: which activation buffer it reads and which it writes.
struct StackEntry: Sendable {
    let layer: Layer
    /// The buffer read: -1 for the stack's input (x or z, which the stack never writes).
    let input: Int
    /// The buffer written; the same as `input` for Flatten, Unflatten and activations that run in place.
    let output: Int
    /// Values per example in and out.
    let inputCount: Int
    let outputCount: Int
}

/// A stack of layers (an encoder or a decoder), forward and backward.
///
/// Each layer writes an activation buffer (N, values per example); Flatten and Unflatten reuse
/// their input's, and an activation overwrites its input when its derivative can be read from its
/// output and nothing else needs that input. So the pytorch/examples MLP runs exactly as before
/// this type existed: Linear → ReLU in place → Linear, with the same products in the same order.
///
/// Every layer but BatchNorm in training mode computes each example on its own, so a pass can be
/// cut into slices of the batch run side by side (`forward(_:rows:layers:…)`); BatchNorm in
/// training mode needs the whole batch, and `forwardBatch` runs the stack in segments around it.
struct LayerStack: Sendable {
    let entries: [StackEntry]
    /// Columns of each owned activation buffer.
    let bufferColumns: [Int]
    let inputCount: Int

    /// Values per example out of the last layer.
    var outputCount: Int { entries.last?.outputCount ?? inputCount }
    /// The buffer holding the stack's output (never the input: each stack has a layer that computes).
    var outputBuffer: Int { entries.last?.output ?? -1 }
    /// Multiply-adds per example of a forward pass.
    var multiplyAddsPerRow: Int { entries.reduce(0) { $0 + $1.layer.multiplyAdds } }
    /// Scratch one thread needs for the largest layer.
    var scratchCount: Int { entries.map(\.layer.scratchCount).max() ?? 0 }
    /// Whether any layer couples the examples of a batch in `mode` (BatchNorm in training mode).
    func couplesExamples(in mode: LayerMode) -> Bool {
        mode.isTraining && entries.contains { $0.layer.isBatchNorm }
    }

    /// Plans the buffers for `layers`, each with the values per example it reads and writes.
    init(_ layers: [(layer: Layer, inputCount: Int, outputCount: Int)], inputCount: Int) {
        var entries: [StackEntry] = [], columns: [Int] = []
        // Whether a buffer's values are read again by the backward of the layer that wrote them
        // (an activation's output): such a buffer may not be overwritten in place.
        var outputKept: [Bool] = []
        var current = -1
        for (layer, inCount, outCount) in layers {
            let output: Int
            switch layer {
            case .reshape:
                output = current
            case .activation(let activation) where activation.function.derivativeFromOutput && current >= 0 && !outputKept[current]:
                output = current
                outputKept[current] = true
            default:
                output = columns.count
                columns.append(outCount)
                if case .activation = layer { outputKept.append(true) } else { outputKept.append(false) }
            }
            entries.append(StackEntry(layer: layer, input: current, output: output, inputCount: inCount, outputCount: outCount))
            current = output
        }
        self.entries = entries
        bufferColumns = columns
        self.inputCount = inputCount
    }

    // MARK: - Forward

    /// Runs layers `layers` (all when nil) over rows `rows`, on the calling thread; none may couple
    /// examples in `mode`. Different row ranges touch disjoint memory, so they may run side by side.
    /// `scratch` holds `scratchCount` values.
    func forward<T>(_ input: Matrix<T>, rows: Range<Int>, layers: Range<Int>? = nil, activations: StackActivations<T>,
                    parameters: ParameterStore<T>, buffers: BufferStore<T>, mode: LayerMode, scratch: UnsafeMutablePointer<T>?) {
        precondition(input.columns == inputCount, "LayerStack.forward: input has \(input.columns) columns, the stack reads \(inputCount)")
        for index in layers ?? entries.indices {
            let entry = entries[index]
            if case .reshape = entry.layer { continue }
            let source = entry.input < 0 ? input : activations.values[entry.input]
            let target = activations.values[entry.output]
            switch entry.layer {
            case .linear(let layer):
                layer.forward(source, into: target, rows: rows, parameters: parameters)
            case .conv2d(let layer):
                guard let scratch else { preconditionFailure("Conv2d needs scratch") }
                layer.forward(source, into: target, rows: rows, parameters: parameters, scratch: scratch)
            case .convTranspose2d(let layer):
                guard let scratch else { preconditionFailure("ConvTranspose2d needs scratch") }
                layer.forward(source, into: target, rows: rows, parameters: parameters, scratch: scratch)
            case .batchNorm(let layer):
                precondition(!mode.isTraining, "BatchNorm in training mode needs the whole batch: use forwardBatch")
                layer.forwardEvaluation(source, into: target, rows: rows, parameters: parameters, buffers: buffers)
            case .activation(let layer):
                layer.function.forward(source.pointer + rows.lowerBound * layer.count,
                                       into: target.pointer + rows.lowerBound * layer.count, count: rows.count * layer.count)
            case .reshape:
                break
            }
        }
    }

    /// Runs the stack over the first `rows` rows, split over threads: each run of layers that
    /// compute examples on their own goes in slices of the batch, and each BatchNorm in training
    /// mode over the whole batch, split by channel. `scratch` holds one region per part.
    func forwardBatch<T>(_ input: Matrix<T>, rows: Int, activations: StackActivations<T>, parameters: ParameterStore<T>,
                         buffers: BufferStore<T>, mode: LayerMode, scratch: [UnsafeMutablePointer<T>]) {
        var start = 0
        while start < entries.count {
            if case .batchNorm(let layer) = entries[start].layer, case .training(let update) = mode {
                let entry = entries[start]
                layer.forwardTraining(entry.input < 0 ? input : activations.values[entry.input], into: activations.values[entry.output],
                                      rows: rows, statistics: activations.statistics(start), parameters: parameters,
                                      buffers: buffers, updateStatistics: update)
                start += 1
                continue
            }
            var end = start + 1
            while end < entries.count, !(mode.isTraining && entries[end].layer.isBatchNorm) { end += 1 }
            let segment = start..<end
            let work = entries[segment].reduce(0) { $0 + $1.layer.multiplyAdds }
            let parts = min(rows, scratch.count, Parallel.parts(flops: 2 * rows * work))
            Parallel.run(max(1, parts)) { part in
                forward(input, rows: Parallel.slice(0..<rows, part: part, of: max(1, parts)), layers: segment, activations: activations,
                        parameters: parameters, buffers: buffers, mode: mode, scratch: scratch.isEmpty ? nil : scratch[part])
            }
            start = end
        }
    }

    // MARK: - Backward

    /// From the gradient of the output (`activations.dOutput`, set by the caller), writes every
    /// layer's parameter gradients and, when asked, d/d(input) into `dInput`, over the first `rows`
    /// rows, as the forward pass in `mode` computed them. Clobbers the hidden gradients.
    func backward<T>(input: Matrix<T>, rows: Int, activations: StackActivations<T>, dInput: Matrix<T>?,
                     parameters: ParameterStore<T>, buffers: BufferStore<T>, mode: LayerMode, scratch: [UnsafeMutablePointer<T>]) {
        for index in entries.indices.reversed() {
            let entry = entries[index]
            if case .reshape = entry.layer { continue }
            let layerInput = entry.input < 0 ? input : activations.values[entry.input]
            let dLayerInput = entry.input < 0 ? dInput : activations.gradients[entry.input]
            let dOutput = activations.gradients[entry.output]
            switch entry.layer {
            case .linear(let layer):
                layer.backward(dOutput, input: layerInput, dInput: dLayerInput, rows: rows, parameters: parameters)
            case .conv2d(let layer):
                layer.backward(dOutput, input: layerInput, dInput: dLayerInput, rows: rows, parameters: parameters, scratch: scratch)
            case .convTranspose2d(let layer):
                layer.backward(dOutput, input: layerInput, dInput: dLayerInput, rows: rows, parameters: parameters, scratch: scratch)
            case .batchNorm(let layer):
                if mode.isTraining {
                    layer.backwardTraining(dOutput, input: layerInput, dInput: dLayerInput, rows: rows,
                                           statistics: activations.statistics(index), parameters: parameters)
                } else {
                    layer.backwardEvaluation(dOutput, input: layerInput, dInput: dLayerInput, rows: rows, parameters: parameters, buffers: buffers)
                }
            case .activation(let layer):
                let count = rows * layer.count, output = activations.values[entry.output].pointer
                if entry.input == entry.output {
                    layer.function.backward(dOutput.pointer, input: nil, output: output, count: count)
                } else if let dLayerInput {
                    dLayerInput.pointer.update(from: dOutput.pointer, count: count)
                    layer.function.backward(dLayerInput.pointer, input: layerInput.pointer, output: output, count: count)
                }
            case .reshape:
                break
            }
        }
    }
}

/// The buffers one pass of a stack over up to `capacity` rows writes: allocated once per batch
/// size and reused, so a training step allocates nothing.
final class StackActivations<T: VAEScalar>: @unchecked Sendable {
    /// values[b]: buffer b (capacity, columns); an activation's holds its output.
    let values: [Matrix<T>]
    /// gradients[b]: d(objective)/d(values[b]), same shapes; empty for a pass without backward.
    let gradients: [Matrix<T>]
    /// Each training-mode BatchNorm's batch mean and 1/σ (2, C), by entry index.
    private let batchStatistics: [Int: Matrix<T>]
    private let outputBuffer: Int

    init(_ stack: LayerStack, capacity: Int, gradients withGradients: Bool = true) {
        values = stack.bufferColumns.map { Matrix(rows: capacity, columns: $0) }
        gradients = withGradients ? stack.bufferColumns.map { Matrix(rows: capacity, columns: $0) } : []
        var statistics: [Int: Matrix<T>] = [:]
        for (index, entry) in stack.entries.enumerated() {
            if case .batchNorm(let layer) = entry.layer { statistics[index] = Matrix(rows: 2, columns: layer.channels) }
        }
        batchStatistics = statistics
        outputBuffer = stack.outputBuffer
    }

    /// The stack's output (capacity, out).
    var output: Matrix<T> { values[outputBuffer] }
    /// Its gradient, which the caller writes before `backward`.
    var dOutput: Matrix<T> { gradients[outputBuffer] }

    func statistics(_ entry: Int) -> Matrix<T> {
        guard let matrix = batchStatistics[entry] else { preconditionFailure("no statistics for layer \(entry)") }
        return matrix
    }
}
