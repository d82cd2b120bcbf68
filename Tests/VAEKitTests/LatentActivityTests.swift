import Testing
@testable import VAEKit

/// Active units (Burda et al. 2016): A_d = Cov_x(E_q[z_d]) over a data set, in Double.
@Suite("Latent activity")
struct LatentActivityTests {
    static func model() throws -> VAE<Double> {
        var random = RandomSource(seed: 5)
        return try VAE<Double>(VAEConfiguration(inputSize: 6, encoderHidden: [5], latentSize: 3), random: &random)
    }

    static func data(rows: Int, seed: UInt64) -> Matrix<Double> {
        var random = RandomSource(seed: seed)
        let x = Matrix<Double>(rows: rows, columns: 6)
        random.fillUniform(x.buffer, low: 0, high: 1)
        return x
    }

    @Test func activityIsTheVarianceOfThePosteriorMeansOverTheData() throws {
        let model = try Self.model()
        let x = Self.data(rows: 37, seed: 1)
        let activity = try #require(model.latentActivity(x))
        #expect(activity.examples == 37)
        // The reference: every example's q(z|x) on its own, then a two-pass variance (N − 1) and a mean.
        let posteriors = (0..<37).map { model.posterior(x, index: $0) }
        for d in 0..<3 {
            let means = posteriors.map { $0.mean[d] }
            let average = means.reduce(0, +) / 37
            let variance = means.reduce(0) { $0 + ($1 - average) * ($1 - average) } / 36
            #expect(abs(activity.activity[d] - variance) <= 1e-12 * max(1, variance))
            let kl = posteriors.map { Divergence.klPerDimension(mean: $0.mean, logVariance: $0.logVariance)[d] }.reduce(0, +) / 37
            #expect(abs(activity.meanKL[d] - kl) <= 1e-12 * max(1, kl))
        }
    }

    @Test func theSameExampleEverywhereUsesNoDimension() throws {
        // μ(x) cannot vary when x does not: every A_d is 0, however large each one's KL.
        let model = try Self.model()
        let one = Self.data(rows: 1, seed: 2)
        let x = Matrix<Double>(rows: 10, columns: 6, elements: Array((0..<10).map { _ in one.elements }.joined()))
        let activity = try #require(model.latentActivity(x))
        #expect(activity.activity == [0, 0, 0])
        #expect(activity.activeCount == 0)
        let posterior = model.posterior(one, index: 0)
        let kl = Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance)
        for d in 0..<3 { #expect(abs(activity.meanKL[d] - kl[d]) <= 1e-12) }
    }

    @Test func chosenExamplesAndChunksGiveTheSameStatistics() throws {
        let model = try Self.model()
        let x = Self.data(rows: 1200, seed: 3)  // more than one chunk of 500
        let all = try #require(model.latentActivity(x))
        let chosen = try #require(model.latentActivity(x, indices: Array((0..<1200).reversed())))
        for d in 0..<3 { #expect(abs(all.activity[d] - chosen.activity[d]) <= 1e-12 * max(1, all.activity[d])) }
        #expect(model.latentActivity(x, indices: []) == nil)
        #expect(model.latentActivity(x, shouldStop: { true }) == nil)
    }

    @Test func activeMeansAboveBurdasThreshold() {
        let activity = LatentActivity(activity: [0.5, 0.01, 0.0100001, 0], meanKL: [1, 0, 0, 0.2], examples: 100)
        #expect(LatentActivity.threshold == 0.01)
        #expect((0..<4).map(activity.isActive) == [true, false, true, false])
        #expect(activity.activeCount == 2)
    }
}
