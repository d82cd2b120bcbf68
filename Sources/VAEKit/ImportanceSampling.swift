import RealModule

/// log p(x) estimated by importance sampling with q(z|x) as the proposal (Burda et al.'s IWAE bound):
///
///   log p̂(x) = log (1/K) Σ_k w_k,   w_k = p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x)
///
/// It is a lower bound on log p(x) in expectation that tightens as K grows, and equals the ELBO
/// estimate at K = 1: log w = log p(x|z) − (log q(z|x) − log p(z)).
public struct LogLikelihoodEstimate: Sendable, Equatable {
    /// log p̂(x) per example, averaged. Larger is better.
    public var logLikelihood: Estimate
    /// The ELBO on the same examples and draws: the mean over k of log w_k. Larger is better.
    public var elbo: Estimate
    /// log p̂(x) − ELBO per example, averaged: an estimate of KL(q(z|x) ‖ p(z|x)) ≥ 0.
    public var gap: Estimate
    /// N: examples.
    public var examples: Int
    /// K: importance samples per example.
    public var importanceSamples: Int
    /// log p̂(x) of each example, in order.
    public var perExample: [Double]
}

extension VAE {
    /// Rows of the decoder one importance-sampling pass may use: K draws for a few examples at a
    /// time, so K in the thousands never holds K×N×D at once. 4096, or fewer when 4096 draws would
    /// need more activation memory than `activationBudget` (a convolutional decoder).
    static var importanceRowBudget: Int { 4096 }

    var importanceRows: Int { max(1, min(Self.importanceRowBudget, Self.activationBudget / max(1, valueBytesPerExample.decoder))) }

    /// The importance-weighted estimate of log p(x) with K samples for each of `indices` (all when
    /// nil), drawn from the stream `random` (which advances). Returns nil when `shouldStop`
    /// answers true between chunks.
    public func logLikelihood(_ source: any ExampleSource, indices: [Int]? = nil, importanceSamples k: Int,
                              random: inout RandomSource, shouldStop: () -> Bool = { false }) -> LogLikelihoodEstimate? {
        var noise = NoiseFiller(.fresh(random))
        defer { random = noise.stream ?? random }
        return logLikelihood(source, indices: indices, importanceSamples: k, noise: &noise, shouldStop: shouldStop)
    }

    /// The importance-weighted estimate of log p(x) with K samples for each of `indices`, drawn
    /// from `draws`: with common random numbers, draw k of an example is draw k of `evaluate`.
    /// `progress` hears the fraction of the draws done after each pass through the decoder.
    public func logLikelihood(_ source: any ExampleSource, indices: [Int]? = nil, importanceSamples k: Int,
                              draws: Draws, shouldStop: () -> Bool = { false },
                              progress: (Double) -> Void = { _ in }) -> LogLikelihoodEstimate? {
        var noise = NoiseFiller(draws)
        return logLikelihood(source, indices: indices, importanceSamples: k, noise: &noise, shouldStop: shouldStop, progress: progress)
    }

    /// Draws for an example come in chunks; a running log-sum-exp keeps the estimate stable.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func logLikelihood(_ source: any ExampleSource, indices: [Int]?, importanceSamples k: Int,
                       noise: inout NoiseFiller, shouldStop: () -> Bool,
                       progress: (Double) -> Void = { _ in }) -> LogLikelihoodEstimate? {
        precondition(k >= 1, "logLikelihood: K must be at least 1")
        precondition(source.dimension == inputSize, "logLikelihood: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        let budget = importanceRows
        let examplesPerPass = max(1, min(chosen.count, budget / k))
        let samplesPerPass = min(k, max(1, budget / examplesPerPass))
        let batch = Matrix<T>(rows: examplesPerPass, columns: inputSize)
        let w = workspace(examples: examplesPerPass, samples: samplesPerPass, gradients: false)
        var logLikelihoods: [Double] = [], elbos: [Double] = []
        logLikelihoods.reserveCapacity(chosen.count)
        elbos.reserveCapacity(chosen.count)
        var runningMax = [Double](repeating: -.infinity, count: examplesPerPass)
        var runningSum = [Double](repeating: 0, count: examplesPerPass)
        var logWeightSum = [Double](repeating: 0, count: examplesPerPass)

        var start = 0
        while start < chosen.count {
            let rows = min(examplesPerPass, chosen.count - start)
            source.fillBatch(chosen[start..<start + rows], into: batch, epoch: 0)
            for n in 0..<rows { runningMax[n] = -.infinity; runningSum[n] = 0; logWeightSum[n] = 0 }
            var done = 0
            while done < k {
                if shouldStop() { return nil }
                // The last pass of an example may need fewer draws; the workspace's S is the most.
                let draws = min(samplesPerPass, k - done)
                let pass = draws == samplesPerPass ? w : workspace(examples: examplesPerPass, samples: draws, gradients: false)
                forwardPass(batch, rows: rows, workspace: pass, noise: &noise, examples: chosen[start..<start + rows],
                            firstDraw: done, likelihoodGradientScale: nil, mode: .evaluation)
                for n in 0..<rows {
                    for s in 0..<draws {
                        let r = n * draws + s
                        let logWeight = Double(pass.logLikelihood.pointer[r]) - Double(pass.klMonteCarlo.pointer[r])
                        logWeightSum[n] += logWeight
                        // Streaming log-sum-exp: rescale the running sum whenever the maximum moves.
                        if logWeight > runningMax[n] {
                            runningSum[n] = runningSum[n] * Double.exp(runningMax[n] - logWeight) + 1
                            runningMax[n] = logWeight
                        } else {
                            runningSum[n] += Double.exp(logWeight - runningMax[n])
                        }
                    }
                }
                done += draws
                progress((Double(start) * Double(k) + Double(rows) * Double(done)) / (Double(chosen.count) * Double(k)))
            }
            for n in 0..<rows {
                logLikelihoods.append(runningMax[n] + Double.log(runningSum[n]) - Double.log(Double(k)))
                elbos.append(logWeightSum[n] / Double(k))
            }
            start += rows
        }
        let gaps = zip(logLikelihoods, elbos).map { $0 - $1 }
        return LogLikelihoodEstimate(
            logLikelihood: Estimate(values: logLikelihoods), elbo: Estimate(values: elbos), gap: Estimate(values: gaps),
            examples: chosen.count, importanceSamples: k, perExample: logLikelihoods)
    }
}
