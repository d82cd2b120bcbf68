import Foundation
import Testing
@testable import VAEKit

/// The model as a picture maker: samples, decoded means, reconstructions.
@Suite("Pictures: the model's passes")
struct PicturePassTests {
    // MARK: - The model's pictures

    static func tinyModel(_ likelihood: Likelihood = .bernoulli) throws -> VAE<Float> {
        var random = RandomSource(seed: 3)
        return try VAE<Float>(VAEConfiguration(inputSize: 16, encoderHidden: [8], latentSize: 2, likelihood: likelihood), random: &random)
    }

    @Test func samplesArePixelProbabilities() throws {
        let model = try Self.tinyModel()
        var random = RandomSource(seed: 1)
        let samples = model.sample(count: 5, random: &random)
        #expect(samples.rows == 5 && samples.columns == 16)
        #expect(samples.elements.allSatisfy { $0 > 0 && $0 < 1 })
        var again = RandomSource(seed: 1)
        #expect(model.sample(count: 5, random: &again).elements == samples.elements, "same seed, same samples")
    }

    @Test func decodeMeanIsTheSigmoidOfTheLogitsTheTermsUse() throws {
        // log p(x|z) for a Bernoulli at x = 1 is log σ(l): the terms' own likelihood, from the logits.
        let model = try Self.tinyModel()
        let z = Matrix<Float>(rows: 1, columns: 2, elements: [0.3, -1.2])
        let probabilities = model.decodeMean(z)
        let activations = model.evaluationPass(model.decoder, input: z, rows: 1)
        for d in 0..<16 {
            let logit = activations.output[0, d]
            let logLikelihood = Likelihood.bernoulli.logLikelihood(output: [logit], target: [Float(1)], dimension: 1, logVariance: nil,
                                                                   dOutput: nil, dLogVariance: nil, scale: 0)
            #expect(abs(log(probabilities[0, d]) - logLikelihood) < 1e-5)
        }
    }

    @Test func gaussianMeansAreTheDecoderOutputs() throws {
        let model = try Self.tinyModel(.gaussian(sigma: 0.1))
        let z = Matrix<Float>(rows: 2, columns: 2, elements: [0, 0, 2, -2])
        let means = model.decodeMean(z)
        let activations = model.evaluationPass(model.decoder, input: z, rows: 2)
        #expect(means.elements == Array(activations.output.elements.prefix(32)))
    }

    @Test func reconstructionGoesThroughThePosteriorMean() throws {
        let model = try Self.tinyModel()
        var random = RandomSource(seed: 2)
        let x = Matrix<Float>(rows: 3, columns: 16)
        random.fillUniform(x.buffer, low: 0, high: 1)
        let posterior = model.encodeMean(x, rows: 3)
        #expect(posterior.mean.rows == 3 && posterior.mean.columns == 2)
        #expect(posterior.logVariance.elements.allSatisfy { VAE<Float>.logVarianceRange.contains($0) })
        let reconstruction = model.reconstruct(x, rows: 3)
        #expect(reconstruction.elements == model.decodeMean(posterior.mean).elements)
        #expect(reconstruction.elements.allSatisfy { $0 > 0 && $0 < 1 })
    }
}

