import RealModule
import Testing
@testable import VAEKit

/// The conventions behind `whatis`, in Double: the parts of the objective measured on one set of
/// draws, computed by hand where the decoder ignores z; the noise model checked against repeated
/// batches; and the identification of numbers, near-collisions included.
@Suite("Conventions of a logged number")
struct ConventionTests {
    static let configuration = VAEConfiguration(inputSize: 12, encoderHidden: [8], latentSize: 3)
    static let data: Matrix<Double> = syntheticImages(count: 600, dimension: 12, seed: 9).converted()

    static func model(seed: UInt64 = 4) throws -> VAE<Double> {
        var random = RandomSource(seed: seed)
        return try VAE<Double>(configuration, random: &random)
    }

    static func draws(_ model: VAE<Double>, indices: [Int]? = nil, samples: Int = 2, seed: UInt64 = 1) throws -> ObjectiveDraws {
        try #require(try model.objectiveDraws(data, indices: indices, samples: samples, draws: .fresh(RandomSource(seed: seed))))
    }

    // MARK: - The parts, by hand

    /// A decoder that ignores z (output weights 0) emits its bias as the logits, so every part is
    /// known by hand: logits 30 and −120 saturate σ to 1 and 0 in float32, where PyTorch's BCE on
    /// probabilities pays its floor of 100 nats and the exact form pays the logit.
    @Test func partsByHandOnASaturatedDecoder() throws {
        var random = RandomSource(seed: 2)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 4, encoderHidden: [3], latentSize: 2), random: &random)
        let weight = try #require(model.parameters.slot(named: "fc4.weight"))
        let bias = try #require(model.parameters.slot(named: "fc4.bias"))
        model.parameters.values(of: weight).update(repeating: 0)
        _ = model.parameters.values(of: bias).update(fromContentsOf: [30, -120, 0, 2])
        let x = Matrix<Double>(rows: 2, columns: 4, elements: [0, 1, 0.5, 1,
                                                               1, 0, 0.5, 0])
        let draws = try #require(try model.objectiveDraws(x, samples: 3, draws: .fresh(RandomSource(seed: 3))))
        let sigmoid2 = 1 / (1 + Double.exp(-2)), log2 = Double.log(2), tail = Double.log(onePlus: Double.exp(-2))
        let exact = [150 + log2 + tail, log2 + 2 + tail]
        let torch = [200 + log2 + tail, log2 + 2 + tail]
        let squares = [2 + (1 - sigmoid2) * (1 - sigmoid2), sigmoid2 * sigmoid2]
        for n in 0..<2 {
            let posterior = model.posterior(x, index: n)
            let kl = Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance).reduce(0, +)
            for s in 0..<3 {
                let r = n * 3 + s
                #expect(abs(draws.values(of: .reconstruction)[r] - exact[n]) <= 1e-12 * exact[n])
                // float32 probabilities: σ(2) is rounded to float32 before its logarithm.
                #expect(abs(draws.values(of: .probabilityBCE)[r] - torch[n]) <= 1e-6)
                #expect(abs(draws.values(of: .squaredError)[r] - squares[n]) <= 1e-6)
                #expect(abs(draws.values(of: .kl)[r] - kl) <= 1e-12 * max(1, kl))
            }
        }
        // The two BCEs differ by exactly what the clamp does: 100 − 30 for x = 0 at logit 30,
        // 100 − 120 for x = 1 at logit −120.
        #expect(abs(draws.mean([.probabilityBCE: 1, .reconstruction: -1]) - 25) <= 1e-6)
    }

    @Test func binaryCrossEntropyForms() {
        #expect(BinaryCrossEntropy.torch(probability: 1, target: 0) == 100)
        #expect(BinaryCrossEntropy.torch(probability: 0, target: 1) == 100)
        #expect(BinaryCrossEntropy.torch(probability: 1, target: 1) == 0)
        #expect(abs(BinaryCrossEntropy.fromLogit(30, target: 0) - 30) <= 1e-12)
        #expect(abs(BinaryCrossEntropy.fromLogit(-120, target: 1) - 120) <= 1e-12)
        #expect(BinaryCrossEntropy.float32Probability(logit: 16.64) == 1)
        #expect(BinaryCrossEntropy.float32Probability(logit: 16.6) < 1)
        #expect(BinaryCrossEntropy.float32Probability(logit: -88.73) == 0)
        #expect(BinaryCrossEntropy.float32Probability(logit: -88.7) > 0)
        // Unsaturated, the forms differ only by the float32 rounding of p: half an ulp of p is
        // relative to min(p, 1 − p) in the logarithm that matters, so near p = 1 (logits above
        // about 10) the probability form loses digits well before it saturates.
        for logit in stride(from: -15.0, through: 15.0, by: 0.5) {
            let p = BinaryCrossEntropy.float32Probability(logit: logit)
            for target in [0, 0.3, 1.0] {
                let difference = BinaryCrossEntropy.torch(probability: p, target: target) - BinaryCrossEntropy.fromLogit(logit, target: target)
                #expect(abs(difference) <= 1e-7 / min(p, 1 - p), "logit \(logit): \(difference)")
            }
        }
        let p15 = BinaryCrossEntropy.float32Probability(logit: 15)
        #expect(abs(BinaryCrossEntropy.torch(probability: p15, target: 0) - BinaryCrossEntropy.fromLogit(15, target: 0)) > 0.1,
                "at logit 15 float32 keeps 1 − p to one digit")
    }

    /// With common random numbers the parts are `evaluate`'s own terms, example by example: the
    /// same ε, the same z, the same likelihood (the passes differ only in how BLAS splits their
    /// products: 1e-9 relative in Double).
    @Test func partsAreEvaluatesTermsOnCommonDraws() throws {
        let model = try Self.model()
        let indices = Array(0..<40).map { $0 * 7 }
        let draws = try #require(try model.objectiveDraws(Self.data, indices: indices, samples: 3, draws: .common(seed: 5)))
        let terms = try #require(model.evaluate(Self.data, indices: indices, samples: 3, draws: .common(seed: 5), keepPerExample: true))
        let perExample = try #require(terms.perExample)
        for n in indices.indices {
            let reconstruction = (0..<3).map { draws.values(of: .reconstruction)[n * 3 + $0] }.reduce(0, +) / 3
            let klMonteCarlo = (0..<3).map { draws.klMonteCarlo[n * 3 + $0] }.reduce(0, +) / 3
            #expect(abs(-reconstruction - perExample.reconstruction[n]) <= 1e-9 * abs(reconstruction))
            #expect(abs(klMonteCarlo - perExample.klMonteCarlo[n]) <= 1e-9 * max(1, abs(klMonteCarlo)))
            #expect(abs(draws.values(of: .kl)[n * 3] - perExample.kl[n]) <= 1e-12 * max(1, perExample.kl[n]))
        }
        // Unsaturated: the two BCEs agree to float32 rounding of the probabilities.
        #expect(abs(draws.mean([.probabilityBCE: 1]) - draws.mean([.reconstruction: 1])) <= 1e-5 * draws.mean([.reconstruction: 1]))
    }

    /// Fresh draws are new draws: the reconstruction's mean moves by Monte-Carlo noise only
    /// (within 4 standard errors of the difference of two independent estimates).
    @Test func freshDrawsDifferByMonteCarloNoise() throws {
        let model = try Self.model()
        let first = try Self.draws(model, indices: Array(0..<40), samples: 200, seed: 1)
        let second = try Self.draws(model, indices: Array(0..<40), samples: 200, seed: 2)
        #expect(first.values(of: .reconstruction) != second.values(of: .reconstruction))
        let monteCarlo = first.spread([.reconstruction: 1]).monteCarlo
        let difference = first.mean([.reconstruction: 1]) - second.mean([.reconstruction: 1])
        #expect(abs(difference) <= 4 * (2 * monteCarlo / Double(40 * 200)).squareRoot())
        #expect(first.mean([.kl: 1]) == second.mean([.kl: 1]), "the closed-form KL has no noise")
    }

    /// Every convention comes from the same draws, so the relations between them are exact.
    @Test func conventionsAreConsistentWithEachOther() throws {
        let draws = try Self.draws(Self.model(), indices: Array(0..<50))
        let setting = ConventionSetting(dimension: 12, latentSize: 3, likelihood: .bernoulli, batch: 16, beta: 4)
        let number = LoggedNumber(value: 0, batch: 16)
        let values = Dictionary(uniqueKeysWithValues: draws.identify(number, among: Convention.catalogue(setting), splitSize: 600)
            .candidates.map { ($0.convention.id, $0.value) })
        func value(_ id: String) throws -> Double { try #require(values[id], "\(id) missing") }
        let loss = try value("loss")
        #expect(abs(loss - (try value("rec") + value("kl"))) <= 1e-12 * loss)
        #expect(try value("elbo") == -loss)
        #expect(abs(try value("loss_batch") - 16 * loss) <= 1e-12 * loss)
        #expect(abs(try value("loss_pixels") - loss / 12) <= 1e-12 * loss)
        #expect(abs(try value("bits_per_dim") - loss / (12 * Double.log(2))) <= 1e-12 * loss)
        #expect(abs(try value("mean_rec_plus_kl") - (try value("rec") / 12 + value("kl"))) <= 1e-12 * loss)
        #expect(abs(try value("kl_latent_mean") - (try value("kl")) / 3) <= 1e-12)
        #expect(abs(try value("beta_loss") - (try value("rec") + 4 * value("kl"))) <= 1e-12 * loss)
        #expect(abs(try value("recon") + value("rec")) == 0)
        #expect(abs(try value("mse") - (try value("sse")) / 12) <= 1e-12)
    }

    // MARK: - The noise model

    /// The batch variance the model predicts is the variance of real batches: 1,500 batches of 16
    /// examples, one fresh draw each, for a part whose noise is mostly Monte Carlo (the
    /// reconstruction of this untrained model) and one whose noise is mostly between examples (the
    /// squared error). The predicted sd comes from 600 examples with 2 draws (its variance
    /// components a few percent off), the empirical one from 1,500 values (relative standard error
    /// 1.8%): 12% is about 4 standard errors of their ratio.
    @Test(arguments: [ObjectivePart.reconstruction, .squaredError])
    func batchSpreadMatchesRepeatedBatches(_ part: ObjectivePart) throws {
        let model = try Self.model()
        let draws = try Self.draws(model)
        let weights: [ObjectivePart: Double] = [part: 1]
        let spread = draws.spread(weights)
        #expect(spread.betweenExamples > 0 && spread.monteCarlo > 0)
        var random = RandomSource(seed: 77)
        var values: [Double] = []
        for m in 0..<1500 {
            let batch = Array(random.permutation(600).prefix(16))
            let single = try #require(try model.objectiveDraws(Self.data, indices: batch, samples: 1,
                                                               draws: .fresh(RandomSource(seed: 10_000 + UInt64(m)))))
            values.append(single.mean(weights))
        }
        let empirical = Self.standardDeviation(values)
        let predicted = spread.batchVariance(batch: 16, splitSize: 600).squareRoot()
        #expect(abs(empirical / predicted - 1) <= 0.12, "empirical sd \(empirical), predicted \(predicted); σ²_b \(spread.betweenExamples), σ²_mc \(spread.monteCarlo)")
    }

    /// An average over the whole split keeps only the Monte-Carlo noise: σ_mc/√N, not the spread
    /// between examples (300 repeats: relative standard error 4%; 20% is 4 of them with the
    /// estimate's own error).
    @Test func averageOverTheWholeSplitHasOnlyMonteCarloNoise() throws {
        let model = try Self.model()
        let spread = try Self.draws(model).spread([.reconstruction: 1])
        var values: [Double] = []
        for m in 0..<300 {
            let single = try #require(try model.objectiveDraws(Self.data, samples: 1, draws: .fresh(RandomSource(seed: 20_000 + UInt64(m)))))
            values.append(single.mean([.reconstruction: 1]))
        }
        let predicted = spread.batchVariance(batch: 600, splitSize: 600).squareRoot()
        #expect(abs(predicted - (spread.monteCarlo / 600).squareRoot()) <= 1e-15)
        #expect(abs(Self.standardDeviation(values) / predicted - 1) <= 0.2)
        #expect(predicted < 0.5 * spread.batchVariance(batch: 16, splitSize: 600).squareRoot())
    }

    /// Our estimate's own variance over n examples with S draws each: repeated estimates on the
    /// whole split (300 repeats, 20% as above).
    @Test func estimateVarianceMatchesRepeatedEstimates() throws {
        let model = try Self.model()
        let spread = try Self.draws(model).spread([.reconstruction: 1])
        var means: [Double] = []
        for seed in 100..<400 {
            means.append(try Self.draws(model, seed: UInt64(seed)).mean([.reconstruction: 1]))
        }
        let predicted = spread.estimateVariance(examples: 600, samples: 2, splitSize: 600).squareRoot()
        #expect(abs(Self.standardDeviation(means) / predicted - 1) <= 0.2)
    }

    /// A whole objective may be logged with the Monte-Carlo KL at the draw (the TensorFlow
    /// tutorial's ELBO), so its noise allows for that; a KL logged alone is the closed form, which
    /// has no Monte-Carlo noise.
    @Test func anObjectivesNoiseAllowsForTheMonteCarloKL() throws {
        let draws = try Self.draws(Self.model())
        #expect(draws.spread([.kl: 1]).monteCarlo == 0)
        // With two draws, the within-example variance is (g₁ − g₂)²/2 on average.
        func within(_ value: (Int) -> Double) -> Double {
            (0..<draws.examples).map { n in (value(2 * n) - value(2 * n + 1)) * (value(2 * n) - value(2 * n + 1)) / 2 }
                .reduce(0, +) / Double(draws.examples)
        }
        let rec = draws.values(of: .reconstruction), kl = draws.values(of: .kl)
        let closedForm = within { rec[$0] + kl[$0] }, monteCarlo = within { rec[$0] + draws.klMonteCarlo[$0] }
        #expect(monteCarlo > closedForm, "the draw's KL adds noise")
        #expect(abs(draws.spread([.reconstruction: 1, .kl: 1]).monteCarlo - max(closedForm, monteCarlo)) <= 1e-12 * monteCarlo)
    }

    // MARK: - Identification

    @Test func aConventionsOwnValueIsIdentifiedAndFarOnesAreNot() throws {
        let draws = try Self.draws(Self.model(), indices: Array(0..<200))
        let catalogue = Convention.catalogue(ConventionSetting(dimension: 12, latentSize: 3, likelihood: .bernoulli, batch: 16))
        let loss = draws.mean([.reconstruction: 1, .kl: 1])
        let summed = draws.identify(LoggedNumber(value: 16 * loss, batch: 16), among: catalogue, splitSize: 600)
        let ids = summed.matches.map(\.convention.id)
        #expect(ids.contains("loss_batch") && ids.contains("loss_torch_batch"), "\(ids)")
        #expect(!ids.contains("loss") && !ids.contains("elbo_batch"))
        let best = try #require(summed.matches.first)
        #expect(abs(best.distance) <= 1e-3)

        // Five standard errors off: no longer the same quantity; 2.5 off: still it.
        let standardError = try #require(summed.candidates.first { $0.convention.id == "loss_batch" }).standardError
        let far = draws.identify(LoggedNumber(value: 16 * loss + 5 * standardError, batch: 16), among: catalogue, splitSize: 600)
        #expect(!far.matches.map(\.convention.id).contains("loss_batch"))
        let near = draws.identify(LoggedNumber(value: 16 * loss + 2.5 * standardError, batch: 16), among: catalogue, splitSize: 600)
        #expect(near.matches.map(\.convention.id).contains("loss_batch"))
        #expect(abs(try #require(near.candidates.first { $0.convention.id == "loss_batch" }).distance - 2.5) <= 1e-9)
        #expect(abs(try #require(summed.impliedBatch) - 16) <= 1e-9)
    }

    /// Two conventions whose values are within noise of each other are both listed, closest first.
    @Test func nearCollisionsListBoth() throws {
        let draws = try Self.draws(Self.model(), indices: Array(0..<200))
        let catalogue = Convention.catalogue(ConventionSetting(dimension: 12, latentSize: 3, likelihood: .bernoulli, batch: 16))
        let rec = draws.mean([.reconstruction: 1]), kl = draws.mean([.kl: 1])
        // Halfway between the reconstruction loss and the loss: on a batch of 16 neither can be ruled out.
        let identification = draws.identify(LoggedNumber(value: rec + kl / 2, batch: 16), among: catalogue, splitSize: 600)
        let ids = identification.matches.map(\.convention.id)
        #expect(ids.contains("rec") && ids.contains("loss"), "\(ids)")
        let distances = identification.candidates.map { abs($0.distance) }
        #expect(distances == distances.sorted())
        // Under a tolerance of a quarter of the KL, the same number is neither.
        let strict = draws.identify(LoggedNumber(value: rec + kl / 2, batch: 16), among: catalogue, splitSize: 600, tolerance: kl / 4)
        #expect(!strict.matches.map(\.convention.id).contains("rec") && !strict.matches.map(\.convention.id).contains("loss"))
        #expect(abs(try #require(strict.impliedBeta) - 0.5) <= 1e-9)
    }

    /// The printed digits widen the match (a number printed as 105 may be anything in
    /// [104.5, 105.5]), and a tolerance replaces the standard errors.
    @Test func roundingAndToleranceWidenTheMatch() throws {
        let draws = try Self.draws(Self.model(), indices: Array(0..<200))
        let catalogue = Convention.catalogue(ConventionSetting(dimension: 12, latentSize: 3, likelihood: .bernoulli, batch: 16))
        func loss(_ identification: Identification) throws -> ConventionMatch {
            try #require(identification.candidates.first { $0.convention.id == "loss_batch" })
        }
        let value = try loss(draws.identify(LoggedNumber(value: 0, batch: 16), among: catalogue, splitSize: 600))
        let offset = 4 * value.standardError
        let exact = try loss(draws.identify(LoggedNumber(value: value.value + offset, batch: 16), among: catalogue, splitSize: 600))
        #expect(!exact.isMatch && abs(exact.distance - 4) <= 1e-6)
        // Printed to ±offset: the rounding's standard deviation offset/√3 joins the standard error.
        let rounded = try loss(draws.identify(LoggedNumber(value: value.value + offset, rounding: offset, batch: 16),
                                              among: catalogue, splitSize: 600))
        #expect(rounded.isMatch)
        #expect(abs(rounded.standardError - (value.standardError * value.standardError + offset * offset / 3).squareRoot()) <= 1e-9 * offset)
        let tolerant = draws.identify(LoggedNumber(value: value.value + offset, batch: 16), among: catalogue, splitSize: 600, tolerance: 1.01 * offset)
        #expect(try loss(tolerant).isMatch)
        let differences = tolerant.candidates.map { abs($0.value - (value.value + offset)) }
        #expect(differences == differences.sorted(), "under a tolerance, closest by value")
        let strict = draws.identify(LoggedNumber(value: value.value + offset, batch: 16), among: catalogue, splitSize: 600, tolerance: 0.99 * offset)
        #expect(try !loss(strict).isMatch)
    }

    // MARK: - The catalogue

    @Test func catalogueIdentifiersAreUniqueAndKnown() {
        let full = Convention.catalogue(ConventionSetting(dimension: 784, latentSize: 20, likelihood: .bernoulli, batch: 128, beta: 4))
        #expect(Set(full.map(\.id)).count == full.count)
        #expect(full.map(\.id) == Convention.allIdentifiers)
        let gaussian = Convention.catalogue(ConventionSetting(dimension: 784, latentSize: 20, likelihood: .gaussian(sigma: 0.1), batch: 128))
        #expect(gaussian.allSatisfy { ($0.weights[.probabilityBCE] ?? 0) == 0 })
        #expect(Set(gaussian.map(\.id)).isSubset(of: Convention.allIdentifiers))
    }

    /// Conventions that coincide for these sizes appear once: a batch of one, one latent, β = 1.
    @Test func coincidingConventionsAppearOnce() {
        let ids = Convention.catalogue(ConventionSetting(dimension: 784, latentSize: 1, likelihood: .bernoulli, batch: 1, beta: 1)).map(\.id)
        #expect(!ids.contains("loss_batch") && !ids.contains("kl_latent_mean") && !ids.contains("beta_loss") && !ids.contains("kl_batch"))
        #expect(ids.contains("loss") && ids.contains("kl"))
    }

    /// Each meaning fits an 80-column line after `whatis`'s 3-space indent.
    @Test func meaningsFitOneLine() {
        for likelihood in [Likelihood.bernoulli, .gaussian(sigma: 0.1)] {
            let catalogue = Convention.catalogue(ConventionSetting(dimension: 3072, latentSize: 128, likelihood: likelihood, batch: 1024, beta: 0.25))
            for convention in catalogue {
                #expect(convention.meaning.count <= 77, "\(convention.id): \(convention.meaning.count) characters")
            }
        }
    }

    static func standardDeviation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }
}
