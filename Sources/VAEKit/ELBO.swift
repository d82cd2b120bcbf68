import RealModule

// The objective of Kingma & Welling (2014), per example x:
//
//   ELBO(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z))   ≤ log p(x)      — maximised
//   loss(x) = −ELBO(x) = −E_q[log p(x|z)] + KL                           — minimised by the optimiser
//
// `reconstruction` below is always E_q[log p(x|z)] (a log-likelihood: larger is better, ≤ 0 for a
// Bernoulli), never its negative (the reconstruction loss; "NLL" is kept for −log p(x), as the
// VAE literature uses it). Nothing here is negated twice: the only minus
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

// MARK: - Evaluation

extension VAE {
    /// Examples per pass when evaluating: 500, or fewer when 500 examples with S draws each would
    /// need more activation memory than `activationBudget`.
    func evaluationChunk(samples: Int) -> Int {
        let bytes = valueBytesPerExample
        let perExample = checkedSum([bytes.encoder, checkedProduct([bytes.decoder, samples]) ?? .max]) ?? .max
        return max(1, min(500, Self.activationBudget / max(1, perExample)))
    }

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
    /// `Draws`). Returns nil when `shouldStop` answers true between chunks; `progress` hears the
    /// fraction done after each chunk (for a progress bar).
    public func evaluate(_ source: any ExampleSource, indices: [Int]? = nil, samples: Int = 1, draws: Draws,
                         keepPerExample: Bool = false, shouldStop: () -> Bool = { false },
                         progress: (Double) -> Void = { _ in }) -> ELBOTerms? {
        var noise = NoiseFiller(draws)
        return evaluate(source, indices: indices, samples: samples, noise: &noise, keepPerExample: keepPerExample,
                        shouldStop: shouldStop, progress: progress)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func evaluate(_ source: any ExampleSource, indices: [Int]?, samples: Int, noise: inout NoiseFiller,
                  keepPerExample: Bool, shouldStop: () -> Bool, progress: (Double) -> Void = { _ in }) -> ELBOTerms? {
        precondition(samples >= 1, "evaluate: samples must be at least 1")
        precondition(source.dimension == inputSize, "evaluate: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        var reconstruction: [Double] = [], kl: [Double] = [], klMonteCarlo: [Double] = []
        reconstruction.reserveCapacity(chosen.count)
        kl.reserveCapacity(chosen.count)
        klMonteCarlo.reserveCapacity(chosen.count)
        var drawsOfSingleExample: (reconstruction: [Double], klMonteCarlo: [Double]) = ([], [])

        let chunk = max(1, min(evaluationChunk(samples: samples), chosen.count))
        let batch = Matrix<T>(rows: chunk, columns: inputSize)
        let w = workspace(examples: chunk, samples: samples, gradients: false)
        var start = 0
        while start < chosen.count {
            if shouldStop() { return nil }
            let rows = min(chunk, chosen.count - start)
            source.fillBatch(chosen[start..<start + rows], into: batch, epoch: 0)
            forwardPass(batch, rows: rows, workspace: w, noise: &noise, examples: chosen[start..<start + rows],
                        likelihoodGradientScale: nil, mode: .evaluation)
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
            progress(Double(start) / Double(chosen.count))
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
        let w = workspace(examples: 1, samples: 1, gradients: false)
        var unused = NoiseFiller(.fresh(RandomSource(seed: 0)))  // the posterior needs no ε; the pass draws one anyway
        forwardPass(x, rows: 1, workspace: w, noise: &unused, likelihoodGradientScale: nil, mode: .evaluation)
        let head = w.encoder.output.row(0)
        return Posterior(mean: Array(head[0..<latentSize]), logVariance: Array(head[latentSize..<2 * latentSize]))
    }
}
