@testable import VAEKit

/// One stack of layers on its own, with its parameters, buffers and scratch: what the per-layer
/// tests run forward and backward (a model runs the same code for its encoder and decoder).
final class StackHarness<T: VAEScalar> {
    let layout: ModelLayout
    let parameters: ParameterStore<T>
    let buffers: BufferStore<T>
    let rows: Int
    let activations: StackActivations<T>
    let scratch: ScratchSpace<T>
    var stack: LayerStack { layout.encoder }

    /// `specs` from `input` over `rows` examples, initialised from `seed`: Linear and convolution
    /// weights as PyTorch does, biases too; BatchNorm's γ, β and running statistics drawn at random
    /// (so that none is special), or all given by `values` (name → elements) when it is not nil.
    init(_ specs: [LayerSpec], input: ExampleShape, rows: Int, seed: UInt64 = 1, values: [String: [Double]]? = nil) throws {
        layout = try ModelLayout(stack: specs, input: input)
        parameters = ParameterStore(slots: layout.parameters.slots)
        buffers = BufferStore(slots: layout.buffers.slots)
        self.rows = rows
        activations = StackActivations(layout.encoder, capacity: rows)
        scratch = ScratchSpace(count: layout.encoder.scratchCount)
        var random = RandomSource(seed: seed)
        for step in layout.initializers {
            switch step {
            case .layer(.linear(let layer)): layer.initialize(parameters, random: &random, scheme: .pytorch)
            case .layer(.conv2d(let layer)): layer.initialize(parameters, random: &random, scheme: .pytorch)
            case .layer(.convTranspose2d(let layer)): layer.initialize(parameters, random: &random, scheme: .pytorch)
            default: break
            }
        }
        for slot in parameters.slots where slot.name.hasSuffix("weight") && slot.shape.count == 1 {
            random.fillUniform(parameters.values(of: slot), low: 0.5, high: 1.5)   // BatchNorm γ
        }
        for slot in parameters.slots where slot.name.hasSuffix("bias") && layout.buffers.slots.contains(where: { $0.name.hasPrefix(slot.name.dropLast(4)) }) {
            random.fillUniform(parameters.values(of: slot), low: -0.5, high: 0.5)  // BatchNorm β
        }
        for slot in buffers.slots {
            if slot.name.hasSuffix("running_mean") { random.fillUniform(buffers.values(of: slot), low: -0.3, high: 0.3) }
            if slot.name.hasSuffix("running_var") { random.fillUniform(buffers.values(of: slot), low: 0.5, high: 2) }
        }
        if let values {
            for slot in parameters.slots { if let given = values[slot.name] { _ = parameters.values(of: slot).update(fromContentsOf: given.map { T($0) }) } }
            for slot in buffers.slots { if let given = values[slot.name] { _ = buffers.values(of: slot).update(fromContentsOf: given.map { T($0) }) } }
        }
    }

    /// The stack's output for `input` (rows, in): split over threads as a model splits it.
    @discardableResult
    func forward(_ input: Matrix<T>, mode: LayerMode) -> Matrix<T> {
        let pointers = scratch.pointers(for: Parallel.threads)
        stack.forwardBatch(input, rows: rows, activations: activations, parameters: parameters, buffers: buffers, mode: mode, scratch: pointers)
        let output = Matrix<T>(rows: rows, columns: stack.outputCount)
        output.pointer.update(from: activations.output.pointer, count: rows * stack.outputCount)
        return output
    }

    /// Σ output ⊙ weights: a scalar whose gradient with respect to the output is `weights`.
    func objective(_ input: Matrix<T>, weights: Matrix<T>, mode: LayerMode) -> Double {
        let output = forward(input, mode: mode)
        var sum = 0.0
        for i in 0..<output.count { sum += Double(output.pointer[i]) * Double(weights.pointer[i]) }
        return sum
    }

    /// Forward, then backward from d(objective)/d(output) = `weights`: the parameter gradients
    /// (in the store) and d/d(input).
    func gradients(_ input: Matrix<T>, weights: Matrix<T>, mode: LayerMode) -> Matrix<T> {
        forward(input, mode: mode)
        activations.dOutput.pointer.update(from: weights.pointer, count: rows * stack.outputCount)
        let dInput = Matrix<T>(rows: rows, columns: stack.inputCount)
        stack.backward(input: input, rows: rows, activations: activations, dInput: dInput, parameters: parameters,
                       buffers: buffers, mode: mode, scratch: scratch.pointers(for: Parallel.threads))
        return dInput
    }
}
