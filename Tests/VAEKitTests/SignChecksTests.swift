import Testing
@testable import VAEKit

/// The engine's measurements behind `step` and `show-sign`, in Double: one step measured before
/// and after on the same draws, and the four sign checks, each shown able to fail.
@Suite("Sign checks and the measured step")
struct SignChecksTests {
    static let configuration = VAEConfiguration(inputSize: 12, encoderHidden: [8], latentSize: 3)

    static func trainer(learningRate: Double = 1e-3, seed: UInt64 = 4) throws -> Trainer<Double> {
        var random = RandomSource(seed: seed)
        let model = try VAE<Double>(configuration, random: &random)
        let optimizer = Optimizer<Double>(.adamDefaults, learningRate: learningRate, parameterCount: model.parameters.count)
        return Trainer(model: model, optimizer: optimizer, seed: seed)
    }

    static let data: Matrix<Double> = syntheticImages(count: 40, dimension: 12, seed: 9).converted()

    static func batch(rows: Int = 16) -> Matrix<Double> {
        let batch = Matrix<Double>(rows: rows, columns: 12)
        data.fillBatch(0..<rows, into: batch, epoch: 0)
        return batch
    }

    /// The measurement is the training code's own before and after, with the same draws: redoing
    /// it by hand (objective before, one optimiser step, objective after) gives the same numbers.
    @Test func measuredStepIsTheObjectiveBeforeAndAfterOneStep() throws {
        let trainer = try Self.trainer()
        let byHand = trainer.copy()
        let batch = Self.batch()
        let noise = RandomSource(seed: 21)
        let step = trainer.measuredStep(on: batch, random: noise)

        var draws = noise
        let before = byHand.model.computeGradients(batch, rows: batch.rows, weights: .loss(), random: &draws)
        byHand.optimizer.apply(to: byHand.model.parameters)
        draws = noise
        let after = byHand.model.objective(batch, rows: batch.rows, weights: .loss(), reduction: .mean, random: &draws)
        #expect(step.before == before)
        #expect(abs(step.after.loss - after) <= 1e-12 * abs(after))
        #expect(trainer.model.parameters.values.elements == byHand.model.parameters.values.elements, "the step is kept")
        #expect(trainer.model.parameters.gradients.elements.allSatisfy { $0 == 0 }, "no gradient is left behind")
        #expect(step.learningRate == 1e-3)
    }

    /// loss = −ELBO, so a correct step lowers one and raises the other by the same amount; the
    /// flipped objective moves both the wrong way.
    @Test func aCorrectStepLowersTheLossAndTheFlippedOneRaisesIt() throws {
        let correct = try Self.trainer().measuredStep(on: Self.batch(), objective: .loss, random: RandomSource(seed: 3))
        #expect(correct.deltaLoss < 0 && correct.deltaELBO > 0)
        #expect(correct.changesCancel && correct.lowersLossRaisesELBO)
        #expect(abs(correct.deltaLoss + correct.deltaELBO) < 1e-12)

        let flipped = try Self.trainer().measuredStep(on: Self.batch(), objective: .elbo, random: RandomSource(seed: 3))
        #expect(flipped.deltaLoss > 0 && flipped.deltaELBO < 0)
        #expect(flipped.changesCancel && !flipped.lowersLossRaisesELBO)
    }

    /// A step on a copy leaves the trainer as it was; an absurd learning rate is halved until
    /// the loss falls, and without halvings the check sees the overshoot.
    @Test func stepOnACopyHalvesAnOvershootingRate() throws {
        let trainer = try Self.trainer()
        let values = trainer.model.parameters.values.elements
        let (step, halvings) = trainer.stepOnACopy(on: Self.batch(), learningRate: 50, random: RandomSource(seed: 5))
        #expect(trainer.model.parameters.values.elements == values)
        #expect(trainer.optimizer.step == 0)
        #expect(halvings > 0 && step.learningRate == 50 / Double(1 << halvings))
        #expect(step.lowersLossRaisesELBO)

        let (overshoot, none) = trainer.stepOnACopy(on: Self.batch(), learningRate: 50, random: RandomSource(seed: 5), maximumHalvings: 0)
        #expect(none == 0 && overshoot.learningRate == 50)
        #expect(!overshoot.lowersLossRaisesELBO, "a step of 50 on a fresh Adam overshoots: the check must be able to fail")
    }

    @Test func allFourChecksHoldOnAnUntrainedModel() throws {
        let trainer = try Self.trainer()
        let checks = try #require(trainer.signChecks(
            Self.data, indices: Array(0..<30), samples: 2, importanceSamples: 64, stepBatch: Self.batch(), learningRate: 1e-3,
            draws: .common(seed: 1), stepNoise: RandomSource(seed: 3)))
        #expect(checks.klIsNonNegative && checks.negativeKLExamples == 0)
        #expect(checks.lossIsMinusELBO)
        #expect(abs(checks.trainingLoss + checks.terms.elbo.mean) <= 1e-12 * abs(checks.terms.elbo.mean))
        #expect(checks.elboIsBelowLogLikelihood && checks.gap.mean > 0)
        #expect(checks.stepLowersLossRaisesELBO)
        #expect(checks.passed == 4)
        #expect(checks.importance.examples == 30 && checks.importance.importanceSamples == 64)
        #expect(checks.terms.examples == 30 && checks.terms.samples == 2)
    }

    /// Each check is a comparison that can come out false: feed each one numbers that break it.
    @Test func eachCheckCanFail() throws {
        let trainer = try Self.trainer()
        var checks = try #require(trainer.signChecks(
            Self.data, indices: Array(0..<10), samples: 1, importanceSamples: 16, stepBatch: Self.batch(), learningRate: 1e-3,
            draws: .common(seed: 1), stepNoise: RandomSource(seed: 3)))
        #expect(checks.passed == 4)
        let good = checks

        checks.terms.perExample?.kl[3] = -0.5
        #expect(!checks.klIsNonNegative && checks.negativeKLExamples == 1 && checks.passed == 3)
        checks = good
        checks.trainingLoss = checks.terms.elbo.mean  // the sign flipped: train minimising the ELBO
        #expect(!checks.lossIsMinusELBO && checks.passed == 3)
        checks = good
        checks.gap = Estimate(mean: -10, standardError: 1)
        #expect(!checks.elboIsBelowLogLikelihood && checks.passed == 3)
        checks = good
        checks.step.after = checks.step.before
        #expect(!checks.stepLowersLossRaisesELBO && checks.passed == 3)
    }

    @Test func stoppingReturnsNothing() throws {
        let trainer = try Self.trainer()
        let checks = trainer.signChecks(
            Self.data, indices: Array(0..<10), samples: 1, importanceSamples: 16, stepBatch: Self.batch(), learningRate: 1e-3,
            draws: .common(seed: 1), stepNoise: RandomSource(seed: 3), shouldStop: { true })
        #expect(checks == nil)
    }

    @Test func randomBatchIsAPermutationPrefix() throws {
        let split = DataSplit(name: "train", source: "test", storage: .bytes((0..<20).map { UInt8($0 * 10) }), dimension: 2,
                              labels: nil, stream: 0)
        var random = RandomSource(seed: 8)
        let batch: Matrix<Double> = split.randomBatch(size: 4, random: &random)
        var again = RandomSource(seed: 8)
        let order = Array(again.permutation(10).prefix(4))
        #expect(batch.rows == 4)
        for (row, index) in order.enumerated() {
            #expect(batch[row, 0] == Double(index * 20) / 255)
        }
        var more = RandomSource(seed: 8)
        #expect((split.randomBatch(size: 99, random: &more) as Matrix<Double>).rows == 10, "at most the whole split")
    }

    @Test("ELBO ≤ log p̂(x) allows Student's t standard errors: more with few examples, 3 with many")
    func gapAllowanceFollowsStudentsT() {
        #expect(SignChecks.gapAllowance(examples: 1) == nil)
        #expect(SignChecks.gapAllowance(examples: 2) == 235.784)
        #expect(SignChecks.gapAllowance(examples: 4) == 9.219)
        #expect(SignChecks.gapAllowance(examples: 31) == 3.270)
        // Past the table, the expansion: scipy.stats.t.ppf(0.99865, ν) is 3.199, 3.077 and 3.007
        // for ν = 40, 99 and 1000.
        for (examples, quantile) in [(41, 3.199), (100, 3.077), (1001, 3.007)] {
            #expect(abs(SignChecks.gapAllowance(examples: examples)! - quantile) < 0.001)
        }
        // Decreasing towards the normal's 3: never below it, and continuous at the table's end.
        let allowances = (2...2000).map { SignChecks.gapAllowance(examples: $0)! }
        #expect(zip(allowances, allowances.dropFirst()).allSatisfy { $0 > $1 } && allowances.last! > 3)
    }
}
