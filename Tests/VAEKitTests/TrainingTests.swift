import RealModule
import Testing
@testable import VAEKit

/// Synthetic "images": a few smooth prototypes plus noise, grey levels in [0, 1].
func syntheticImages(count: Int, dimension: Int, seed: UInt64) -> Matrix<Float> {
    var random = RandomSource(seed: seed)
    let prototypes = (0..<4).map { p in (0..<dimension).map { d in 0.5 + 0.45 * Double.sin(Double(d * (p + 1)) / 37) } }
    let images = Matrix<Float>(rows: count, columns: dimension)
    for n in 0..<count {
        let prototype = prototypes[n % 4]
        for d in 0..<dimension { images[n, d] = Float(min(1, max(0, prototype[d] + 0.1 * random.normal()))) }
    }
    return images
}

@Suite("Optimiser and training")
struct TrainingTests {
    /// Adam's first step by hand: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε) ≈ lr·sign(g).
    @Test func adamFirstStepByHand() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 4, encoderHidden: [3], latentSize: 2), random: &random)
        let before = model.parameters.values.elements
        random.fillUniform(model.parameters.gradients.buffer, low: -1, high: 1)
        let gradient = model.parameters.gradients.elements
        let adam = Optimizer<Double>(.adamDefaults, learningRate: 0.01, parameterCount: model.parameters.count)
        adam.apply(to: model.parameters)
        for i in before.indices {
            let expected = before[i] - 0.01 * gradient[i] / (abs(gradient[i]) + 1e-8)
            #expect(abs(model.parameters.values.pointer[i] - expected) < 1e-15)
        }
        // Roll back restores the values exactly.
        #expect(adam.rollBack(model.parameters))
        #expect(model.parameters.values.elements == before)
        #expect(adam.step == 0)
        #expect(!adam.rollBack(model.parameters))
    }

    @Test func sgdStepByHand() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 4, encoderHidden: [3], latentSize: 2), random: &random)
        let before = model.parameters.values.elements
        model.parameters.gradients.fill(2)
        Optimizer<Double>(.sgd(), learningRate: 0.1, parameterCount: model.parameters.count).apply(to: model.parameters)
        for i in before.indices { #expect(abs(model.parameters.values.pointer[i] - (before[i] - 0.2)) < 1e-15) }
    }

    /// The default model (784-400-20) trained a few hundred steps lowers the loss, and the same
    /// seed reproduces every number bit for bit.
    @Test func trainingLowersTheLossAndIsReproducible() throws {
        let data = syntheticImages(count: 512, dimension: 784, seed: 3)
        func run() throws -> (losses: [Double], parameters: [Float], test: Double) {
            var random = RandomSource(seed: 2024)
            let model = try VAE<Float>(.pytorchExample, random: &random)
            let trainer = Trainer(model: model, optimizer: Optimizer(.adamDefaults, learningRate: 1e-3, parameterCount: model.parameters.count), seed: 2024)
            var settings = TrainingSettings()
            settings.epochs = 6
            settings.batchSize = 16  // 32 steps per epoch, 192 in all
            var losses: [Double] = []
            let outcome = trainer.train(data, test: data, settings: settings) { event in
                if case .batchEnd(let report) = event { losses.append(report.terms.loss) }
                return .proceed
            }
            #expect(outcome == .completed)
            return (losses, model.parameters.values.elements, trainer.history.last?.test?.loss.mean ?? .nan)
        }
        let first = try run(), second = try run()
        #expect(first.losses.count == 192)
        let early = first.losses.prefix(16).reduce(0, +) / 16, late = first.losses.suffix(16).reduce(0, +) / 16
        #expect(late < early - 50, "loss went from \(early) to \(late) nats/example")
        #expect(first.losses == second.losses)
        #expect(first.parameters == second.parameters)
        #expect(first.test == second.test)
    }

    /// A stopped run can continue; the model and optimiser stay consistent.
    @Test func stopAndContinue() throws {
        let data = syntheticImages(count: 64, dimension: 20, seed: 1)
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(VAEConfiguration(inputSize: 20, encoderHidden: [8], latentSize: 2), random: &random)
        let trainer = Trainer(model: model, optimizer: Optimizer(.adamDefaults, learningRate: 1e-3, parameterCount: model.parameters.count), seed: 1)
        var settings = TrainingSettings()
        settings.batchSize = 8
        settings.epochs = 2
        var batches = 0
        let outcome = trainer.train(data, settings: settings) { event in
            if case .batchEnd = event { batches += 1 }
            return batches == 3 ? .stop : .proceed
        }
        #expect(outcome == .stopped(epoch: 1, batch: 3))
        #expect(trainer.optimizer.step == 3)
        #expect(trainer.epochsCompleted == 0)
        let resumed = trainer.train(data, settings: settings) { _ in .proceed }
        #expect(resumed == .completed)
        #expect(trainer.epochsCompleted == 2)
        #expect(trainer.optimizer.step == 3 + 16)
    }

    /// A huge learning rate makes a term non-finite: training stops and the last good parameters
    /// are restored.
    @Test func divergenceRestoresTheLastGoodParameters() throws {
        let data = syntheticImages(count: 64, dimension: 20, seed: 1)
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(VAEConfiguration(inputSize: 20, encoderHidden: [8], latentSize: 2), random: &random)
        let trainer = Trainer(model: model, optimizer: Optimizer(.sgd(), learningRate: 1e30, parameterCount: model.parameters.count), seed: 1)
        var settings = TrainingSettings()
        settings.batchSize = 8
        settings.epochs = 3
        let outcome = trainer.train(data, settings: settings) { _ in .proceed }
        guard case .diverged(_, _, let restored) = outcome else {
            Issue.record("expected divergence, got \(outcome)")
            return
        }
        #expect(restored)
        #expect(model.parametersAreFinite)
        var check = RandomSource(seed: 3)
        let terms = try #require(model.evaluate(data, samples: 1, random: &check))
        #expect(terms.loss.mean.isFinite)
    }

    @Test func warmupAndObjectiveWeights() {
        var settings = TrainingSettings()
        settings.beta = 2
        settings.warmupSteps = 4
        #expect(settings.klWeight(atStep: 0) == 0.5)
        #expect(settings.klWeight(atStep: 3) == 2)
        #expect(settings.klWeight(atStep: 100) == 2)
        settings.objective = .elbo
        #expect(settings.weights(atStep: 100) == ObjectiveWeights(reconstruction: -1, kl: -2))
    }

    @Test func configurationValidation() {
        #expect(throws: ModelError.self) { try VAEConfiguration(latentSize: 0).validate() }
        #expect(throws: ModelError.self) { try VAEConfiguration(encoderHidden: [400, 0]).validate() }
        #expect(throws: ModelError.self) { try VAEConfiguration(latentSize: 100_000_000).validate() }
        #expect(throws: ModelError.self) { try VAEConfiguration(likelihood: .gaussian(sigma: 0)).validate() }
        #expect(VAEConfiguration.pytorchExample.parameterCount == 784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784)
        #expect(VAEConfiguration.pytorchExample.summary == "784-400-20")
    }

    @Test func parameterNamesFollowPyTorch() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(.pytorchExample, random: &random)
        #expect(model.parameters.slots.map(\.name) == ["fc1.weight", "fc1.bias", "fc21.weight", "fc22.weight", "fc21.bias",
                                                       "fc22.bias", "fc3.weight", "fc3.bias", "fc4.weight", "fc4.bias"])
        #expect(model.parameters.slot(named: "fc1.weight")?.shape == [400, 784])
        // PyTorch's nn.Linear initialisation bounds.
        let fc1 = try #require(model.parameters.slot(named: "fc1.weight"))
        #expect(model.parameters.values(of: fc1).allSatisfy { abs($0) <= 1 / Float(784).squareRoot() })
        let deep = try VAE<Float>(VAEConfiguration(encoderHidden: [400, 200], latentSize: 8), random: &random)
        #expect(deep.parameters.slots.map(\.name).contains("fc1_2.weight"))
        #expect(deep.parameters.slots.map(\.name).contains("fc3_2.weight"))
    }
}
