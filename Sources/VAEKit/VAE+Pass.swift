import RealModule

// MARK: - The pass

extension VAE {
    /// Encoder → reparameterisation → decoder → each term, for the first `rows` examples of `x`
    /// (rows, D), with `workspace.samples` fresh draws of ε each. When `likelihoodGradientScale` is
    /// given, the likelihood pass also writes scale·∂log p/∂output for the backward pass. `mode`
    /// says whether BatchNorm uses the batch's statistics (training) or its running ones.
    ///
    /// Examples are independent here (except across a BatchNorm in training mode), and so are
    /// draws once z is known: with more than one thread each takes a contiguous share of the
    /// examples through the encoder, then of the draws through the decoder (with one draw per
    /// example, both in one go). A stack with a training-mode BatchNorm runs in segments around it
    /// (`LayerStack.forwardBatch`). ε is drawn first, in one piece, so the random stream is the same
    /// whatever the thread count. `examples` are the rows' indices in their data source (common
    /// random numbers are keyed by them), `firstDraw` the index of the first of their S draws.
    func forwardPass(_ x: Matrix<T>, rows: Int, workspace w: Workspace<T>, noise: inout NoiseFiller,
                     examples: ArraySlice<Int>? = nil, firstDraw: Int = 0, likelihoodGradientScale: T?, mode: LayerMode) {
        precondition(x.columns == inputSize, "forwardPass: x has \(x.columns) columns, model expects \(inputSize)")
        precondition(rows <= w.examples && rows <= x.rows, "forwardPass: too many rows for the workspace")
        let samples = w.samples, draws = rows * samples
        // ε ~ N(0, I), in (example, sample, dimension) order: the pass's only source of noise.
        noise.fill(w.epsilon.pointer, rows: rows, samples: samples, latent: latentSize, examples: examples, firstDraw: firstDraw)
        let scratch = w.scratch.pointers(for: Parallel.threads)

        // The learned variance's gradient sums over every draw into one vector: keep that in one part.
        let sharedAccumulator = likelihoodGradientScale != nil && outputLogVarianceOffset != nil
        let decoderParts = sharedAccumulator ? 1 : min(draws, Parallel.parts(flops: 2 * draws * decoder.multiplyAddsPerRow))
        let encoderCouples = encoder.couplesExamples(in: mode), decoderCouples = decoder.couplesExamples(in: mode)
        if samples == 1 && !encoderCouples && !decoderCouples {
            Parallel.run(decoderParts) { part in
                let slice = Parallel.slice(0..<rows, part: part, of: decoderParts)
                forwardEncoder(x, examples: slice, workspace: w, mode: mode, scratch: scratch.isEmpty ? nil : scratch[part])
                forwardDecoder(x, draws: slice, workspace: w, likelihoodGradientScale: likelihoodGradientScale, mode: mode,
                               scratch: scratch.isEmpty ? nil : scratch[part])
            }
            return
        }
        if encoderCouples {
            encoder.forwardBatch(x, rows: rows, activations: w.encoder, parameters: parameters, buffers: buffers, mode: mode, scratch: scratch)
            reparameterise(examples: 0..<rows, workspace: w)
        } else {
            let encoderParts = min(rows, Parallel.parts(flops: 2 * rows * encoder.multiplyAddsPerRow))
            Parallel.run(encoderParts) { part in
                forwardEncoder(x, examples: Parallel.slice(0..<rows, part: part, of: encoderParts), workspace: w, mode: mode,
                               scratch: scratch.isEmpty ? nil : scratch[part])
            }
        }
        if decoderCouples {
            decoder.forwardBatch(w.z, rows: draws, activations: w.decoder, parameters: parameters, buffers: buffers, mode: mode, scratch: scratch)
            likelihoods(x, draws: 0..<draws, workspace: w, likelihoodGradientScale: likelihoodGradientScale)
        } else {
            Parallel.run(decoderParts) { part in
                forwardDecoder(x, draws: Parallel.slice(0..<draws, part: part, of: decoderParts), workspace: w,
                               likelihoodGradientScale: likelihoodGradientScale, mode: mode, scratch: scratch.isEmpty ? nil : scratch[part])
            }
        }
    }

    /// q(z|x) and z = μ + σ ⊙ ε for examples `examples`: their rows of the encoder's buffers, and
    /// the rows of z (and the Monte-Carlo KL) of their draws.
    private func forwardEncoder(_ x: Matrix<T>, examples: Range<Int>, workspace w: Workspace<T>, mode: LayerMode,
                                scratch: UnsafeMutablePointer<T>?) {
        // One GEMM gives [μ | log σ²] (rows, 2Z).
        encoder.forward(x, rows: examples, activations: w.encoder, parameters: parameters, buffers: buffers, mode: mode, scratch: scratch)
        reparameterise(examples: examples, workspace: w)
    }

    /// Clamps log σ², computes σ, the closed-form KL, z = μ + σ ⊙ ε and the Monte-Carlo KL for `examples`.
    private func reparameterise(examples: Range<Int>, workspace w: Workspace<T>) {
        let latent = latentSize, samples = w.samples
        let head = w.encoder.output.pointer
        for n in examples {
            let mean = head + n * 2 * latent, logVariance = mean + latent
            for j in 0..<latent {
                // The head's raw value becomes log σ² here, in place (backward needs only σ).
                logVariance[j] = clampedLogVariance(fromHead: logVariance[j])
                w.standardDeviation.pointer[n * latent + j] = T.exp(logVariance[j] / 2)
            }
            w.klAnalytic.pointer[n] = Divergence.klAnalytic(mean: mean, logVariance: logVariance, latent: latent)
        }
        for r in examples.lowerBound * samples..<examples.upperBound * samples {
            let n = r / samples
            let mean = head + n * 2 * latent, logVariance = mean + latent
            let sigma = w.standardDeviation.pointer + n * latent
            let epsilon = w.epsilon.pointer + r * latent, z = w.z.pointer + r * latent
            for j in 0..<latent { z[j] = mean[j] + sigma[j] * epsilon[j] }
            w.klMonteCarlo.pointer[r] = Divergence.klMonteCarlo(z: z, epsilon: epsilon, logVariance: logVariance, latent: latent)
        }
    }

    /// p(x|z) for draws `draws`: their rows of the decoder's output (draws, D), then log p(x|z) per draw.
    private func forwardDecoder(_ x: Matrix<T>, draws: Range<Int>, workspace w: Workspace<T>, likelihoodGradientScale: T?,
                                mode: LayerMode, scratch: UnsafeMutablePointer<T>?) {
        decoder.forward(w.z, rows: draws, activations: w.decoder, parameters: parameters, buffers: buffers, mode: mode, scratch: scratch)
        likelihoods(x, draws: draws, workspace: w, likelihoodGradientScale: likelihoodGradientScale)
    }

    /// log p(x|z) for `draws`, from the decoder's output, and its gradient when asked.
    private func likelihoods(_ x: Matrix<T>, draws: Range<Int>, workspace w: Workspace<T>, likelihoodGradientScale: T?) {
        let samples = w.samples, dimension = inputSize
        let output = w.decoder.output.pointer
        let logVarianceX = outputLogVarianceOffset.map { UnsafePointer(parameters.values.pointer + $0) }
        let dLogVarianceX = likelihoodGradientScale == nil ? nil : outputLogVarianceOffset.map { parameters.gradients.pointer + $0 }
        let dOutput = likelihoodGradientScale == nil ? nil : w.decoder.dOutput.pointer
        for r in draws {
            w.logLikelihood.pointer[r] = architecture.likelihood.logLikelihood(
                output: output + r * dimension, target: x.pointer + (r / samples) * dimension, dimension: dimension,
                logVariance: logVarianceX, dOutput: dOutput.map { $0 + r * dimension },
                dLogVariance: dLogVarianceX, scale: likelihoodGradientScale ?? 0)
        }
    }

    /// Backward of the objective whose likelihood gradient `forwardPass` already wrote, adding
    /// `klScale`·∇KL; writes `parameters.gradients`.
    func backwardPass(_ x: Matrix<T>, rows: Int, workspace w: Workspace<T>, klScale: T, mode: LayerMode) {
        let latent = latentSize, samples = w.samples, draws = rows * samples
        let scratch = w.scratch.pointers(for: Parallel.threads)
        decoder.backward(input: w.z, rows: draws, activations: w.decoder, dInput: w.dZ, parameters: parameters,
                         buffers: buffers, mode: mode, scratch: scratch)

        // Through z = μ + σ⊙ε:  ∂z/∂μ = 1,  ∂z/∂log σ² = ½σε.  Then the KL's own gradient.
        let head = w.encoder.output.pointer, dHead = w.encoder.dOutput.pointer
        let range = Self.logVarianceRange
        for n in 0..<rows {
            let dMean = dHead + n * 2 * latent, dLogVariance = dMean + latent
            let sigma = w.standardDeviation.pointer + n * latent
            for j in 0..<latent { dMean[j] = 0; dLogVariance[j] = 0 }
            for s in 0..<samples {
                let r = n * samples + s
                let dZ = w.dZ.pointer + r * latent, epsilon = w.epsilon.pointer + r * latent
                for j in 0..<latent {
                    dMean[j] += dZ[j]
                    dLogVariance[j] += dZ[j] * epsilon[j] * sigma[j] / 2
                }
            }
            let mean = head + n * 2 * latent, logVariance = mean + latent
            Divergence.klAnalyticBackward(mean: mean, logVariance: logVariance, latent: latent,
                                          dMean: dMean, dLogVariance: dLogVariance, scale: klScale)
            // The clamp passes no gradient where it is active; then from log σ² back to the head's raw value.
            let variance = architecture.variance
            for j in 0..<latent {
                if logVariance[j] <= range.lowerBound || logVariance[j] >= range.upperBound {
                    dLogVariance[j] = 0
                } else if variance != .logvar {
                    dLogVariance[j] *= variance.dLogVarianceDHead(sigma: sigma[j])
                }
            }
        }
        encoder.backward(input: x, rows: rows, activations: w.encoder, dInput: nil, parameters: parameters,
                         buffers: buffers, mode: mode, scratch: scratch)
    }

    /// log σ² from the head's raw output `h`: the architecture's variance parameterisation, then
    /// the clamp to `logVarianceRange` (the one place both happen, for passes and `encodeMean`).
    @inline(__always)
    func clampedLogVariance(fromHead h: T) -> T {
        let range = Self.logVarianceRange
        return min(max(architecture.variance.logVariance(fromHead: h), range.lowerBound), range.upperBound)
    }

    /// Sums over the first `rows` examples: Σ_n (1/S)Σ_s log p(x_n|z_ns) and Σ_n KL_n.
    private func batchSums(rows: Int, workspace w: Workspace<T>) -> (reconstruction: Double, kl: Double) {
        var reconstruction = 0.0, kl = 0.0
        for r in 0..<rows * w.samples { reconstruction += Double(w.logLikelihood.pointer[r]) }
        for n in 0..<rows { kl += Double(w.klAnalytic.pointer[n]) }
        return (reconstruction / Double(w.samples), kl)
    }

    /// Sets the gradients to ∇θ of the objective −a·E_q[log p(x|z)] + b·KL over
    /// the first `rows` examples of `x` (rows, D), combined by `reduction`, in training mode
    /// (BatchNorm on the batch's statistics, which also move its running statistics unless
    /// `updateRunningStatistics` is false). Returns the batch's terms.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func computeGradients(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                                 reduction: Reduction = .sum, random: inout RandomSource,
                                 updateRunningStatistics: Bool = true) -> BatchTerms {
        precondition(rows >= 1 && samples >= 1, "computeGradients: need at least one example and one sample")
        let w = workspace(examples: x.rows, samples: samples)
        let mode = LayerMode.training(updateStatistics: updateRunningStatistics)
        let perExample = reduction == .sum ? 1.0 : 1.0 / Double(rows)
        // The layers' backward passes write their gradients; only the learned variance's, which
        // the likelihood sums over draws, starts from zero.
        if let offset = outputLogVarianceOffset {
            (parameters.gradients.pointer + offset).update(repeating: 0, count: inputSize)
        }
        var noise = NoiseFiller(.fresh(random))
        forwardPass(x, rows: rows, workspace: w, noise: &noise,
                    likelihoodGradientScale: T(-weights.reconstruction * perExample / Double(samples)), mode: mode)
        random = noise.stream ?? random
        backwardPass(x, rows: rows, workspace: w, klScale: T(weights.kl * perExample), mode: mode)
        let sums = batchSums(rows: rows, workspace: w)
        return BatchTerms(reconstruction: sums.reconstruction / Double(rows), kl: sums.kl / Double(rows), examples: rows)
    }

    /// The objective −a·E_q[log p(x|z)] + b·KL over the first `rows` examples, combined by
    /// `reduction`, with no gradient: what `computeGradients` differentiates, for finite
    /// differences (training mode by default, leaving the running statistics alone), or the same
    /// objective in evaluation mode.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func objective(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                          reduction: Reduction = .sum, random: inout RandomSource,
                          mode: LayerMode = .training(updateStatistics: false)) -> Double {
        var noise = NoiseFiller(.fresh(random))
        defer { random = noise.stream ?? random }
        return objective(x, rows: rows, samples: samples, weights: weights, reduction: reduction, noise: &noise, examples: nil, mode: mode)
    }

    /// The same objective with ε from `draws`; `examples` are the rows' indices in their data
    /// source, which common draws are keyed by (so this sees the z `evaluate` sees for them).
    public func objective(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                          reduction: Reduction = .sum, draws: Draws, examples: [Int],
                          mode: LayerMode = .training(updateStatistics: false)) -> Double {
        precondition(examples.count == rows, "objective: \(examples.count) example indices for \(rows) rows")
        var noise = NoiseFiller(draws)
        return objective(x, rows: rows, samples: samples, weights: weights, reduction: reduction, noise: &noise,
                         examples: examples[...], mode: mode)
    }

    private func objective(_ x: Matrix<T>, rows: Int, samples: Int, weights: ObjectiveWeights, reduction: Reduction,
                           noise: inout NoiseFiller, examples: ArraySlice<Int>?, mode: LayerMode) -> Double {
        let w = workspace(examples: x.rows, samples: samples, gradients: false)
        forwardPass(x, rows: rows, workspace: w, noise: &noise, examples: examples, likelihoodGradientScale: nil, mode: mode)
        let sums = batchSums(rows: rows, workspace: w)
        let total = weights.value(reconstruction: sums.reconstruction, kl: sums.kl)
        return reduction == .sum ? total : total / Double(rows)
    }
}
