/// A 2-D transposed convolution, as PyTorch's nn.ConvTranspose2d: weight (Cin, Cout, kh, kw), bias
/// (Cout), input (N, Cin, H, W), output (N, Cout, Ho, Wo) with Ho = (H − 1)·stride − 2·padding +
/// dilation·(kh − 1) + output_padding + 1.
///
/// It is the backward (input gradient) of the Conv2d whose input is this layer's output, so it
/// uses that convolution's geometry (`geometry.positions` = H·W here). Fast path, per example n:
/// columns (Cout·kh·kw, H·W) = Wᵀ (Cout·kh·kw, Cin) · x_n (Cin, H·W), then y_n = col2im(columns) + b.
/// Backward runs it the other way: columns = im2col(dy_n), dW += x_n · columnsᵀ, dx_n = W · columns.
/// `forwardNaive` and `backwardNaive` scatter each input pixel through the kernel, as the definition
/// reads, for the tests.
///
/// Threads: as Conv2d (forward on the rows it is handed; backward splits the batch, each part
/// summing dW and db in its own scratch, added in a fixed order).
struct ConvTranspose2d: ConvolutionLayer {
    /// The convolution this layer transposes: its image is this layer's output (Cout, Ho, Wo).
    let geometry: ConvolutionGeometry
    let inChannels: Int
    let slots: ConvolutionSlots

    var outChannels: Int { geometry.channels }
    /// Cin·H·W values per example in, Cout·Ho·Wo out.
    var inputCount: Int { inChannels * geometry.positions }
    var outputCount: Int { geometry.imageCount }
    var weightCount: Int { inChannels * geometry.columnRows }
    var multiplyAdds: Int { weightCount * geometry.positions }

    /// output (N, Cout·Ho·Wo) ← convT(input (N, Cin·H·W)) for rows `rows`; `scratch` holds a column matrix.
    func forward<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Range<Int>, parameters: ParameterStore<T>,
                    scratch: UnsafeMutablePointer<T>) {
        precondition(input.columns == inputCount && output.columns == outputCount, "ConvTranspose2d.forward: shape mismatch")
        let weight = parameters.values.pointer + slots.weightOffset
        let positions = geometry.positions, columnRows = geometry.columnRows, planeSize = geometry.height * geometry.width
        for n in rows {
            let x = input.pointer + n * inputCount, y = output.pointer + n * outputCount
            // columns (Cout·kh·kw, H·W) = Wᵀ · x_n; with a 1×1 kernel at stride 1 they are the output itself.
            let columns = geometry.isIdentity ? y : scratch
            gemm(transposeA: true, transposeB: false, m: columnRows, n: positions, k: inChannels,
                 alpha: 1, a: weight, lda: columnRows, b: x, ldb: positions, beta: 0, c: columns, ldc: positions)
            if !geometry.isIdentity { geometry.col2im(columns, into: y) }
            if let biasOffset = slots.biasOffset {
                let bias = parameters.values.pointer + biasOffset
                for c in 0..<outChannels {
                    let plane = y + c * planeSize, value = bias[c]
                    for p in 0..<planeSize { plane[p] += value }
                }
            }
        }
    }

    /// Backward over `examples` (see `ConvolutionLayer.backward`): dW (Cin, Cout·kh·kw) = Σ_n x_n ·
    /// im2col(dy_n)ᵀ, db = Σ over examples and pixels of dy, and dInput_n = W · im2col(dy_n) when asked.
    func backwardExamples<T>(_ examples: Range<Int>, dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?,
                                     parameters: ParameterStore<T>, columns: UnsafeMutablePointer<T>,
                                     dWeight: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>?) {
        let weight = parameters.values.pointer + slots.weightOffset
        let positions = geometry.positions, columnRows = geometry.columnRows, planeSize = geometry.height * geometry.width
        for n in examples {
            let x = input.pointer + n * inputCount, dy = dOutput.pointer + n * outputCount
            let first = n == examples.lowerBound
            if !geometry.isIdentity { geometry.im2col(dy, into: columns) }
            let dColumns = geometry.isIdentity ? UnsafePointer(dy) : UnsafePointer(columns)
            // dW (Cin, Cout·kh·kw) (+)= x_n (Cin, H·W) · d columnsᵀ (H·W, Cout·kh·kw)
            gemm(transposeA: false, transposeB: true, m: inChannels, n: columnRows, k: positions,
                 alpha: 1, a: x, lda: positions, b: dColumns, ldb: positions, beta: first ? 0 : 1, c: dWeight, ldc: columnRows)
            if let dBias { Self.sumChannels(dy, plane: planeSize, channels: outChannels, into: dBias, first: first) }
            // dx_n (Cin, H·W) = W (Cin, Cout·kh·kw) · d columns
            if let dInput {
                gemm(transposeA: false, transposeB: false, m: inChannels, n: positions, k: columnRows,
                     alpha: 1, a: weight, lda: columnRows, b: dColumns, ldb: positions, beta: 0,
                     c: dInput.pointer + n * inputCount, ldc: positions)
            }
        }
    }

    // MARK: - Naive reference

    /// The definition: every input pixel x[n, ci, i, j] adds x·W[ci, co, ki, kj] to output pixel
    /// (co, i·s − p + ki·d, j·s − p + kj·d) when it falls inside; then the bias.
    func forwardNaive<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Int, parameters: ParameterStore<T>) {
        let g = geometry, weight = parameters.values.pointer + slots.weightOffset
        for n in 0..<rows {
            for co in 0..<outChannels {
                let bias: T = slots.biasOffset.map { parameters.values.pointer[$0 + co] } ?? 0
                for p in 0..<g.height * g.width { output[n, co * g.height * g.width + p] = bias }
            }
            for ci in 0..<inChannels {
                for i in 0..<g.outputHeight {
                    for j in 0..<g.outputWidth {
                        let x = input[n, (ci * g.outputHeight + i) * g.outputWidth + j]
                        for co in 0..<outChannels {
                            for ki in 0..<g.kernelHeight {
                                for kj in 0..<g.kernelWidth {
                                    guard let (oi, oj) = g.inputIndex(oi: i, oj: j, ki: ki, kj: kj) else { continue }
                                    let w = weight[((ci * outChannels + co) * g.kernelHeight + ki) * g.kernelWidth + kj]
                                    output[n, (co * g.height + oi) * g.width + oj] += x * w
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The backward of `forwardNaive`, term by term. Writes dW and db, and dInput when given.
    func backwardNaive<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int, parameters: ParameterStore<T>) {
        let g = geometry, weight = parameters.values.pointer + slots.weightOffset
        let dWeight = parameters.gradients.pointer + slots.weightOffset
        dWeight.update(repeating: 0, count: weightCount)
        dInput?.fill(0)
        if let biasOffset = slots.biasOffset {
            let dBias = parameters.gradients.pointer + biasOffset
            dBias.update(repeating: 0, count: outChannels)
            for n in 0..<rows {
                for co in 0..<outChannels {
                    for p in 0..<g.height * g.width { dBias[co] += dOutput[n, co * g.height * g.width + p] }
                }
            }
        }
        for n in 0..<rows {
            for ci in 0..<inChannels {
                for i in 0..<g.outputHeight {
                    for j in 0..<g.outputWidth {
                        let xIndex = (ci * g.outputHeight + i) * g.outputWidth + j
                        for co in 0..<outChannels {
                            for ki in 0..<g.kernelHeight {
                                for kj in 0..<g.kernelWidth {
                                    guard let (oi, oj) = g.inputIndex(oi: i, oj: j, ki: ki, kj: kj) else { continue }
                                    let w = ((ci * outChannels + co) * g.kernelHeight + ki) * g.kernelWidth + kj
                                    let dy = dOutput[n, (co * g.height + oi) * g.width + oj]
                                    dWeight[w] += input[n, xIndex] * dy
                                    if let dInput { dInput[n, xIndex] += weight[w] * dy }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
