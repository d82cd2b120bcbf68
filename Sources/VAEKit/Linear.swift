/// A dense layer, y = x·Wᵀ + b, with W stored (out, in) as PyTorch's nn.Linear stores it.
///
/// Forward and backward sit together; backward accumulates into the gradient block (`+=`), so
/// zeroing gradients is the caller's separate step.
struct Linear: Sendable {
    let slots: LinearSlots
    var inputSize: Int { slots.inputSize }
    var outputSize: Int { slots.outputSize }

    /// output (N, out) ← input (N, in) · Wᵀ + b. Only the first `rows` rows are used.
    func forward<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Int, parameters: ParameterStore<T>) {
        precondition(input.columns == inputSize && output.columns == outputSize, "Linear.forward: shape mismatch")
        precondition(input.rows >= rows && output.rows >= rows, "Linear.forward: too few rows")
        let weight = parameters.values.pointer + slots.weightOffset
        let bias = parameters.values.pointer + slots.biasOffset
        // Seed each row with the bias, then let the GEMM accumulate onto it (β = 1): one pass fewer.
        for row in 0..<rows { (output.pointer + row * outputSize).update(from: bias, count: outputSize) }
        gemm(transposeA: false, transposeB: true, m: rows, n: outputSize, k: inputSize,
             alpha: 1, a: input.pointer, lda: inputSize, b: weight, ldb: inputSize,
             beta: 1, c: output.pointer, ldc: outputSize)
    }

    /// dW (out, in) += dOutputᵀ · input; db (out) += Σ_rows dOutput; dInput (N, in) ← dOutput · W when asked.
    func backward<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int, parameters: ParameterStore<T>) {
        precondition(dOutput.columns == outputSize && input.columns == inputSize, "Linear.backward: shape mismatch")
        let dWeight = parameters.gradients.pointer + slots.weightOffset
        let dBias = parameters.gradients.pointer + slots.biasOffset
        gemm(transposeA: true, transposeB: false, m: outputSize, n: inputSize, k: rows,
             alpha: 1, a: dOutput.pointer, lda: outputSize, b: input.pointer, ldb: inputSize,
             beta: 1, c: dWeight, ldc: inputSize)
        for row in 0..<rows {
            let dRow = dOutput.pointer + row * outputSize
            for j in 0..<outputSize { dBias[j] += dRow[j] }
        }
        if let dInput {
            precondition(dInput.columns == inputSize, "Linear.backward: dInput shape mismatch")
            let weight = parameters.values.pointer + slots.weightOffset
            gemm(transposeA: false, transposeB: false, m: rows, n: inputSize, k: outputSize,
                 alpha: 1, a: dOutput.pointer, lda: outputSize, b: weight, ldb: inputSize,
                 beta: 0, c: dInput.pointer, ldc: inputSize)
        }
    }

    /// PyTorch's nn.Linear default: weight and bias both U(−1/√fan_in, 1/√fan_in).
    func initialize<T>(_ parameters: ParameterStore<T>, random: inout RandomSource) {
        let bound = 1 / Double(inputSize).squareRoot()
        let weight = UnsafeMutableBufferPointer(start: parameters.values.pointer + slots.weightOffset, count: outputSize * inputSize)
        let bias = UnsafeMutableBufferPointer(start: parameters.values.pointer + slots.biasOffset, count: outputSize)
        random.fillUniform(weight, low: -bound, high: bound)
        random.fillUniform(bias, low: -bound, high: bound)
    }
}
