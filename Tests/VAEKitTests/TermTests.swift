import RealModule
import Testing
@testable import VAEKit

/// Golden values computed by hand, and the statistical relations between the terms.
@Suite("Terms of the objective")
struct TermTests {
    @Test func klClosedFormByHand() {
        // μ = (1, −2), log σ² = (0, log 4):  ½[(1 + 1 − 1 − 0) + (4 + 4 − 1 − log 4)] = ½(8 − log 4)
        let mean: [Double] = [1, -2], logVariance: [Double] = [0, Double.log(4)]
        let kl = Divergence.klAnalytic(mean: mean, logVariance: logVariance, latent: 2)
        #expect(abs(kl - (8 - Double.log(4)) / 2) < 1e-14)
        #expect(abs(kl - 3.306852819440055) < 1e-12)
        let perDimension = Divergence.klPerDimension(mean: mean, logVariance: logVariance)
        #expect(abs(perDimension[0] - 0.5) < 1e-14)
        #expect(abs(perDimension.reduce(0, +) - kl) < 1e-14)
    }

    @Test func klIsZeroAtThePriorAndPositiveElsewhere() {
        #expect(Divergence.klAnalytic(mean: [0.0, 0, 0], logVariance: [0.0, 0, 0], latent: 3) == 0)
        var random = RandomSource(seed: 1)
        for _ in 0..<1000 {
            let mean = (0..<4).map { _ in random.uniform(-3, 3) }
            let logVariance = (0..<4).map { _ in random.uniform(-6, 4) }
            #expect(Divergence.klAnalytic(mean: mean, logVariance: logVariance, latent: 4) >= 0)
        }
    }

    @Test func bernoulliFromLogitsByHand() {
        func logLikelihood(_ logit: Double, _ x: Double) -> Double {
            Likelihood.bernoulli.logLikelihood(output: [logit], target: [x], dimension: 1, logVariance: nil,
                                               dOutput: nil, dLogVariance: nil, scale: 0)
        }
        #expect(abs(logLikelihood(0, 1) + Double.log(2)) < 1e-15)              // log σ(0) = −log 2
        #expect(abs(logLikelihood(2, 0.5) - (1 - Double.log(1 + Double.exp(2)))) < 1e-14)  // grey level target
        // Extreme logits stay finite: log σ(100) ≈ −e^−100, log(1 − σ(100)) ≈ −100.
        #expect(logLikelihood(100, 1).isFinite && abs(logLikelihood(100, 1)) < 1e-40)
        #expect(abs(logLikelihood(100, 0) + 100) < 1e-12)
        #expect(abs(logLikelihood(-100, 1) + 100) < 1e-12)
        #expect(abs(logLikelihood(-100, 0)) < 1e-40)
        // Float too: no overflow in exp.
        let float = Likelihood.bernoulli.logLikelihood(output: [Float(-100)], target: [Float(1)], dimension: 1,
                                                       logVariance: nil, dOutput: nil, dLogVariance: nil, scale: 0)
        #expect(float == -100)
    }

    @Test func gaussianDensityCarriesItsConstantAndCanBePositive() {
        // −½·log(2π·0.1²) = 1.3836465597893728 nats per pixel: a density above 1.
        let likelihood = Likelihood.gaussian(sigma: 0.1)
        #expect(abs(likelihood.logDensityConstant - 1.3836465597893728) < 1e-14)
        let x: [Double] = [0.2, 0.7, 0.5]
        let atMean = likelihood.logLikelihood(output: x, target: x, dimension: 3, logVariance: nil,
                                              dOutput: nil, dLogVariance: nil, scale: 0)
        #expect(abs(atMean - 3 * 1.3836465597893728) < 1e-13)
        #expect(atMean > 0)
        // One σ away in one pixel costs exactly ½ nat.
        let offByOneSigma = likelihood.logLikelihood(output: [0.3, 0.7, 0.5], target: x, dimension: 3, logVariance: nil,
                                                     dOutput: nil, dLogVariance: nil, scale: 0)
        #expect(abs(atMean - offByOneSigma - 0.5) < 1e-12)
        #expect(Likelihood.gaussian(sigma: 1).logDensityConstant < 0)
        #expect(!Likelihood.bernoulli.logLikelihoodCanBePositive)
    }

    /// The Monte-Carlo KL is unbiased for the closed form: they agree within 4 standard errors.
    @Test func analyticAndMonteCarloKLAgree() throws {
        var random = RandomSource(seed: 21)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 8, encoderHidden: [6], latentSize: 4), random: &random)
        let x = randomMatrix(5, 8, seed: 2)
        for example in 0..<5 {
            let terms = try #require(model.evaluate(x, indices: [example], samples: 4000, random: &random))
            let standardError = try #require(terms.klMonteCarlo.standardError)
            #expect(abs(terms.klMonteCarlo.mean - terms.kl.mean) < 4 * standardError,
                    "example \(example): MC \(terms.klMonteCarlo.mean) ± \(standardError), closed form \(terms.kl.mean)")
            #expect(terms.kl.mean >= 0)
        }
    }

    /// A single draw of the Monte-Carlo KL can be negative; the closed form never is.
    @Test func singleDrawMonteCarloKLCanBeNegative() throws {
        var random = RandomSource(seed: 4)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 8, encoderHidden: [6], latentSize: 4), random: &random)
        let x = randomMatrix(200, 8, seed: 3)
        let terms = try #require(model.evaluate(x, samples: 1, random: &random, keepPerExample: true))
        let perExample = try #require(terms.perExample)
        #expect(perExample.klMonteCarlo.contains { $0 < 0 })
        #expect(perExample.kl.allSatisfy { $0 >= 0 })
    }

    @Test func elboAndLossAreReportedWithOneSign() throws {
        var random = RandomSource(seed: 8)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 8, encoderHidden: [6], latentSize: 4), random: &random)
        let terms = try #require(model.evaluate(randomMatrix(50, 8, seed: 1), samples: 3, random: &random))
        #expect(abs(terms.elbo.mean - (terms.reconstruction.mean - terms.kl.mean)) < 1e-12)
        #expect(terms.loss.mean == -terms.elbo.mean)
        #expect(terms.loss.standardError == terms.elbo.standardError)
        #expect(terms.reconstruction.mean <= 0)
        #expect(abs(terms.betaLoss(1) - terms.loss.mean) < 1e-12)
        #expect(terms.betaLoss(4) > terms.betaLoss(1))
    }
}

@Suite("Importance-weighted log p(x)")
struct ImportanceSamplingTests {
    static func model() throws -> (VAE<Double>, Matrix<Double>) {
        var random = RandomSource(seed: 12)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 10, encoderHidden: [8], latentSize: 3), random: &random)
        return (model, randomMatrix(40, 10, seed: 6))
    }

    /// With K = 1 and the same ε, log p̂(x) is the ELBO estimate log p(x|z) − (log q − log p).
    @Test func oneSampleEqualsTheELBOEstimate() throws {
        let (model, x) = try Self.model()
        let seed = RandomSource(seed: 77)
        var first = seed, second = seed
        let iwae = try #require(model.logLikelihood(x, importanceSamples: 1, random: &first))
        let elbo = try #require(model.evaluate(x, samples: 1, random: &second, keepPerExample: true)?.perExample)
        for n in 0..<x.rows {
            let estimate = elbo.reconstruction[n] - elbo.klMonteCarlo[n]
            #expect(abs(iwae.perExample[n] - estimate) < 1e-12 * max(1, abs(estimate)))
        }
        #expect(iwae.gap.mean.magnitude < 1e-12)
    }

    /// log p̂_K(x) ≥ ELBO per example in expectation, and grows with K. The tolerance is 4 standard
    /// errors of the paired difference over the 40 examples.
    @Test func boundTightensWithK() throws {
        let (model, x) = try Self.model()
        var random = RandomSource(seed: 5)
        let elbo = try #require(model.evaluate(x, samples: 64, random: &random, keepPerExample: true))
        let k10 = try #require(model.logLikelihood(x, importanceSamples: 10, random: &random))
        let k1000 = try #require(model.logLikelihood(x, importanceSamples: 1000, random: &random))
        let perExampleELBO = try #require(elbo.perExample).elbo
        let gap = Estimate(values: zip(k1000.perExample, perExampleELBO).map { $0 - $1 })
        #expect(gap.mean > -4 * (gap.standardError ?? 0), "log p̂ − ELBO = \(gap.mean) ± \(gap.standardError ?? 0)")
        let growth = Estimate(values: zip(k1000.perExample, k10.perExample).map { $0 - $1 })
        #expect(growth.mean > -4 * (growth.standardError ?? 0))
        #expect(k1000.gap.mean >= 0)
    }

    /// K in the thousands on more examples than fit one pass: chunking must not change the answer's
    /// scale, and memory stays at the row budget.
    @Test func thousandsOfSamplesInChunks() throws {
        let (model, x) = try Self.model()
        var random = RandomSource(seed: 9)
        let estimate = try #require(model.logLikelihood(x, indices: [0, 1, 2], importanceSamples: 5000, random: &random))
        #expect(estimate.examples == 3 && estimate.importanceSamples == 5000)
        #expect(estimate.perExample.allSatisfy { $0.isFinite })
        #expect(model.workspace(examples: 1, samples: VAE<Double>.importanceRowBudget).decoder.output.rows <= VAE<Double>.importanceRowBudget)
    }

    @Test func stopsWhenAsked() throws {
        let (model, x) = try Self.model()
        var random = RandomSource(seed: 9)
        #expect(model.logLikelihood(x, importanceSamples: 100, random: &random, shouldStop: { true }) == nil)
    }
}
