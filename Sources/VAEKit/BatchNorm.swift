import RealModule

/// Whether layers that behave differently in training (BatchNorm) use the batch or what they
/// learned: PyTorch's `model.train()` and `model.eval()`.
public enum LayerMode: Sendable, Equatable {
    /// Batch statistics; the running statistics are updated when `updateStatistics` is true.
    case training(updateStatistics: Bool)
    /// Running statistics: each example is computed on its own.
    case evaluation

    var isTraining: Bool { self != .evaluation }
}

/// Where a BatchNorm's running statistics live in the model's buffer block (not its parameters:
/// the optimiser never touches them).
struct BatchNormBuffers: Sendable {
    let runningMean: Int
    let runningVariance: Int
    /// PyTorch's `num_batches_tracked`, one value.
    let batchesTracked: Int
}

/// BatchNorm1d on (N, C) or BatchNorm2d on (N, C, H, W), as PyTorch computes them:
///
///   y = (x − mean)/√(var + eps)·γ + β      per channel c, over the N·H·W values of c
///
/// In training mode mean and var are the batch's (var biased, divided by M = N·H·W), and the
/// running statistics move towards them: running ← (1 − momentum)·running + momentum·batch, with
/// the *unbiased* variance (× M/(M − 1)) in the running estimate. In evaluation mode the running
/// statistics replace the batch's, so each example is computed on its own.
///
/// Statistics are summed in Double (what they cost is small beside the layers around them).
/// Training mode couples the examples of a batch, so the stack runs it over the whole batch at
/// once, split over threads by channel.
struct BatchNorm: Sendable {
    let channels: Int
    /// H·W for BatchNorm2d, 1 for BatchNorm1d.
    let spatial: Int
    let eps: Double
    let momentum: Double
    /// γ and β in the parameter block; nil for affine=False.
    let weightOffset: Int?
    let biasOffset: Int?
    let buffers: BatchNormBuffers

    var count: Int { channels * spatial }

    /// Values of channel c of example n start at n·count + c·spatial.
    @inline(__always)
    private func scale<T>(_ c: Int, _ parameters: ParameterStore<T>) -> T { weightOffset.map { parameters.values.pointer[$0 + c] } ?? 1 }
    @inline(__always)
    private func shift<T>(_ c: Int, _ parameters: ParameterStore<T>) -> T { biasOffset.map { parameters.values.pointer[$0 + c] } ?? 0 }

    // MARK: Training mode

    /// output ← BN(input) with the statistics of the first `rows` rows; writes the batch mean and
    /// 1/√(var + eps) into `statistics` (2, C) for backward, and updates the running statistics
    /// when `updateStatistics`.
    func forwardTraining<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Int, statistics: Matrix<T>,
                            parameters: ParameterStore<T>, buffers store: BufferStore<T>, updateStatistics: Bool) {
        precondition(input.columns == count && output.columns == count && statistics.count >= 2 * channels, "BatchNorm: shape mismatch")
        let m = rows * spatial
        let parts = Parallel.parts(flops: 8 * rows * count, limit: channels)
        let running = store.values.pointer
        Parallel.run(parts) { part in
            for c in Parallel.slice(0..<channels, part: part, of: parts) {
                var sum = 0.0
                for n in 0..<rows {
                    let x = input.pointer + n * count + c * spatial
                    for s in 0..<spatial { sum += Double(x[s]) }
                }
                let mean = sum / Double(m)
                var squares = 0.0
                for n in 0..<rows {
                    let x = input.pointer + n * count + c * spatial
                    for s in 0..<spatial { let d = Double(x[s]) - mean; squares += d * d }
                }
                let variance = squares / Double(m)
                let inverseDeviation = 1 / (variance + eps).squareRoot()
                statistics.pointer[c] = T(mean)
                statistics.pointer[channels + c] = T(inverseDeviation)
                let center = T(mean), factor = T(inverseDeviation) * scale(c, parameters), offset: T = shift(c, parameters)
                for n in 0..<rows {
                    let x = input.pointer + n * count + c * spatial, y = output.pointer + n * count + c * spatial
                    for s in 0..<spatial { y[s] = (x[s] - center) * factor + offset }
                }
                if updateStatistics {
                    // PyTorch raises for one value per channel; the unbiased variance is undefined
                    // there, so the biased one (0) is used (`VAEArchitecture.minimumTrainingBatch`).
                    let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
                    let meanSlot = running + buffers.runningMean + c, varianceSlot = running + buffers.runningVariance + c
                    meanSlot.pointee = T((1 - momentum) * Double(meanSlot.pointee) + momentum * mean)
                    varianceSlot.pointee = T((1 - momentum) * Double(varianceSlot.pointee) + momentum * unbiased)
                }
            }
        }
        if updateStatistics { running[buffers.batchesTracked] += 1 }
    }

    /// dInput ← the gradient through the batch statistics; writes dγ = Σ dy·x̂ and dβ = Σ dy:
    /// dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = (x − mean)/σ, means over the channel's M values.
    func backwardTraining<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int, statistics: Matrix<T>,
                             parameters: ParameterStore<T>) {
        let m = Double(rows * spatial)
        let parts = Parallel.parts(flops: 10 * rows * count, limit: channels)
        Parallel.run(parts) { part in
            for c in Parallel.slice(0..<channels, part: part, of: parts) {
                let center = statistics.pointer[c], inverseDeviation = statistics.pointer[channels + c]
                var sumDY = 0.0, sumDYXHat = 0.0
                for n in 0..<rows {
                    let x = input.pointer + n * count + c * spatial, dy = dOutput.pointer + n * count + c * spatial
                    for s in 0..<spatial {
                        sumDY += Double(dy[s])
                        sumDYXHat += Double(dy[s]) * Double((x[s] - center) * inverseDeviation)
                    }
                }
                if let weightOffset { parameters.gradients.pointer[weightOffset + c] = T(sumDYXHat) }
                if let biasOffset { parameters.gradients.pointer[biasOffset + c] = T(sumDY) }
                guard let dInput else { continue }
                let factor = scale(c, parameters) * inverseDeviation, meanDY = T(sumDY / m), meanDYXHat = T(sumDYXHat / m)
                for n in 0..<rows {
                    let x = input.pointer + n * count + c * spatial, dy = dOutput.pointer + n * count + c * spatial
                    let dx = dInput.pointer + n * count + c * spatial
                    for s in 0..<spatial { dx[s] = factor * (dy[s] - meanDY - (x[s] - center) * inverseDeviation * meanDYXHat) }
                }
            }
        }
    }

    // MARK: Evaluation mode

    /// output ← (input − running mean)/√(running var + eps)·γ + β for rows `rows`.
    func forwardEvaluation<T>(_ input: Matrix<T>, into output: Matrix<T>, rows: Range<Int>, parameters: ParameterStore<T>,
                              buffers store: BufferStore<T>) {
        for c in 0..<channels {
            let (center, factor) = evaluationScale(c, parameters: parameters, buffers: store)
            let offset: T = shift(c, parameters)
            for n in rows {
                let x = input.pointer + n * count + c * spatial, y = output.pointer + n * count + c * spatial
                for s in 0..<spatial { y[s] = (x[s] - center) * factor + offset }
            }
        }
    }

    /// The backward of `forwardEvaluation` (an affine map per channel): dx = dy·γ/σ, dγ = Σ dy·x̂, dβ = Σ dy.
    func backwardEvaluation<T>(_ dOutput: Matrix<T>, input: Matrix<T>, dInput: Matrix<T>?, rows: Int,
                               parameters: ParameterStore<T>, buffers store: BufferStore<T>) {
        for c in 0..<channels {
            let (center, factor) = evaluationScale(c, parameters: parameters, buffers: store)
            let inverseDeviation = 1 / (Double(store.values.pointer[buffers.runningVariance + c]) + eps).squareRoot()
            var sumDY = 0.0, sumDYXHat = 0.0
            for n in 0..<rows {
                let x = input.pointer + n * count + c * spatial, dy = dOutput.pointer + n * count + c * spatial
                for s in 0..<spatial {
                    sumDY += Double(dy[s])
                    sumDYXHat += Double(dy[s]) * Double(x[s] - center) * inverseDeviation
                    if let dInput { dInput.pointer[n * count + c * spatial + s] = dy[s] * factor }
                }
            }
            if let weightOffset { parameters.gradients.pointer[weightOffset + c] = T(sumDYXHat) }
            if let biasOffset { parameters.gradients.pointer[biasOffset + c] = T(sumDY) }
        }
    }

    /// The running mean, and γ/√(running var + eps), of channel c.
    private func evaluationScale<T>(_ c: Int, parameters: ParameterStore<T>, buffers store: BufferStore<T>) -> (T, T) {
        let mean = store.values.pointer[buffers.runningMean + c]
        let variance = Double(store.values.pointer[buffers.runningVariance + c])
        return (mean, T(1 / (variance + eps).squareRoot()) * scale(c, parameters))
    }

    /// PyTorch's start: γ = 1, β = 0, running mean 0, running variance 1, no batches tracked.
    func initialize<T>(_ parameters: ParameterStore<T>, buffers store: BufferStore<T>) {
        if let weightOffset { (parameters.values.pointer + weightOffset).update(repeating: 1, count: channels) }
        if let biasOffset { (parameters.values.pointer + biasOffset).update(repeating: 0, count: channels) }
        (store.values.pointer + buffers.runningMean).update(repeating: 0, count: channels)
        (store.values.pointer + buffers.runningVariance).update(repeating: 1, count: channels)
        store.values.pointer[buffers.batchesTracked] = 0
    }
}
