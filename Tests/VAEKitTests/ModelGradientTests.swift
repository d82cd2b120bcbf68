import Testing
@testable import VAEKit

/// Whole convolutional VAEs, the tutorials' architectures at 8×8: every parameter's gradient of
/// each term against central finite differences in Double (see `GradientTests` for the MLP and
/// `LayerGradientTests` for the tolerance); and what training does with BatchNorm's statistics.
@Suite("Gradient checks through conv VAEs (finite differences, Double)")
struct ModelGradientTests {
    static let models: [(String, VAEArchitecture)] = [
        ("tf-cvae", Architectures.tfCVAE(side: 8, channels: (2, 3))),
        ("keras", Architectures.keras(side: 8, channels: (2, 3), dense: 4)),
        ("batch-normed", Architectures.batchNormed()),
    ]
    static let objectives: [(String, ObjectiveWeights)] = [("reconstruction", .reconstructionOnly), ("kl", .klOnly), ("loss", .loss())]

    @Test(arguments: 0..<models.count)
    func everyParameterEveryTerm(_ index: Int) throws {
        let (name, architecture) = Self.models[index]
        for likelihood in [Likelihood.bernoulli, .gaussianLearned] {
            var variant = architecture
            variant.likelihood = likelihood
            var random = RandomSource(seed: 17)
            let model = try VAE<Double>(variant, random: &random)
            if let slot = model.parameters.slot(named: "logvar_x") { random.fillUniform(model.parameters.values(of: slot), low: -0.5, high: 0.5) }
            let x = randomMatrix(3, 64, seed: 19)
            for (term, weights) in Self.objectives {
                for (slot, error) in gradientErrors(model, x, rows: 3, samples: 2, weights: weights, seed: 23) {
                    #expect(error < GradientTests.tolerance, "\(name) \(likelihood.summary) \(term) \(slot): error \(error)")
                }
            }
        }
    }

    /// The backward passes write every gradient: what the block held before must not matter.
    @Test(arguments: 0..<models.count)
    func gradientsDoNotDependOnTheBlocksOldContents(_ index: Int) throws {
        var random = RandomSource(seed: 8)
        let model = try VAE<Double>(Self.models[index].1, random: &random)
        let x = randomMatrix(4, 64, seed: 12)
        for threads in [1, 2] {
            Parallel.$threadsOverride.withValue(threads) {
                var draw = RandomSource(seed: 5)
                model.computeGradients(x, rows: 4, samples: 2, weights: .loss(), random: &draw, updateRunningStatistics: false)
                let fresh = model.parameters.gradients.elements
                model.parameters.gradients.fill(.nan)
                draw = RandomSource(seed: 5)
                model.computeGradients(x, rows: 4, samples: 2, weights: .loss(), random: &draw, updateRunningStatistics: false)
                #expect(model.parameters.gradients.elements == fresh)
                #expect(fresh.allSatisfy { $0.isFinite })
            }
        }
    }

    /// BatchNorm's running statistics after one training pass, by hand: momentum 0.1 towards the
    /// batch mean and the unbiased batch variance; the batch count goes up by one; evaluation uses them.
    @Test func runningStatisticsMoveAsPyTorchsDo() throws {
        let harness = try StackHarness<Double>([.BatchNorm2d(2)], input: .image(channels: 2, height: 2, width: 3), rows: 4, seed: 1,
                                               values: ["layer.0.running_mean": [0.5, -1], "layer.0.running_var": [2, 0.25],
                                                        "layer.0.num_batches_tracked": [7]])
        let x = randomMatrix(4, 12, low: -2, high: 3, seed: 2)
        harness.forward(x, mode: .training(updateStatistics: true))
        for c in 0..<2 {
            let values = (0..<4).flatMap { n in (0..<6).map { x[n, c * 6 + $0] } }
            let mean = values.reduce(0, +) / 24
            let unbiased = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 23
            let oldMean = [0.5, -1][c], oldVariance = [2, 0.25][c]
            #expect(abs(harness.buffers.values.pointer[c] - (0.9 * oldMean + 0.1 * mean)) < 1e-12)
            #expect(abs(harness.buffers.values.pointer[2 + c] - (0.9 * oldVariance + 0.1 * unbiased)) < 1e-12)
        }
        #expect(harness.buffers.values.pointer[4] == 8)
        // Without the update flag nothing moves.
        let before = harness.buffers.values.elements
        harness.forward(x, mode: .training(updateStatistics: false))
        harness.forward(x, mode: .evaluation)
        #expect(harness.buffers.values.elements == before)
        // Evaluation: (x − running mean)/√(running var + eps)·γ + β, per example.
        let output = harness.forward(x, mode: .evaluation)
        let gamma = harness.parameters.values.pointer[0], beta = harness.parameters.values.pointer[2]
        let expected = (x[1, 4] - before[0]) / (before[2] + 1e-5).squareRoot() * gamma + beta
        #expect(abs(output[1, 4] - expected) < 1e-12)
    }

    /// A conv VAE with BatchNorm trains (the loss falls), bit-identically per seed; `show-sign`'s
    /// "loss = −ELBO" holds in evaluation mode; and a diverging step is undone with the running
    /// statistics it moved.
    @Test func convolutionalTrainingLowersTheLossAndUndoesDivergence() throws {
        let data = syntheticImages(count: 96, dimension: 64, seed: 5)
        func run() throws -> (losses: [Double], parameters: [Float], buffers: [Float]) {
            var random = RandomSource(seed: 9)
            let model = try VAE<Float>(Architectures.batchNormed(), random: &random)
            let trainer = Trainer(model: model, optimizer: Optimizer(.adamDefaults, learningRate: 3e-3, parameterCount: model.parameters.count), seed: 9)
            var settings = TrainingSettings()
            settings.epochs = 20  // 120 steps: grey-level targets keep the loss near its floor of about 35 nats
            settings.batchSize = 16
            var losses: [Double] = []
            #expect(trainer.train(data, settings: settings) { event in
                if case .batchEnd(let report) = event { losses.append(report.terms.loss) }
                return .proceed
            } == .completed)
            return (losses, model.parameters.values.elements, model.buffers.values.elements)
        }
        let first = try run(), second = try run()
        let early = first.losses.prefix(6).reduce(0, +) / 6, late = first.losses.suffix(6).reduce(0, +) / 6
        #expect(late < early - 1, "loss went from \(early) to \(late)")
        #expect(first.losses == second.losses && first.parameters == second.parameters && first.buffers == second.buffers)

        var random = RandomSource(seed: 3)
        let model = try VAE<Float>(Architectures.batchNormed(), random: &random)
        let trainer = Trainer(model: model, optimizer: Optimizer(.sgd(), learningRate: 1e30, parameterCount: model.parameters.count), seed: 3)
        var settings = TrainingSettings()
        settings.batchSize = 16
        settings.epochs = 3
        var buffersAfterEachStep: [[Float]] = []
        let outcome = trainer.train(data, settings: settings) { event in
            if case .batchEnd = event { buffersAfterEachStep.append(model.buffers.values.elements) }
            return .proceed
        }
        guard case .diverged(_, _, true) = outcome else {
            Issue.record("expected a restored divergence, got \(outcome)")
            return
        }
        #expect(model.parametersAreFinite)
        // The running statistics as the last good step left them, not as the diverging forward pass moved them.
        #expect(!buffersAfterEachStep.isEmpty && model.buffers.values.elements == buffersAfterEachStep.last)
    }

    /// The training objective equals −ELBO when both run BatchNorm in evaluation mode (what
    /// `show-sign` compares); in training mode it would normalise by the examples' own statistics.
    @Test func lossIsMinusELBOInEvaluationMode() throws {
        var random = RandomSource(seed: 2)
        let model = try VAE<Double>(Architectures.batchNormed(), random: &random)
        let x = randomMatrix(5, 64, seed: 3)
        for slot in model.buffers.slots where slot.name.hasSuffix("running_var") { random.fillUniform(model.buffers.values(of: slot), low: 0.5, high: 2) }
        var draws = RandomSource(seed: 4)
        let terms = try #require(model.evaluate(x, samples: 1, random: &draws))
        draws = RandomSource(seed: 4)
        let loss = model.objective(x, rows: 5, weights: .loss(), reduction: .mean, random: &draws, mode: .evaluation)
        #expect(abs(loss - terms.loss.mean) < 1e-12)
        draws = RandomSource(seed: 4)
        let trainingModeLoss = model.objective(x, rows: 5, weights: .loss(), reduction: .mean, random: &draws)
        #expect(abs(trainingModeLoss - terms.loss.mean) > 1e-6)
    }
}
