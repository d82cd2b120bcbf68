import RealModule

// The objective of Kingma & Welling (2014), per example x:
//
//   ELBO(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z))   ≤ log p(x)      — maximised
//   loss(x) = −ELBO(x) = NLL + KL                                         — minimised by the optimiser
//
// `reconstruction` below is always E_q[log p(x|z)] (a log-likelihood: larger is better, ≤ 0 for a
// Bernoulli), never the negative log-likelihood. Nothing here is negated twice: the only minus
// sign between the ELBO and the loss is `loss = −elbo`.

/// The examples a pass reads: anything that can copy chosen examples into the rows of a batch.
public protocol ExampleSource {
    /// N: number of examples.
    var exampleCount: Int { get }
    /// D: values per example.
    var dimension: Int { get }
    /// Writes examples `indices`, in order, into rows 0..<indices.count of `batch` (…, D).
    /// `epoch` lets a source redraw per-epoch randomness (dynamic binarisation).
    func fillBatch<U: VAEScalar>(_ indices: some Collection<Int>, into batch: Matrix<U>, epoch: Int)
}

extension Matrix: ExampleSource {
    public var exampleCount: Int { rows }
    public var dimension: Int { columns }
    public func fillBatch<U: VAEScalar>(_ indices: some Collection<Int>, into batch: Matrix<U>, epoch: Int) {
        precondition(batch.columns == columns && batch.rows >= indices.count, "fillBatch: shape mismatch")
        for (row, index) in indices.enumerated() {
            let source = pointer + index * columns, target = batch.pointer + row * columns
            for d in 0..<columns { target[d] = U(source[d]) }
        }
    }
}

/// A mean over examples with its standard error.
public struct Estimate: Sendable, Equatable {
    public var mean: Double
    /// The standard error of `mean`; nil when it cannot be estimated (one example, one draw).
    public var standardError: Double?

    public init(mean: Double, standardError: Double?) {
        self.mean = mean
        self.standardError = standardError
    }

    /// The mean of `values` and its standard error s/√n (nil for fewer than two values).
    public init(values: [Double]) {
        let n = Double(values.count)
        mean = values.isEmpty ? .nan : values.reduce(0, +) / n
        if values.count < 2 {
            standardError = nil
        } else {
            let m = mean
            let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
            standardError = (variance / n).squareRoot()
        }
    }

    /// −estimate: same standard error.
    public static prefix func - (estimate: Estimate) -> Estimate {
        Estimate(mean: -estimate.mean, standardError: estimate.standardError)
    }
}

/// Every term of the objective on a set of examples, in nats per example.
///
/// Standard errors are over the examples (s/√N of the per-example values, each the average over
/// its S draws), so they cover both the Monte-Carlo noise and the spread between examples; for a
/// single example they are the Monte-Carlo standard error over its S draws.
public struct ELBOTerms: Sendable, Equatable {
    /// E_q[log p(x|z)], estimated with S draws of z. Larger is better; ≤ 0 for a Bernoulli.
    public var reconstruction: Estimate
    /// KL(q(z|x) ‖ p(z)) in closed form. Smaller is better; always ≥ 0.
    public var kl: Estimate
    /// The Monte-Carlo KL, log q(z|x) − log p(z) at the same draws. Unbiased for `kl`, noisier,
    /// and a single draw can be negative.
    public var klMonteCarlo: Estimate
    /// reconstruction − kl: the evidence lower bound. Larger is better; ≤ log p(x).
    public var elbo: Estimate
    /// −elbo: what training minimises (with β = 1).
    public var loss: Estimate
    /// N: examples averaged.
    public var examples: Int
    /// S: draws of z per example.
    public var samples: Int
    /// Per-example values, in the order evaluated (kept when asked for).
    public var perExample: PerExampleTerms?

    /// The β-VAE loss −reconstruction + β·KL, per example.
    public func betaLoss(_ beta: Double) -> Double { -reconstruction.mean + beta * kl.mean }
}

/// The per-example values behind an `ELBOTerms`.
public struct PerExampleTerms: Sendable, Equatable {
    public var reconstruction: [Double]
    public var kl: [Double]
    public var klMonteCarlo: [Double]
    public var elbo: [Double] { zip(reconstruction, kl).map { $0 - $1 } }
}

/// What a training pass over one batch measured (averages per example, in nats).
public struct BatchTerms: Sendable, Equatable {
    public var reconstruction: Double
    public var kl: Double
    public var examples: Int
    public var elbo: Double { reconstruction - kl }
    public var loss: Double { -elbo }
}

/// Which quantity a gradient step descends: −a·E_q[log p(x|z)] + b·KL.
///
/// The correct objective is the loss (a = 1, b = β). `flippedELBO` is the classic sign mistake,
/// minimising the ELBO itself (a = −1, b = −1): it pushes the reconstruction down and the KL up.
public struct ObjectiveWeights: Sendable, Equatable {
    public var reconstruction: Double
    public var kl: Double

    public init(reconstruction: Double, kl: Double) {
        self.reconstruction = reconstruction
        self.kl = kl
    }

    /// loss = −ELBO (β = 1), or the β-VAE loss −recon + β·KL.
    public static func loss(beta: Double = 1) -> ObjectiveWeights { ObjectiveWeights(reconstruction: 1, kl: beta) }
    /// Minimising the ELBO: the sign flipped by mistake.
    public static let flippedELBO = ObjectiveWeights(reconstruction: -1, kl: -1)
    /// Only the negative log-likelihood −E_q[log p(x|z)] (for gradient checks of that term).
    public static let reconstructionOnly = ObjectiveWeights(reconstruction: 1, kl: 0)
    /// Only the KL (for gradient checks of that term).
    public static let klOnly = ObjectiveWeights(reconstruction: 0, kl: 1)

    /// The value of the objective for batch averages.
    public func value(reconstruction recon: Double, kl divergence: Double) -> Double {
        -reconstruction * recon + kl * divergence
    }
}

/// How the per-example objective is combined over a batch before differentiating.
public enum Reduction: String, Sendable, Codable, CaseIterable {
    /// Σ over the batch, as the pytorch/examples VAE does (`reduction='sum'`).
    case sum
    /// Mean over the batch.
    case mean
}

// MARK: - The pass

extension VAE {
    /// Encoder → reparameterisation → decoder → each term, for the first `rows` examples of `x`
    /// (rows, D), with `workspace.samples` fresh draws of ε each. When `likelihoodGradientScale` is
    /// given, the likelihood pass also writes scale·∂log p/∂output for the backward pass.
    ///
    /// Examples are independent here, and so are draws once z is known: with more than one thread
    /// each takes a contiguous share of the examples through the encoder, then of the draws through
    /// the decoder (with one draw per example, both in one go). ε is drawn first, in one piece, so
    /// the random stream is the same whatever the thread count.
    func forwardPass(_ x: Matrix<T>, rows: Int, workspace w: Workspace<T>, noise: inout NoiseFiller,
                     examples: ArraySlice<Int>? = nil, firstDraw: Int = 0, likelihoodGradientScale: T?) {
        precondition(x.columns == inputSize, "forwardPass: x has \(x.columns) columns, model expects \(inputSize)")
        precondition(rows <= w.examples && rows <= x.rows, "forwardPass: too many rows for the workspace")
        let samples = w.samples, draws = rows * samples

        // ε ~ N(0, I), in (example, sample, dimension) order: the pass's only source of noise.
        noise.fill(w.epsilon.pointer, rows: rows, samples: samples, latent: latentSize, examples: examples, firstDraw: firstDraw)

        // The learned variance's gradient sums over every draw into one vector: keep that in one part.
        let sharedAccumulator = likelihoodGradientScale != nil && outputLogVarianceOffset != nil
        let decoderParts = sharedAccumulator ? 1 : min(draws, Parallel.parts(flops: 2 * draws * decoder.multiplyAddsPerRow))
        if samples == 1 {
            Parallel.run(decoderParts) { part in
                let slice = Parallel.slice(0..<rows, part: part, of: decoderParts)
                forwardEncoder(x, examples: slice, workspace: w)
                forwardDecoder(x, draws: slice, workspace: w, likelihoodGradientScale: likelihoodGradientScale)
            }
        } else {
            let encoderParts = min(rows, Parallel.parts(flops: 2 * rows * encoder.multiplyAddsPerRow))
            Parallel.run(encoderParts) { part in
                forwardEncoder(x, examples: Parallel.slice(0..<rows, part: part, of: encoderParts), workspace: w)
            }
            Parallel.run(decoderParts) { part in
                forwardDecoder(x, draws: Parallel.slice(0..<draws, part: part, of: decoderParts), workspace: w,
                               likelihoodGradientScale: likelihoodGradientScale)
            }
        }
    }

    /// q(z|x) and z = μ + σ ⊙ ε for examples `examples`: their rows of the encoder's buffers, and
    /// the rows of z (and the Monte-Carlo KL) of their draws.
    private func forwardEncoder(_ x: Matrix<T>, examples: Range<Int>, workspace w: Workspace<T>) {
        let latent = latentSize, samples = w.samples
        // One GEMM gives [μ | log σ²] (rows, 2Z).
        encoder.forward(x, rows: examples, activations: w.encoder, parameters: parameters)
        let head = w.encoder.output.pointer
        let range = Self.logVarianceRange
        for n in examples {
            let mean = head + n * 2 * latent, logVariance = mean + latent
            for j in 0..<latent {
                logVariance[j] = min(max(logVariance[j], range.lowerBound), range.upperBound)
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
    private func forwardDecoder(_ x: Matrix<T>, draws: Range<Int>, workspace w: Workspace<T>, likelihoodGradientScale: T?) {
        let samples = w.samples, dimension = inputSize
        decoder.forward(w.z, rows: draws, activations: w.decoder, parameters: parameters)
        let output = w.decoder.output.pointer
        let logVarianceX = outputLogVarianceOffset.map { UnsafePointer(parameters.values.pointer + $0) }
        let dLogVarianceX = likelihoodGradientScale == nil ? nil : outputLogVarianceOffset.map { parameters.gradients.pointer + $0 }
        let dOutput = likelihoodGradientScale == nil ? nil : w.decoder.dOutput.pointer
        for r in draws {
            w.logLikelihood.pointer[r] = configuration.likelihood.logLikelihood(
                output: output + r * dimension, target: x.pointer + (r / samples) * dimension, dimension: dimension,
                logVariance: logVarianceX, dOutput: dOutput.map { $0 + r * dimension },
                dLogVariance: dLogVarianceX, scale: likelihoodGradientScale ?? 0)
        }
    }

    /// Backward of the objective whose likelihood gradient `forwardPass` already wrote, adding
    /// `klScale`·∇KL; accumulates into `parameters.gradients`.
    func backwardPass(_ x: Matrix<T>, rows: Int, workspace w: Workspace<T>, klScale: T) {
        let latent = latentSize, samples = w.samples, draws = rows * samples
        decoder.backward(input: w.z, rows: draws, activations: w.decoder, dInput: w.dZ, parameters: parameters)

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
            // The clamp passes no gradient where it is active.
            for j in 0..<latent where logVariance[j] <= range.lowerBound || logVariance[j] >= range.upperBound {
                dLogVariance[j] = 0
            }
        }
        encoder.backward(input: x, rows: rows, activations: w.encoder, dInput: nil, parameters: parameters)
    }

    /// Sums over the first `rows` examples: Σ_n (1/S)Σ_s log p(x_n|z_ns) and Σ_n KL_n.
    private func batchSums(rows: Int, workspace w: Workspace<T>) -> (reconstruction: Double, kl: Double) {
        var reconstruction = 0.0, kl = 0.0
        for r in 0..<rows * w.samples { reconstruction += Double(w.logLikelihood.pointer[r]) }
        for n in 0..<rows { kl += Double(w.klAnalytic.pointer[n]) }
        return (reconstruction / Double(w.samples), kl)
    }

    /// Sets the gradients to ∇θ of the objective −a·E_q[log p(x|z)] + b·KL over
    /// the first `rows` examples of `x` (rows, D), combined by `reduction`. Returns the batch's terms.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func computeGradients(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                                 reduction: Reduction = .sum, random: inout RandomSource) -> BatchTerms {
        precondition(rows >= 1 && samples >= 1, "computeGradients: need at least one example and one sample")
        let w = workspace(examples: x.rows, samples: samples)
        let perExample = reduction == .sum ? 1.0 : 1.0 / Double(rows)
        // The layers' backward passes write their gradients; only the learned variance's, which
        // the likelihood sums over draws, starts from zero.
        if let offset = outputLogVarianceOffset {
            (parameters.gradients.pointer + offset).update(repeating: 0, count: inputSize)
        }
        var noise = NoiseFiller(.fresh(random))
        forwardPass(x, rows: rows, workspace: w, noise: &noise,
                    likelihoodGradientScale: T(-weights.reconstruction * perExample / Double(samples)))
        random = noise.stream ?? random
        backwardPass(x, rows: rows, workspace: w, klScale: T(weights.kl * perExample))
        let sums = batchSums(rows: rows, workspace: w)
        return BatchTerms(reconstruction: sums.reconstruction / Double(rows), kl: sums.kl / Double(rows), examples: rows)
    }

    /// The objective −a·E_q[log p(x|z)] + b·KL over the first `rows` examples, combined by
    /// `reduction`, with no gradient: what `computeGradients` differentiates, for finite differences.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func objective(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                          reduction: Reduction = .sum, random: inout RandomSource) -> Double {
        var noise = NoiseFiller(.fresh(random))
        defer { random = noise.stream ?? random }
        return objective(x, rows: rows, samples: samples, weights: weights, reduction: reduction, noise: &noise, examples: nil)
    }

    /// The same objective with ε from `draws`; `examples` are the rows' indices in their data
    /// source, which common draws are keyed by (so this sees the z `evaluate` sees for them).
    public func objective(_ x: Matrix<T>, rows: Int, samples: Int = 1, weights: ObjectiveWeights,
                          reduction: Reduction = .sum, draws: Draws, examples: [Int]) -> Double {
        precondition(examples.count == rows, "objective: \(examples.count) example indices for \(rows) rows")
        var noise = NoiseFiller(draws)
        return objective(x, rows: rows, samples: samples, weights: weights, reduction: reduction, noise: &noise, examples: examples[...])
    }

    private func objective(_ x: Matrix<T>, rows: Int, samples: Int, weights: ObjectiveWeights, reduction: Reduction,
                           noise: inout NoiseFiller, examples: ArraySlice<Int>?) -> Double {
        let w = workspace(examples: x.rows, samples: samples)
        forwardPass(x, rows: rows, workspace: w, noise: &noise, examples: examples, likelihoodGradientScale: nil)
        let sums = batchSums(rows: rows, workspace: w)
        let total = weights.value(reconstruction: sums.reconstruction, kl: sums.kl)
        return reduction == .sum ? total : total / Double(rows)
    }
}

// MARK: - Evaluation

extension VAE {
    /// Examples per pass when evaluating: bounds the scratch memory at about
    /// chunk·S·(D + hidden) scalars.
    static var evaluationChunk: Int { 500 }

    /// Every term of the objective on `indices` of `source` (all of it when nil), with S draws
    /// per example taken from the stream `random` (which advances). Returns nil when `shouldStop`
    /// answers true between chunks.
    public func evaluate(_ source: any ExampleSource, indices: [Int]? = nil, samples: Int = 1,
                         random: inout RandomSource, keepPerExample: Bool = false,
                         shouldStop: () -> Bool = { false }) -> ELBOTerms? {
        var noise = NoiseFiller(.fresh(random))
        defer { random = noise.stream ?? random }
        return evaluate(source, indices: indices, samples: samples, noise: &noise, keepPerExample: keepPerExample, shouldStop: shouldStop)
    }

    /// Every term of the objective on `indices` of `source` (all of it when nil), with S draws
    /// per example from `draws` (common random numbers: the same z for the same examples, see
    /// `Draws`). Returns nil when `shouldStop` answers true between chunks.
    public func evaluate(_ source: any ExampleSource, indices: [Int]? = nil, samples: Int = 1, draws: Draws,
                         keepPerExample: Bool = false, shouldStop: () -> Bool = { false }) -> ELBOTerms? {
        var noise = NoiseFiller(draws)
        return evaluate(source, indices: indices, samples: samples, noise: &noise, keepPerExample: keepPerExample, shouldStop: shouldStop)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func evaluate(_ source: any ExampleSource, indices: [Int]?, samples: Int, noise: inout NoiseFiller,
                  keepPerExample: Bool, shouldStop: () -> Bool) -> ELBOTerms? {
        precondition(samples >= 1, "evaluate: samples must be at least 1")
        precondition(source.dimension == inputSize, "evaluate: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        var reconstruction: [Double] = [], kl: [Double] = [], klMonteCarlo: [Double] = []
        reconstruction.reserveCapacity(chosen.count)
        kl.reserveCapacity(chosen.count)
        klMonteCarlo.reserveCapacity(chosen.count)
        var drawsOfSingleExample: (reconstruction: [Double], klMonteCarlo: [Double]) = ([], [])

        let chunk = max(1, min(Self.evaluationChunk, chosen.count))
        let batch = Matrix<T>(rows: chunk, columns: inputSize)
        let w = workspace(examples: chunk, samples: samples)
        var start = 0
        while start < chosen.count {
            if shouldStop() { return nil }
            let rows = min(chunk, chosen.count - start)
            source.fillBatch(chosen[start..<start + rows], into: batch, epoch: 0)
            forwardPass(batch, rows: rows, workspace: w, noise: &noise, examples: chosen[start..<start + rows],
                        likelihoodGradientScale: nil)
            for n in 0..<rows {
                var logLikelihood = 0.0, monteCarlo = 0.0
                for s in 0..<samples {
                    logLikelihood += Double(w.logLikelihood.pointer[n * samples + s])
                    monteCarlo += Double(w.klMonteCarlo.pointer[n * samples + s])
                }
                reconstruction.append(logLikelihood / Double(samples))
                klMonteCarlo.append(monteCarlo / Double(samples))
                kl.append(Double(w.klAnalytic.pointer[n]))
            }
            if chosen.count == 1 {
                drawsOfSingleExample = ((0..<samples).map { Double(w.logLikelihood.pointer[$0]) },
                                        (0..<samples).map { Double(w.klMonteCarlo.pointer[$0]) })
            }
            start += rows
        }

        // The ELBO's mean is recon − KL of the means, not the mean of the differences (which can
        // differ in the last bit), so `recon - kl == elbo` holds exactly for whoever prints them;
        // its standard error comes from the per-example differences.
        let reconstructionEstimate = Estimate(values: reconstruction), klEstimate = Estimate(values: kl)
        let elbo = Estimate(mean: reconstructionEstimate.mean - klEstimate.mean,
                            standardError: Estimate(values: zip(reconstruction, kl).map { $0 - $1 }).standardError)
        var terms = ELBOTerms(
            reconstruction: reconstructionEstimate, kl: klEstimate,
            klMonteCarlo: Estimate(values: klMonteCarlo), elbo: elbo,
            loss: -elbo, examples: chosen.count, samples: samples,
            perExample: keepPerExample ? PerExampleTerms(reconstruction: reconstruction, kl: kl, klMonteCarlo: klMonteCarlo) : nil)
        if chosen.count == 1 {
            // One example: the only noise is Monte-Carlo, over its S draws; the closed-form KL has none.
            let recon = Estimate(values: drawsOfSingleExample.reconstruction)
            terms.reconstruction = recon
            terms.klMonteCarlo = Estimate(values: drawsOfSingleExample.klMonteCarlo)
            terms.kl.standardError = 0
            terms.elbo.standardError = recon.standardError
            terms.loss.standardError = recon.standardError
        }
        return terms
    }
}

// MARK: - One example's posterior

/// The encoder's q(z|x) = N(μ, diag σ²) for one example.
public struct Posterior<T: VAEScalar>: Sendable {
    /// μ (Z).
    public var mean: [T]
    /// log σ² (Z), after the clamp the model applies.
    public var logVariance: [T]
}

extension VAE {
    /// q(z|x) for example `index` of `source`.
    public func posterior(_ source: any ExampleSource, index: Int) -> Posterior<T> {
        let x = Matrix<T>(rows: 1, columns: inputSize)
        source.fillBatch([index], into: x, epoch: 0)
        let w = workspace(examples: 1, samples: 1)
        var unused = NoiseFiller(.fresh(RandomSource(seed: 0)))  // the posterior needs no ε; the pass draws one anyway
        forwardPass(x, rows: 1, workspace: w, noise: &unused, likelihoodGradientScale: nil)
        let head = w.encoder.output.row(0)
        return Posterior(mean: Array(head[0..<latentSize]), logVariance: Array(head[latentSize..<2 * latentSize]))
    }
}
