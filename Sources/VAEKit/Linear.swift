/// A dense layer's place in the flat block: its weight (out, in) and bias (out) start at these offsets.
struct LinearSlots: Sendable {
    let inputSize: Int
    let outputSize: Int
    let weightOffset: Int
    /// nil for a layer built with bias=False.
    let biasOffset: Int?
}

/// A dense layer, y = x·Wᵀ + b, with W stored (out, in) as PyTorch's nn.Linear stores it.
///
/// Forward and backward sit together. Backward writes (`=`) the layer's slots of the gradient
/// block: each parameter belongs to one layer and each layer's backward runs once per pass, so the
/// block needs no zeroing first (that was a 2.6 MB memset per step for the default model).
struct Linear: Sendable {
    let slots: LinearSlots
    var inputSize: Int { slots.inputSize }
    var outputSize: Int { slots.outputSize }

    /// output (N, out) ← input (N, in) · Wᵀ + b, for rows `rows` of both (the others untouched).
    func forward<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Range<Int>, parameters: ParameterStore<T>) {
        precondition(input.columns == inputSize && output.columns == outputSize, "Linear.forward: shape mismatch")
        precondition(rows.lowerBound >= 0 && input.rows >= rows.upperBound && output.rows >= rows.upperBound, "Linear.forward: too few rows")
        let weight = parameters.values.pointer + slots.weightOffset
        let first = rows.lowerBound
        // Seed each row with the bias, then let the GEMM accumulate onto it (β = 1): one pass fewer.
        if let biasOffset = slots.biasOffset {
            let bias = parameters.values.pointer + biasOffset
            for row in rows { (output.pointer + row * outputSize).update(from: bias, count: outputSize) }
        }
        gemm(transposeA: false, transposeB: true, m: rows.count, n: outputSize, k: inputSize,
             alpha: 1, a: input.pointer + first * inputSize, lda: inputSize, b: weight, ldb: inputSize,
             beta: slots.biasOffset == nil ? 0 : 1, c: output.pointer + first * outputSize, ldc: outputSize)
    }

    /// The first `rows` rows; see `forward(_:into:rows:parameters:)` with a range.
    func forward<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Int, parameters: ParameterStore<T>) {
        forward(input, into: output, rows: 0..<rows, parameters: parameters)
    }

    /// dW (out, in) ← dOutputᵀ · input; db (out) ← Σ_rows dOutput; dInput (N, in) ← dOutput · W when
    /// asked. Over the first `rows` rows (at least one).
    ///
    /// With more than one thread the products are cut by their output: dW and db by output
    /// features (rows of dW), dInput by rows of the batch. dW and dInput cost the same (out·in·N
    /// multiply-adds each), so with two threads one computes dW and db while the other computes dInput.
    func backward<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int, parameters: ParameterStore<T>) {
        precondition(dOutput.columns == outputSize && input.columns == inputSize, "Linear.backward: shape mismatch")
        if let dInput { precondition(dInput.columns == inputSize, "Linear.backward: dInput shape mismatch") }
        let products = dInput == nil ? 1 : 2
        let parts = Parallel.parts(flops: 2 * products * outputSize * inputSize * rows)
        // Parts 0..<weightParts share out dW's rows; the rest share out dInput's rows.
        let weightParts = dInput == nil ? parts : max(1, parts / 2)
        if parts == 1 {
            backwardWeights(dOutput, input: input, features: 0..<outputSize, rows: rows, parameters: parameters)
            if let dInput { backwardInput(dOutput, into: dInput, rows: 0..<rows, parameters: parameters) }
            return
        }
        Parallel.run(parts) { part in
            if part < weightParts {
                let features = Parallel.slice(0..<outputSize, part: part, of: weightParts)
                backwardWeights(dOutput, input: input, features: features, rows: rows, parameters: parameters)
            } else if let dInput {
                let slice = Parallel.slice(0..<rows, part: part - weightParts, of: parts - weightParts)
                backwardInput(dOutput, into: dInput, rows: slice, parameters: parameters)
            }
        }
    }

    /// dW[features] ← dOutput[:, features]ᵀ · input and db[features] ← Σ_rows dOutput[:, features].
    private func backwardWeights<T>(_ dOutput: Matrix<T>, input: Matrix<T>, features: Range<Int>, rows: Int,
                                    parameters: ParameterStore<T>) {
        precondition(rows >= 1, "Linear.backward: no rows")
        let dWeight = parameters.gradients.pointer + slots.weightOffset + features.lowerBound * inputSize
        gemm(transposeA: true, transposeB: false, m: features.count, n: inputSize, k: rows,
             alpha: 1, a: dOutput.pointer + features.lowerBound, lda: outputSize, b: input.pointer, ldb: inputSize,
             beta: 0, c: dWeight, ldc: inputSize)
        guard let biasOffset = slots.biasOffset else { return }
        let dBias = parameters.gradients.pointer + biasOffset
        for j in features { dBias[j] = dOutput.pointer[j] }
        for row in 1..<rows {
            let dRow = dOutput.pointer + row * outputSize
            for j in features { dBias[j] += dRow[j] }
        }
    }

    /// dInput[rows] ← dOutput[rows] · W.
    private func backwardInput<T>(_ dOutput: Matrix<T>, into dInput: Matrix<T>, rows: Range<Int>, parameters: ParameterStore<T>) {
        let weight = parameters.values.pointer + slots.weightOffset
        gemm(transposeA: false, transposeB: false, m: rows.count, n: inputSize, k: outputSize,
             alpha: 1, a: dOutput.pointer + rows.lowerBound * outputSize, lda: outputSize, b: weight, ldb: inputSize,
             beta: 0, c: dInput.pointer + rows.lowerBound * inputSize, ldc: inputSize)
    }

    /// PyTorch's nn.Linear default: weight and bias both U(−1/√fan_in, 1/√fan_in); or Keras's.
    func initialize<T>(_ parameters: ParameterStore<T>, random: inout RandomSource, scheme: Initialization) {
        scheme.fill(parameters, weightOffset: slots.weightOffset, weightCount: outputSize * inputSize, biasOffset: slots.biasOffset,
                    biasCount: outputSize, fanIn: inputSize, fanOut: outputSize, random: &random)
    }

    /// Multiply-adds per row of a forward pass.
    var multiplyAdds: Int { inputSize * outputSize }
}
