import Foundation
import Testing
@testable import VAEKit
import VAEScript

/// The pytorch/examples VAE, trained 200 steps and saved by PyTorch with
/// `safetensors.torch.save_file(model.state_dict(), …)`, opens here and gives the numbers PyTorch
/// computed for it (Fixtures/pytorch/make_reference.py writes both files).
@Suite("PyTorch parity")
struct PyTorchParityTests {
    struct Reference: Decodable {
        var examples: Int
        var samples: Int
        var kl: [Double]
        var log_likelihood_at_mean: [Double]
        var reconstruction: [Double]
        var reconstruction_se: [Double]
    }

    static func load() throws -> (VAE<Float>, CheckpointInfo, Reference, DataSplit) {
        let checkpoint = try #require(Bundle.module.path(forResource: "vae_784_400_20", ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        let expected = try #require(Bundle.module.url(forResource: "vae_784_400_20.expected", withExtension: "json", subdirectory: "Fixtures/pytorch"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: expected))
        let (model, info) = try Checkpoint.open(path: checkpoint, as: Float.self)
        let test = try #require(Dataset.embeddedMNIST().test)
        return (model, info, reference, test)
    }

    @Test func opensAsThePyTorchExample() throws {
        let (model, info, _, _) = try Self.load()
        #expect(model.architecture == VAEConfiguration.pytorchExample.architecture)
        #expect(info.origin == "pytorch")
    }

    /// The closed-form KL and log p(x|z = μ) involve no randomness: they must agree with PyTorch
    /// to float32 rounding (sums of 20 and 784 float32 terms: relative 1e-5).
    @Test func deterministicTermsMatchToFloatRounding() throws {
        let (model, _, reference, test) = try Self.load()
        for n in 0..<reference.examples {
            let posterior = model.posterior(test, index: n)
            let kl = Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance).reduce(0, +)
            #expect(abs(Double(kl) - reference.kl[n]) <= 1e-5 * reference.kl[n], "example \(n): KL \(kl) vs PyTorch \(reference.kl[n])")

            let z = Matrix<Float>(rows: 1, columns: model.latentSize, elements: posterior.mean)
            let logits = model.evaluationPass(model.decoder, input: z, rows: 1).output.elements
            let x = Matrix<Float>(rows: 1, columns: 784)
            test.fillBatch([n], into: x, epoch: 0)
            let logLikelihood = Likelihood.bernoulli.logLikelihood(
                output: logits, target: x.pointer, dimension: 784,
                logVariance: nil, dOutput: nil, dLogVariance: nil, scale: 0)
            let expected = reference.log_likelihood_at_mean[n]
            #expect(abs(Double(logLikelihood) - expected) <= 1e-5 * abs(expected),
                    "example \(n): log p(x|μ) \(logLikelihood) vs PyTorch \(expected)")
        }
    }

    /// E_q[log p(x|z)] by Monte Carlo, 2000 draws on each side: the two estimates differ by less
    /// than 4 standard errors of their difference, √(se₁² + se₂²).
    @Test func monteCarloReconstructionMatchesWithinNoise() throws {
        let (model, _, reference, test) = try Self.load()
        var random = RandomSource(seed: 11)
        for n in 0..<reference.examples {
            let terms = try #require(model.evaluate(test, indices: [n], samples: reference.samples, random: &random))
            let ours = terms.reconstruction
            let standardError = ((ours.standardError ?? 0) * (ours.standardError ?? 0) + reference.reconstruction_se[n] * reference.reconstruction_se[n]).squareRoot()
            #expect(abs(ours.mean - reference.reconstruction[n]) < 4 * standardError,
                    "example \(n): \(ours.mean) vs PyTorch \(reference.reconstruction[n]) (se of difference \(standardError))")
            #expect(abs(terms.kl.mean - reference.kl[n]) <= 1e-5 * reference.kl[n])
        }
    }
}
