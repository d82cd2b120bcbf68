/// Where a convolution's weight and bias live in the flat parameter block.
struct ConvolutionSlots: Sendable {
    let weightOffset: Int
    /// nil for a layer built with bias=False.
    let biasOffset: Int?

    /// A convolution's backward over the first `rows` examples, split over threads: each part
    /// takes a contiguous share of the examples and `examples(share, columns, dW, db)` writes (not
    /// adds) their sums of dW (`weightCount`) and db (`biasCount`): part 0 straight into the
    /// gradient block, the others into their scratch after the column matrix (`columnCount`).
    /// The partial sums are then added in part order, so results do not vary run to run.
    func backwardInParts<T>(rows: Int, flops: Int, weightCount: Int, biasCount: Int, columnCount: Int, parameters: ParameterStore<T>,
                            scratch: [UnsafeMutablePointer<T>],
                            _ examples: (Range<Int>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>?) -> Void) {
        let parts = min(rows, scratch.count, Parallel.parts(flops: flops))
        let dWeight = parameters.gradients.pointer + weightOffset
        let dBias = biasOffset.map { parameters.gradients.pointer + $0 }
        Parallel.run(parts) { part in
            let partial = scratch[part] + columnCount
            examples(Parallel.slice(0..<rows, part: part, of: parts), scratch[part],
                     part == 0 ? dWeight : partial, dBias == nil ? nil : part == 0 ? dBias : partial + weightCount)
        }
        for part in 1..<max(1, parts) {
            let partial = scratch[part] + columnCount
            for i in 0..<weightCount { dWeight[i] += partial[i] }
            if let dBias { for c in 0..<biasCount { dBias[c] += partial[weightCount + c] } }
        }
    }
}

/// What Conv2d and ConvTranspose2d share: a geometry, a weight and an optional bias, and a
/// backward pass split over the batch the same way (`backward`, below).
protocol ConvolutionLayer: Sendable {
    var geometry: ConvolutionGeometry { get }
    var slots: ConvolutionSlots { get }
    var outChannels: Int { get }
    /// Values per example in and out, and the weight's size.
    var inputCount: Int { get }
    var outputCount: Int { get }
    var weightCount: Int { get }
    /// Multiply-adds per example in a forward pass.
    var multiplyAdds: Int { get }
    /// The backward pass over `examples`, writing (not adding) their sums into `dWeight` and `dBias`.
    func backwardExamples<T>(_ examples: Range<Int>, dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?,
                             parameters: ParameterStore<T>, columns: UnsafeMutablePointer<T>,
                             dWeight: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>?)
}

extension ConvolutionLayer {
    /// Scratch one part needs: the column matrix, plus room for a part's own dW and db in backward.
    var scratchCount: Int { geometry.columnRows * geometry.positions + weightCount + outChannels }

    /// Writes dW and db over the first `rows` rows, and dInput when asked (see each layer's
    /// `backwardExamples`). `scratch` holds one `scratchCount` region per part (at least
    /// `Parallel.threads`): the batch is split over threads by examples.
    func backward<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int,
                     parameters: ParameterStore<T>, scratch: [UnsafeMutablePointer<T>]) {
        precondition(rows >= 1 && dOutput.columns == outputCount && input.columns == inputCount, "\(Self.self).backward: shape mismatch")
        slots.backwardInParts(rows: rows, flops: 2 * (dInput == nil ? 1 : 2) * multiplyAdds * rows, weightCount: weightCount,
                              biasCount: outChannels, columnCount: geometry.columnRows * geometry.positions,
                              parameters: parameters, scratch: scratch) { examples, columns, dWeight, dBias in
            backwardExamples(examples, dOutput: dOutput, input: input, dInput: dInput, parameters: parameters,
                             columns: columns, dWeight: dWeight, dBias: dBias)
        }
    }

    /// PyTorch's default: weight and bias U(±1/√fan_in), with fan_in what PyTorch computes from the
    /// weight (its second dimension times the kernel: Cin·kh·kw for a Conv2d's (Cout, Cin, kh, kw),
    /// Cout·kh·kw for a ConvTranspose2d's (Cin, Cout, kh, kw)); that is the column matrix's row count.
    func initialize<T>(_ parameters: ParameterStore<T>, random: inout RandomSource, scheme: Initialization) {
        let kernel = geometry.kernelHeight * geometry.kernelWidth
        scheme.fill(parameters, weightOffset: slots.weightOffset, weightCount: weightCount, biasOffset: slots.biasOffset,
                    biasCount: outChannels, fanIn: geometry.columnRows, fanOut: weightCount / geometry.columnRows * kernel, random: &random)
    }

    /// db[c] ← (or +=, unless `first`) the sum of channel c of one example's dy (Cout, `plane`).
    static func sumChannels<T: VAEScalar>(_ dy: UnsafePointer<T>, plane: Int, channels: Int, into dBias: UnsafeMutablePointer<T>, first: Bool) {
        for c in 0..<channels {
            var sum: T = first ? 0 : dBias[c]
            for p in 0..<plane { sum += dy[c * plane + p] }
            dBias[c] = sum
        }
    }
}

/// A 2-D convolution, as PyTorch's nn.Conv2d: weight (Cout, Cin, kh, kw), bias (Cout), input
/// (N, Cin, H, W) and output (N, Cout, Ho, Wo), each example's values contiguous (NCHW).
///
/// Fast path, per example n: columns (Cin·kh·kw, Ho·Wo) = im2col(x_n), then one GEMM
/// y_n (Cout, Ho·Wo) = W (Cout, Cin·kh·kw) · columns + b, written straight into NCHW. Backward
/// rebuilds the columns (cheaper than keeping N of them) and runs two GEMMs; `forwardNaive` and
/// `backwardNaive` below compute the same sums as plain loops over the definition, for the tests.
///
/// Threads: forward runs on whatever rows its caller hands it (the stack splits the batch).
/// Backward splits the batch itself: each part sums dW and db over its examples into its own
/// scratch, and the parts are added in a fixed order, so results do not vary run to run.
struct Conv2d: ConvolutionLayer {
    let geometry: ConvolutionGeometry
    let outChannels: Int
    let slots: ConvolutionSlots

    /// Cin·H·W values per example in, Cout·Ho·Wo out.
    var inputCount: Int { geometry.imageCount }
    var outputCount: Int { outChannels * geometry.positions }
    var weightCount: Int { outChannels * geometry.columnRows }
    var multiplyAdds: Int { weightCount * geometry.positions }

    /// output (N, Cout·Ho·Wo) ← conv(input (N, Cin·H·W)) for rows `rows`; `scratch` holds a column matrix.
    func forward<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Range<Int>, parameters: ParameterStore<T>,
                    scratch: UnsafeMutablePointer<T>) {
        precondition(input.columns == inputCount && output.columns == outputCount, "Conv2d.forward: shape mismatch")
        let weight = parameters.values.pointer + slots.weightOffset
        let positions = geometry.positions, columnRows = geometry.columnRows
        for n in rows {
            let x = input.pointer + n * inputCount, y = output.pointer + n * outputCount
            let columns: UnsafePointer<T>
            if geometry.isIdentity {
                columns = UnsafePointer(x)
            } else {
                geometry.im2col(x, into: scratch)
                columns = UnsafePointer(scratch)
            }
            // Seed each output channel with its bias and let the GEMM add onto it (β = 1).
            if let biasOffset = slots.biasOffset {
                let bias = parameters.values.pointer + biasOffset
                for c in 0..<outChannels { (y + c * positions).update(repeating: bias[c], count: positions) }
            }
            gemm(transposeA: false, transposeB: false, m: outChannels, n: positions, k: columnRows,
                 alpha: 1, a: weight, lda: columnRows, b: columns, ldb: positions,
                 beta: slots.biasOffset == nil ? 0 : 1, c: y, ldc: positions)
        }
    }

    /// Backward over `examples` (see `ConvolutionLayer.backward`): dW (Cout, Cin·kh·kw) = Σ_n dy_n ·
    /// columns_nᵀ, db = Σ_n Σ_positions dy_n, and dInput_n = col2im(Wᵀ · dy_n) when asked.
    func backwardExamples<T>(_ examples: Range<Int>, dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?,
                                     parameters: ParameterStore<T>, columns: UnsafeMutablePointer<T>,
                                     dWeight: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>?) {
        let weight = parameters.values.pointer + slots.weightOffset
        let positions = geometry.positions, columnRows = geometry.columnRows
        for n in examples {
            let x = input.pointer + n * inputCount, dy = dOutput.pointer + n * outputCount
            let first = n == examples.lowerBound
            if !geometry.isIdentity { geometry.im2col(x, into: columns) }
            // dW (Cout, C·kh·kw) (+)= dy_n (Cout, P) · columnsᵀ (P, C·kh·kw)
            gemm(transposeA: false, transposeB: true, m: outChannels, n: columnRows, k: positions,
                 alpha: 1, a: dy, lda: positions, b: geometry.isIdentity ? UnsafePointer(x) : UnsafePointer(columns), ldb: positions,
                 beta: first ? 0 : 1, c: dWeight, ldc: columnRows)
            if let dBias { Self.sumChannels(dy, plane: positions, channels: outChannels, into: dBias, first: first) }
            guard let dInput else { continue }
            // d columns (C·kh·kw, P) = Wᵀ · dy_n, then back onto the image.
            let dx = dInput.pointer + n * inputCount
            let target = geometry.isIdentity ? dx : columns
            gemm(transposeA: true, transposeB: false, m: columnRows, n: positions, k: outChannels,
                 alpha: 1, a: weight, lda: columnRows, b: dy, ldb: positions, beta: 0, c: target, ldc: positions)
            if !geometry.isIdentity { geometry.col2im(columns, into: dx) }
        }
    }

    // MARK: - Naive reference

    /// The definition, one multiply-add at a time: y[n, co, oi, oj] = b[co] + Σ_{c, ki, kj}
    /// W[co, c, ki, kj]·x[n, c, oi·s − p + ki·d, oj·s − p + kj·d] (0 outside the image).
    func forwardNaive<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Int, parameters: ParameterStore<T>) {
        let g = geometry, weight = parameters.values.pointer + slots.weightOffset
        for n in 0..<rows {
            for co in 0..<outChannels {
                for oi in 0..<g.outputHeight {
                    for oj in 0..<g.outputWidth {
                        var sum: T = slots.biasOffset.map { parameters.values.pointer[$0 + co] } ?? 0
                        for c in 0..<g.channels {
                            for ki in 0..<g.kernelHeight {
                                for kj in 0..<g.kernelWidth {
                                    guard let (i, j) = g.inputIndex(oi: oi, oj: oj, ki: ki, kj: kj) else { continue }
                                    sum += weight[((co * g.channels + c) * g.kernelHeight + ki) * g.kernelWidth + kj]
                                        * input[n, (c * g.height + i) * g.width + j]
                                }
                            }
                        }
                        output[n, (co * g.outputHeight + oi) * g.outputWidth + oj] = sum
                    }
                }
            }
        }
    }

    /// The backward of `forwardNaive`, term by term: each multiply-add sends dy to the weight and
    /// the input pixel it multiplied. Writes dW and db, and dInput (zeroed first) when given.
    func backwardNaive<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int, parameters: ParameterStore<T>) {
        let g = geometry, weight = parameters.values.pointer + slots.weightOffset
        let dWeight = parameters.gradients.pointer + slots.weightOffset
        dWeight.update(repeating: 0, count: weightCount)
        if let biasOffset = slots.biasOffset { (parameters.gradients.pointer + biasOffset).update(repeating: 0, count: outChannels) }
        dInput?.fill(0)
        for n in 0..<rows {
            for co in 0..<outChannels {
                for oi in 0..<g.outputHeight {
                    for oj in 0..<g.outputWidth {
                        let dy = dOutput[n, (co * g.outputHeight + oi) * g.outputWidth + oj]
                        if let biasOffset = slots.biasOffset { parameters.gradients.pointer[biasOffset + co] += dy }
                        for c in 0..<g.channels {
                            for ki in 0..<g.kernelHeight {
                                for kj in 0..<g.kernelWidth {
                                    guard let (i, j) = g.inputIndex(oi: oi, oj: oj, ki: ki, kj: kj) else { continue }
                                    let w = ((co * g.channels + c) * g.kernelHeight + ki) * g.kernelWidth + kj
                                    let x = (c * g.height + i) * g.width + j
                                    dWeight[w] += dy * input[n, x]
                                    if let dInput { dInput[n, x] += dy * weight[w] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
