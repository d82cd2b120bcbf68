import Testing
@testable import VAEKit

/// Passes split over threads against the same passes in one piece. The split is by fixed slices
/// (examples, then draws, in the forward pass; output features and rows in the backward pass; the
/// flat block in Adam), and each element is computed by the same operations either way, so the
/// results agree to rounding: exactly, unless OpenBLAS picks a different kernel for a smaller
/// product. The tolerances are a few ulp; a wrongly wired slice gives errors of order 1.
@Suite("Parallel passes agree with serial ones")
struct ParallelTests {
    @Test func slicesTileTheRange() {
        for count in [0, 1, 2, 5, 128, 1001] {
            for parts in 1...5 {
                let slices = (0..<parts).map { Parallel.slice(3..<3 + count, part: $0, of: parts) }
                #expect(slices.first?.lowerBound == 3 && slices.last?.upperBound == 3 + count)
                for (a, b) in zip(slices, slices.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                let sizes = slices.map(\.count)
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
            }
        }
    }

    /// Big enough that every large product and the forward pass are split (see `Parallel.parts`).
    static let configuration = VAEConfiguration(inputSize: 200, encoderHidden: [96], latentSize: 8)

    static func gradients<T: VAEScalar>(_ type: T.Type, threads: Int, likelihood: Likelihood = .bernoulli) throws -> (terms: BatchTerms, gradients: [T]) {
        var configuration = Self.configuration
        configuration.likelihood = likelihood
        var random = RandomSource(seed: 21)
        let model = try VAE<T>(configuration, random: &random)
        let x = randomMatrix(64, 200, seed: 22).converted(to: T.self)
        return Parallel.$threadsOverride.withValue(threads) {
            let terms = model.computeGradients(x, rows: 61, samples: 2, weights: .loss(), random: &random)
            return (terms, model.parameters.gradients.elements)
        }
    }

    static func expectClose<T: VAEScalar>(_ a: (terms: BatchTerms, gradients: [T]), _ b: (terms: BatchTerms, gradients: [T]),
                                          tolerance: Double) {
        #expect(abs(a.terms.reconstruction - b.terms.reconstruction) <= tolerance * abs(a.terms.reconstruction))
        #expect(abs(a.terms.kl - b.terms.kl) <= tolerance * max(1, abs(a.terms.kl)))
        let scale = a.gradients.map { abs(Double($0)) }.max() ?? 1
        let worst = zip(a.gradients, b.gradients).map { abs(Double($0) - Double($1)) }.max() ?? 0
        #expect(worst <= tolerance * scale, "worst gradient difference \(worst) of \(scale)")
    }

    @Test(arguments: [2, 3])
    func gradientsAreIdentical(threads: Int) throws {
        // The smallest split product, fc1's dW (96×200 by 61 rows), is over the threshold.
        #expect(Parallel.$threadsOverride.withValue(threads) { Parallel.parts(flops: 2 * 96 * 200 * 61) } == threads)
        for likelihood in [Likelihood.bernoulli, .gaussian(sigma: 0.3), .gaussianLearned] {
            let serialDouble = try Self.gradients(Double.self, threads: 1, likelihood: likelihood)
            let splitDouble = try Self.gradients(Double.self, threads: threads, likelihood: likelihood)
            Self.expectClose(serialDouble, splitDouble, tolerance: 1e-12)
            let serialFloat = try Self.gradients(Float.self, threads: 1, likelihood: likelihood)
            let splitFloat = try Self.gradients(Float.self, threads: threads, likelihood: likelihood)
            Self.expectClose(serialFloat, splitFloat, tolerance: 1e-5)
        }
    }

    @Test func trainingEvaluationAndImportanceSamplingAgree() throws {
        func run(threads: Int) throws -> (parameters: [Float], elbo: Double, logpx: Double) {
            try Parallel.$threadsOverride.withValue(threads) {
                var random = RandomSource(seed: 5)
                let model = try VAE<Float>(Self.configuration, random: &random)
                let data = randomMatrix(300, 200, seed: 6).converted(to: Float.self)
                let trainer = Trainer(model: model, optimizer: Optimizer(.adamDefaults, learningRate: 1e-3, parameterCount: model.parameters.count), seed: 7)
                var settings = TrainingSettings()
                settings.batchSize = 64
                _ = trainer.train(data, settings: settings) { _ in .proceed }
                var evaluation = RandomSource(seed: 8)
                let elbo = model.evaluate(data, samples: 3, random: &evaluation)?.elbo.mean ?? .nan
                let logpx = model.logLikelihood(data, indices: Array(0..<5), importanceSamples: 700, random: &evaluation)?.logLikelihood.mean ?? .nan
                return (model.parameters.values.elements, elbo, logpx)
            }
        }
        let serial = try run(threads: 1), split = try run(threads: 2)
        // Five Adam steps from the same start: parameters within a few ulp of their size.
        let worst = zip(serial.parameters, split.parameters).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? 0
        #expect(worst < 1e-4, "worst relative parameter difference \(worst)")
        #expect(abs(serial.elbo - split.elbo) < 1e-5 * abs(serial.elbo))
        #expect(abs(serial.logpx - split.logpx) < 1e-5 * abs(serial.logpx))
        // And the same thread count twice gives the same bits.
        let again = try run(threads: 2)
        #expect(again.parameters == split.parameters && again.elbo == split.elbo && again.logpx == split.logpx)
    }
}

/// The pool behind `Parallel.run`: every part runs exactly once per job, whatever the part count,
/// and calls it cannot take (nested in a part, or from another thread while a job runs) run their
/// parts one after another instead of waiting for a busy pool.
@Suite("Worker pool", .timeLimit(.minutes(1)))
struct WorkerPoolTests {
    /// Counts, per job and part, how often the part ran (parts write disjoint slots).
    final class Tally: @unchecked Sendable {
        var counts: [Int]
        init(_ count: Int) { counts = Array(repeating: 0, count: count) }
    }

    @Test func everyPartRunsOncePerJob() {
        let jobs = 2_000, widest = 5
        let tally = Tally(jobs * widest)
        for job in 0..<jobs {
            let parts = 2 + job % (widest - 1)
            WorkerPool.shared.run(parts) { part in tally.counts[job * widest + part] += 1 }
        }
        for job in 0..<jobs {
            let parts = 2 + job % (widest - 1)
            #expect(tally.counts[job * widest..<job * widest + widest] == ArraySlice((0..<widest).map { $0 < parts ? 1 : 0 }),
                    "job \(job) with \(parts) parts")
        }
    }

    @Test func nestedAndConcurrentCallsRunSerially() async {
        // A part that itself splits: the inner call finds the pool busy.
        let nested = Tally(2 * 3)
        WorkerPool.shared.run(2) { outer in
            WorkerPool.shared.run(3) { inner in nested.counts[outer * 3 + inner] += 1 }
        }
        #expect(nested.counts == Array(repeating: 1, count: 6))

        // Four tasks at once, each running many jobs: some find the pool taken.
        let rounds = 500
        let tallies = (0..<4).map { _ in Tally(rounds * 2) }
        await withTaskGroup(of: Void.self) { group in
            for tally in tallies {
                group.addTask {
                    for round in 0..<rounds { WorkerPool.shared.run(2) { part in tally.counts[round * 2 + part] += 1 } }
                }
            }
        }
        for tally in tallies { #expect(tally.counts == Array(repeating: 1, count: rounds * 2)) }
    }

    /// After a pause longer than the spin, the workers are asleep and must be woken for the next job.
    @Test func sleepingWorkersWakeForTheNextJob() async throws {
        let tally = Tally(6)
        for round in 0..<3 {
            try await Task.sleep(for: .milliseconds(20))
            WorkerPool.shared.run(2) { part in tally.counts[round * 2 + part] += 1 }
        }
        #expect(tally.counts == Array(repeating: 1, count: 6))
    }
}
