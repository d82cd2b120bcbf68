import RealModule

// What a number in a training log can be. Codebases print the same objective in many ways: with
// either sign, reduced over the batch and the pixels in different ways, one of its terms alone, and
// with the binary cross-entropy computed from logits or from probabilities. Every such convention
// is a linear combination of four per-example parts (`ObjectivePart`), so the engine measures the
// parts once, on the same examples and the same draws of z (`ObjectiveDraws`), and every
// convention is computed from that one measurement: two conventions that share a part share its
// noise, and their difference is exact.
//
// Whether a logged number matches a convention is a question about its noise. The model used
// (`LoggedNumber`, `ConventionSpread.standardError`) is stated once, here:
//   the number is the convention's value on one batch of B examples drawn at random from the
//   split, one draw of z each, printed to some digits. A per-example average over the batch has
//   variance (σ²_b·(N − B)/(N − 1) + σ²_mc)/B: σ²_b the spread between examples (none left when
//   the batch is the whole split of N), σ²_mc the Monte-Carlo spread of one draw of z; a sum over
//   the batch has B² times that. Our own estimate, over n examples with S draws each, adds
//   σ²_b·(N − n)/((N − 1)·n) + σ²_mc/(n·S), and the printed digits add a uniform rounding error.
// Shapes: n examples, S draws each, D values per example, Z latent dimensions.

/// One of the per-example quantities the conventions combine, each in nats and summed over its
/// dimension.
public enum ObjectivePart: Int, CaseIterable, Sendable {
    /// −log p(x|z) summed over the D values, as the model's likelihood computes it: for a
    /// Bernoulli decoder the binary cross-entropy from logits, exact (no clamp).
    case reconstruction
    /// PyTorch's `F.binary_cross_entropy` on float32 probabilities σ(logits), summed over the D
    /// values: each log clamped at −100 (Bernoulli decoders only; NaN otherwise).
    case probabilityBCE
    /// Σ_d (x̂_d − x_d)², x̂ the decoder's mean (σ(logits) for a Bernoulli decoder).
    case squaredError
    /// KL(q(z|x) ‖ p(z)) in closed form, summed over the Z latent dimensions.
    case kl
}

/// The binary cross-entropy −[x·log p + (1 − x)·log(1 − p)] of one value, the two ways codebases
/// compute it.
public enum BinaryCrossEntropy {
    /// From the logit l, exactly: softplus(l) − x·l = max(l, 0) − x·l + log1p(e^−|l|), what
    /// `F.binary_cross_entropy_with_logits` and the engine's Bernoulli likelihood compute.
    public static func fromLogit(_ logit: Double, target x: Double) -> Double {
        max(logit, 0) - x * logit + Double.log(onePlus: Double.exp(-abs(logit)))
    }

    /// PyTorch's floor for each logarithm in `F.binary_cross_entropy`, so that p = 0 or 1 costs
    /// 100 nats instead of infinity.
    public static let torchLogFloor = -100.0

    /// As PyTorch's `F.binary_cross_entropy` computes it from a probability (ATen's CPU kernel,
    /// in float32 for a float32 tensor): (x − 1)·max(log1p(−p), −100) − x·max(log p, −100). On a
    /// saturated p it differs from the logits form: p = 1 with x = 0 costs 100 nats, however
    /// large the logit.
    public static func torch(probability p: Double, target x: Double) -> Double {
        let p = Float(p), x = Float(x), floor = Float(torchLogFloor)
        // A term whose weight is 0 is 0 (its log is clamped, never −∞), so it is not computed:
        // most pixels of MNIST are exactly 0, and this halves the logarithms.
        let absent = x == 1 ? 0 : (x - 1) * max(Float.log(onePlus: -p), floor)
        let present = x == 0 ? 0 : x * max(Float.log(p), floor)
        return Double(absent - present)
    }

    /// σ(l) as a float32 PyTorch model outputs it: 1/(1 + e^−l) in float32, exactly 1 from
    /// l ≈ 16.64 and exactly 0 below l ≈ −88.72, where `torch.sigmoid` saturates too (elsewhere
    /// the two agree to a few units in the last place). The saturated values are the ones whose
    /// logarithm PyTorch clamps.
    public static func float32Probability(logit: Double) -> Double {
        Double(1 / (1 + Float.exp(-Float(logit))))
    }
}

/// Every part of the objective at every draw of z for a set of examples: n examples, S draws each.
public struct ObjectiveDraws: Sendable, Equatable {
    /// n: examples measured.
    public let examples: Int
    /// S: draws of z per example.
    public let samples: Int
    /// D: values per example.
    public let dimension: Int
    /// Z: latent dimensions.
    public let latentSize: Int
    public let likelihood: Likelihood
    /// Per part, (n·S) values; draw s of example i at i·S + s.
    let values: [[Double]]
    /// log q(z|x) − log p(z) at each draw (n·S): the Monte-Carlo KL some codebases log.
    let klMonteCarlo: [Double]

    /// The part's value at every draw, draw s of example i at i·S + s.
    public func values(of part: ObjectivePart) -> [Double] { values[part.rawValue] }

    /// The mean per example of Σ weight·part, over every example and draw.
    public func mean(_ weights: [ObjectivePart: Double]) -> Double {
        let draws = examples * samples, dense = Self.dense(weights)
        var sum = 0.0
        for r in 0..<draws { sum += combined(dense, draw: r, monteCarloKL: false) }
        return sum / Double(draws)
    }

    /// The weights as one number per part, in `ObjectivePart` order (absent parts weigh 0).
    static func dense(_ weights: [ObjectivePart: Double]) -> [Double] {
        ObjectivePart.allCases.map { weights[$0] ?? 0 }
    }

    /// Σ weight·part at draw r, for `dense` weights; with `monteCarloKL` the KL is the estimate at that draw.
    func combined(_ dense: [Double], draw r: Int, monteCarloKL: Bool) -> Double {
        var value = 0.0
        for part in ObjectivePart.allCases where dense[part.rawValue] != 0 {
            value += dense[part.rawValue] * (part == .kl && monteCarloKL ? klMonteCarlo[r] : values[part.rawValue][r])
        }
        return value
    }
}

// MARK: - The measurement

extension VAE {
    /// Examples per pass: bounds the scratch memory at about chunk·S·(D + hidden) scalars.
    static var conventionChunk: Int { 250 }

    /// Every part of the objective for `indices` of `source` (all when nil), with S = `samples`
    /// draws of z per example from `draws` (with common random numbers, draw s of an example is
    /// the one `evaluate` uses): one measurement every convention is computed from. Uses only the
    /// model's public passes (`encodeMean`, `decodeMean`) and its likelihood. Returns nil when
    /// `shouldStop` answers true between chunks.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func objectiveDraws(_ source: any ExampleSource, indices: [Int]? = nil, samples: Int,
                               draws: Draws, shouldStop: () -> Bool = { false }) throws(ModelError) -> ObjectiveDraws? {
        precondition(samples >= 1, "objectiveDraws: samples must be at least 1")
        precondition(source.dimension == inputSize, "objectiveDraws: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        let latent = latentSize, dimension = inputSize, likelihood = architecture.likelihood
        let rawOutput = try rawOutputModel()
        let logVarianceX = likelihood == .gaussianLearned
            ? parameters.slot(named: "logvar_x").map { UnsafePointer(parameters.values.pointer + $0.offset) } : nil

        var noise = NoiseFiller(draws)
        let chunk = max(1, min(Self.conventionChunk, chosen.count))
        let x = Matrix<T>(rows: chunk, columns: dimension)                      // (chunk, D)
        let epsilon = Matrix<T>(rows: chunk * samples, columns: latent)         // (chunk·S, Z)
        let z = Matrix<T>(rows: chunk * samples, columns: latent)               // (chunk·S, Z)
        let perDraw = Matrix<Double>(rows: chunk * samples, columns: 5)         // the four parts and the MC KL
        var columns = [[Double]](repeating: [], count: 5)
        for c in columns.indices { columns[c].reserveCapacity(chosen.count * samples) }

        var start = 0
        while start < chosen.count {
            if shouldStop() { return nil }
            let rows = min(chunk, chosen.count - start), drawCount = rows * samples
            source.fillBatch(chosen[start..<start + rows], into: x, epoch: 0)
            let (mean, logVariance) = encodeMean(x, rows: rows)                 // (rows, Z) each
            // ε ~ N(0, I) in (example, draw, dimension) order, then z = μ + σ ⊙ ε as the model forms it.
            noise.fill(epsilon.pointer, rows: rows, samples: samples, latent: latent, examples: chosen[start..<start + rows], firstDraw: 0)
            for r in 0..<drawCount {
                let n = r / samples
                for j in 0..<latent {
                    let sigma = T.exp(logVariance.pointer[n * latent + j] / 2)
                    z.pointer[r * latent + j] = mean.pointer[n * latent + j] + sigma * epsilon.pointer[r * latent + j]
                }
            }
            let output = rawOutput.decodeMean(z, rows: drawCount)               // (rows·S, D): logits or means
            let parts = Parallel.parts(flops: 40 * drawCount * dimension)
            Parallel.run(parts) { part in
                for r in Parallel.slice(0..<drawCount, part: part, of: parts) {
                    let n = r / samples
                    let row = perDraw.pointer + r * 5
                    let out = output.pointer + r * dimension, target = x.pointer + n * dimension
                    row[0] = -Double(likelihood.logLikelihood(output: out, target: target, dimension: dimension, logVariance: logVarianceX,
                                                              dOutput: nil, dLogVariance: nil, scale: 0))
                    var bce = 0.0, squares = 0.0
                    for d in 0..<dimension {
                        let value = Double(target[d])
                        if likelihood == .bernoulli {
                            let p = BinaryCrossEntropy.float32Probability(logit: Double(out[d]))
                            bce += BinaryCrossEntropy.torch(probability: p, target: value)
                            squares += (p - value) * (p - value)
                        } else {
                            squares += (Double(out[d]) - value) * (Double(out[d]) - value)
                        }
                    }
                    row[1] = likelihood == .bernoulli ? bce : .nan
                    row[2] = squares
                    let mu = UnsafePointer(mean.pointer + n * latent), logVar = UnsafePointer(logVariance.pointer + n * latent)
                    row[3] = Double(Divergence.klAnalytic(mean: mu, logVariance: logVar, latent: latent))
                    row[4] = Double(Divergence.klMonteCarlo(z: z.pointer + r * latent, epsilon: epsilon.pointer + r * latent,
                                                            logVariance: logVar, latent: latent))
                }
            }
            for r in 0..<drawCount {
                for c in 0..<5 { columns[c].append(perDraw.pointer[r * 5 + c]) }
            }
            start += rows
        }
        return ObjectiveDraws(examples: chosen.count, samples: samples, dimension: dimension, latentSize: latent,
                              likelihood: likelihood, values: Array(columns[0..<4]), klMonteCarlo: columns[4])
    }

    /// The same network with an identity output link, so that its `decodeMean` gives this one's
    /// raw output: the logits of a Bernoulli decoder. A Gaussian decoder's mean is already its raw
    /// output (itself). The public `decodeMean` applies σ, which loses the logits of saturated
    /// pixels, and the layers behind it are not part of the public API.
    func rawOutputModel() throws(ModelError) -> VAE<T> {
        guard architecture.likelihood == .bernoulli else { return self }
        var identityLink = architecture
        identityLink.likelihood = .gaussian(sigma: 1)
        do {
            // The same slots (a fixed-σ Gaussian adds none), buffers included (BatchNorm's running statistics).
            return try VAE<T>(identityLink, values: { Array(self.parameters.values(of: $0)) },
                              buffers: { Array(self.buffers.values(of: $0)) })
        } catch {
            throw .invalidConfiguration(error.message)
        }
    }
}

// MARK: - Noise

/// A convention's per-example value over the measured draws, and the two parts of its spread.
public struct ConventionSpread: Sendable, Equatable {
    /// The mean per example, over every example and draw.
    public var mean: Double
    /// σ²_b: the variance across examples of an example's expected value.
    public var betweenExamples: Double
    /// σ²_mc: the variance of one draw's value around its example's expected value, averaged over
    /// examples. A whole objective (a reconstruction part and the KL) takes the larger of its
    /// variances with the closed-form and with the Monte-Carlo KL, since a log may hold either
    /// (the TensorFlow tutorial's ELBO uses the draw's); a KL logged alone is the closed form.
    public var monteCarlo: Double

    /// The variance of the convention's value on one batch of `batch` examples of a split of
    /// `splitSize`, one draw each, per example (multiply by B² for a sum over the batch).
    public func batchVariance(batch: Int, splitSize: Int) -> Double {
        betweenExamples * Self.finitePopulation(batch, of: splitSize) / Double(batch) + monteCarlo / Double(batch)
    }

    /// The variance of `mean` as an estimate of the split's mean, from `examples` of a split of
    /// `splitSize` with `samples` draws each, per example.
    public func estimateVariance(examples: Int, samples: Int, splitSize: Int) -> Double {
        betweenExamples * Self.finitePopulation(examples, of: splitSize) / Double(examples)
            + monteCarlo / Double(examples * samples)
    }

    /// (N − B)/(N − 1): a batch of the whole split has no spread between examples left.
    static func finitePopulation(_ count: Int, of total: Int) -> Double {
        total <= 1 || count >= total ? 0 : Double(total - count) / Double(total - 1)
    }
}

extension ObjectiveDraws {
    /// The mean and spread of Σ weight·part. Needs two examples and two draws each, to tell the
    /// spread between examples from the Monte-Carlo spread of z.
    public func spread(_ weights: [ObjectivePart: Double]) -> ConventionSpread {
        precondition(examples >= 2 && samples >= 2, "spread: needs at least two examples and two draws of each")
        let dense = Self.dense(weights)
        let isObjective = dense[ObjectivePart.kl.rawValue] != 0
            && [ObjectivePart.reconstruction, .probabilityBCE, .squaredError].contains { dense[$0.rawValue] != 0 }
        var exampleMeans = [Double](repeating: 0, count: examples)
        var within = 0.0, withinMonteCarloKL = 0.0
        /// The mean of an example's S draws and their sample variance (two passes, no storage).
        func moments(_ n: Int, monteCarloKL: Bool) -> (mean: Double, variance: Double) {
            var sum = 0.0
            for s in 0..<samples { sum += combined(dense, draw: n * samples + s, monteCarloKL: monteCarloKL) }
            let m = sum / Double(samples)
            var squares = 0.0
            for s in 0..<samples {
                let deviation = combined(dense, draw: n * samples + s, monteCarloKL: monteCarloKL) - m
                squares += deviation * deviation
            }
            return (m, squares / Double(samples - 1))
        }
        for n in 0..<examples {
            let closedForm = moments(n, monteCarloKL: false)
            exampleMeans[n] = closedForm.mean
            within += closedForm.variance
            if isObjective { withinMonteCarloKL += moments(n, monteCarloKL: true).variance }
        }
        within /= Double(examples)
        withinMonteCarloKL /= Double(examples)
        let mean = exampleMeans.reduce(0, +) / Double(examples)
        let variance = exampleMeans.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(examples - 1)
        // The example means carry 1/S of the Monte-Carlo variance; what is left is between examples.
        return ConventionSpread(mean: mean, betweenExamples: max(0, variance - within / Double(samples)),
                                monteCarlo: max(within, withinMonteCarloKL))
    }
}

// MARK: - Identification

/// A number from someone's log, and how it is assumed to have arisen.
public struct LoggedNumber: Sendable, Equatable {
    public var value: Double
    /// Half a unit in the last digit printed (0.00005 for 0.1347), 0 for an exact value.
    public var rounding: Double
    /// B: the examples it was computed on, one draw of z each (the split's size for an average
    /// over the whole split).
    public var batch: Int

    public init(value: Double, rounding: Double = 0, batch: Int) {
        self.value = value
        self.rounding = rounding
        self.batch = batch
    }

    /// The relative round-off allowed between the log's float32 arithmetic and ours (sums of
    /// thousands of float32 terms agree to about this).
    public static let relativeRoundOff = 1e-5
}

/// One convention's value on this model, and how far the logged number is from it.
public struct ConventionMatch: Sendable, Equatable {
    public var convention: Convention
    /// What a log following the convention shows, in expectation, for the batch.
    public var value: Double
    /// The standard error of (the logged number − `value`): the batch's sampling spread, the
    /// Monte-Carlo noise of z, this estimate's own error, the printed digits and round-off.
    public var standardError: Double
    /// (number − value) / standardError.
    public var distance: Double
    public var isMatch: Bool
}

/// Every convention's value beside a logged number, closest first.
public struct Identification: Sendable, Equatable {
    public var number: LoggedNumber
    /// Standard errors within which a convention matches (unless a tolerance is given).
    public static let threshold = 3.0
    /// When given, a convention matches when |number − value| ≤ tolerance instead.
    public var tolerance: Double?
    /// Closest first: by distance in standard errors, or by |number − value| under a tolerance.
    public var candidates: [ConventionMatch]
    /// β such that the number is the per-example β-loss reconstruction + β·KL (nil without a KL).
    public var impliedBeta: Double?
    /// B such that the number is the loss summed over a batch of B (nil unless it is above one).
    public var impliedBatch: Double?

    public var matches: [ConventionMatch] { candidates.filter(\.isMatch) }
}

extension ObjectiveDraws {
    /// Compares `number` with every one of `conventions` on these draws, which come from a split
    /// of `splitSize` examples; matches are within `Identification.threshold` standard errors, or
    /// within `tolerance` when it is given.
    public func identify(_ number: LoggedNumber, among conventions: [Convention], splitSize: Int,
                         tolerance: Double? = nil) -> Identification {
        let batch = Double(number.batch)
        let roundingVariance = number.rounding * number.rounding / 3   // uniform on ±rounding
        var candidates: [ConventionMatch] = []
        for convention in conventions {
            let spread = spread(convention.weights)
            let scale = convention.summedOverBatch ? batch : 1
            let value = scale * spread.mean
            let roundOff = LoggedNumber.relativeRoundOff * abs(value)
            let variance = scale * scale * (spread.batchVariance(batch: number.batch, splitSize: splitSize)
                                            + spread.estimateVariance(examples: examples, samples: samples, splitSize: splitSize))
                + roundingVariance + roundOff * roundOff
            let standardError = variance.squareRoot()
            let difference = number.value - value
            let distance = difference == 0 ? 0 : standardError > 0 ? difference / standardError : (difference > 0 ? .infinity : -.infinity)
            let isMatch = tolerance.map { abs(difference) <= $0 } ?? (abs(distance) <= Identification.threshold)
            candidates.append(ConventionMatch(convention: convention, value: value, standardError: standardError,
                                              distance: distance, isMatch: isMatch))
        }
        if tolerance != nil {
            candidates.sort { abs(number.value - $0.value) < abs(number.value - $1.value) }
        } else {
            candidates.sort { abs($0.distance) < abs($1.distance) }
        }
        let reconstruction = mean([.reconstruction: 1]), kl = mean([.kl: 1])
        let loss = reconstruction + kl
        let beta = kl > 0 ? (number.value - reconstruction) / kl : nil
        let impliedBatch = loss > 0 && number.value / loss > 1 ? number.value / loss : nil
        return Identification(number: number, tolerance: tolerance, candidates: candidates,
                              impliedBeta: beta, impliedBatch: impliedBatch)
    }
}
