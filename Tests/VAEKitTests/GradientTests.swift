import Testing
@testable import VAEKit

/// Every parameter tensor's gradient against central finite differences, for each term of the
/// objective on its own (which checks each term's sign) and for the total loss, across every
/// likelihood and activation, with two hidden layers on each side and two draws per example.
@Suite("Gradient checks (finite differences, Double)")
struct GradientTests {
    static let likelihoods: [Likelihood] = [.bernoulli, .gaussian(sigma: 0.5), .gaussianLearned]
    static let objectives: [(String, ObjectiveWeights)] = [
        ("reconstruction", .reconstructionOnly), ("kl", .klOnly), ("loss", .loss()),
        ("beta-loss", .loss(beta: 4)), ("flipped", .flippedELBO),
    ]
    /// The worst error allowed. Finite differences here are accurate to about 1e-9 (see
    /// `numericalGradient`); a wrong term or sign gives errors of order 1.
    static let tolerance = 1e-6

    @Test(arguments: likelihoods, Activation.allCases)
    func everyParameterEveryTerm(likelihood: Likelihood, activation: Activation) throws {
        let configuration = VAEConfiguration(inputSize: 6, encoderHidden: [5, 4], latentSize: 3,
                                             decoderHidden: [4, 5], activation: activation, likelihood: likelihood)
        var random = RandomSource(seed: 7)
        let model = try VAE<Double>(configuration, random: &random)
        if let slot = model.parameters.slot(named: "logvar_x") {
            // Start the learned variance away from 0 so its gradient is not special.
            random.fillUniform(model.parameters.values(of: slot), low: -0.5, high: 0.5)
        }
        let x = randomMatrix(4, 6, seed: 11)
        for reduction in Reduction.allCases {
            for (name, weights) in Self.objectives {
                let noise = RandomSource(seed: 99)
                var draw = noise
                model.computeGradients(x, rows: 4, samples: 2, weights: weights, reduction: reduction, random: &draw)
                let analytic = model.parameters.gradients.elements
                for slot in model.parameters.slots {
                    let numeric = numericalGradient(model, slot: slot) {
                        var replay = noise
                        return model.objective(x, rows: 4, samples: 2, weights: weights, reduction: reduction, random: &replay)
                    }
                    let error = worstError(Array(analytic[slot.offset..<slot.offset + slot.count]), numeric)
                    #expect(error < Self.tolerance, "\(likelihood.summary) \(activation) \(name) \(reduction) \(slot.name): error \(error)")
                }
            }
        }
    }

    /// `computeGradients` writes every gradient (the layers overwrite rather than add, so nothing
    /// zeroes the block first): what the block held before must not matter, NaN included.
    @Test(arguments: likelihoods)
    func gradientsDoNotDependOnTheBlocksOldContents(likelihood: Likelihood) throws {
        let configuration = VAEConfiguration(inputSize: 6, encoderHidden: [5, 4], latentSize: 3,
                                             decoderHidden: [4, 5], likelihood: likelihood)
        var random = RandomSource(seed: 8)
        let model = try VAE<Double>(configuration, random: &random)
        let x = randomMatrix(4, 6, seed: 12)
        var draw = RandomSource(seed: 5)
        model.computeGradients(x, rows: 4, samples: 2, weights: .loss(), random: &draw)
        let fresh = model.parameters.gradients.elements
        model.parameters.gradients.fill(.nan)
        draw = RandomSource(seed: 5)
        model.computeGradients(x, rows: 4, samples: 2, weights: .loss(), random: &draw)
        #expect(model.parameters.gradients.elements == fresh)
    }

    /// The objective is built from the very terms that are reported, with the documented signs.
    @Test func objectiveSignsMatchReportedTerms() throws {
        var random = RandomSource(seed: 3)
        let model = try VAE<Double>(VAEConfiguration(inputSize: 6, encoderHidden: [5], latentSize: 2), random: &random)
        let x = randomMatrix(3, 6, seed: 5)
        func run(_ weights: ObjectiveWeights) -> Double {
            var noise = RandomSource(seed: 1)
            return model.objective(x, rows: 3, weights: weights, reduction: .mean, random: &noise)
        }
        var noise = RandomSource(seed: 1)
        let terms = model.computeGradients(x, rows: 3, weights: .loss(), reduction: .mean, random: &noise)
        #expect(abs(run(.reconstructionOnly) - (-terms.reconstruction)) < 1e-12)
        #expect(abs(run(.klOnly) - terms.kl) < 1e-12)
        #expect(abs(run(.loss()) - terms.loss) < 1e-12)
        #expect(abs(run(.flippedELBO) - terms.elbo) < 1e-12)
        #expect(terms.reconstruction < 0, "a Bernoulli log-likelihood is ≤ 0")
        #expect(terms.kl >= 0)
    }
}
