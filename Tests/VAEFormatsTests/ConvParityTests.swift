import Foundation
import Testing
@testable import VAEKit
import VAEScript

/// Two conv VAEs trained and saved by PyTorch (Fixtures/pytorch/make_conv_reference.py): the
/// TensorFlow tutorial's model, and a model with BatchNorm (whose running statistics come from
/// PyTorch's training) and the fc21/fc22 head. Opened with their architecture given, as a file
/// without vaesh metadata must be, they give PyTorch's KL, log p(x|z=μ) and one-draw ELBO (with
/// PyTorch's ε) on the first 16 test images.
///
/// Tolerance: both sides compute in float32 (ε = 6e-8) and sum in different orders. A logit ends
/// five layers of sums of up to 576 rounded products: relative differences of about √576·ε ≈ 1.4e-6
/// a layer are expected at worst, and log p(x|μ) then sums 784 terms. We allow 1e-5 of |value| +
/// 1e-5 nats. Measured (torch 2.13): worst relative differences 5e-7 (KL), 2e-7 (log p(x|μ)),
/// 1.4e-7 (ELBO) for tf_cvae; 2.2e-6, 1.2e-7, 2.5e-7 for bn_cvae. A wrong layer (padding side,
/// transposed weight, missed running statistic) moves the terms by whole nats.
@Suite("PyTorch parity: conv VAEs")
struct ConvParityTests {
    struct Reference: Decodable {
        var examples: Int
        var binarised: Bool
        var state_dict: [String]
        var epsilon: [Double]
        var kl: [Double]
        var log_likelihood_at_mean: [Double]
        var elbo: [Double]
    }

    static let mnist = ExampleShape.image(channels: 1, height: 28, width: 28)

    static let tfCVAE = VAEArchitecture(
        input: mnist,
        encoder: [.Conv2d(1, 32, 3, stride: 2), .relu, .Conv2d(32, 64, 3, stride: 2), .relu, .flatten, .Linear(2304, 4)],
        head: .split, latentSize: 2,
        decoder: [.Linear(2, 1568), .relu, .Unflatten(32, 7, 7), .ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                  .ConvTranspose2d(64, 32, 3, stride: 2, padding: 1, outputPadding: 1), .relu, .ConvTranspose2d(32, 1, 3, padding: 1)])

    static let batchNormed = VAEArchitecture(
        input: mnist,
        encoder: [.Conv2d(1, 16, 3, stride: 2, padding: .explicit(1)), .BatchNorm2d(16), .relu,
                  .Conv2d(16, 32, 3, stride: 2, padding: .explicit(1)), .BatchNorm2d(32), .LeakyReLU(negativeSlope: 0.1),
                  .flatten, .Linear(1568, 16), .BatchNorm1d(16), .ELU()],
        head: .twoLinear, latentSize: 2,
        decoder: [.Linear(2, 1568), .gelu, .Unflatten(32, 7, 7), .ConvTranspose2d(32, 16, 3, stride: 2, padding: 1, outputPadding: 1),
                  .BatchNorm2d(16), .Softplus(), .ConvTranspose2d(16, 1, 3, stride: 2, padding: 1, outputPadding: 1)])

    static func load(_ name: String, _ architecture: VAEArchitecture) throws -> (VAE<Float>, CheckpointInfo, Reference, DataSplit) {
        let path = try #require(Bundle.module.path(forResource: name, ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        let url = try #require(Bundle.module.url(forResource: "\(name).expected", withExtension: "json", subdirectory: "Fixtures/pytorch"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let (model, info) = try Checkpoint.open(path: path, as: Float.self, architecture: architecture)
        var test = try #require(Dataset.embeddedMNIST().test)
        test.binarization = reference.binarised ? .threshold : .none
        return (model, info, reference, test)
    }

    static func close(_ ours: Double, _ theirs: Double) -> Bool { abs(ours - theirs) <= 1e-5 * abs(theirs) + 1e-5 }

    @Test(arguments: [("tf_cvae", tfCVAE), ("bn_cvae", batchNormed)])
    func termsMatchPyTorch(_ name: String, _ architecture: VAEArchitecture) throws {
        let (model, info, reference, test) = try Self.load(name, architecture)
        #expect(info.origin == "pytorch")
        #expect(model.stateOrder == reference.state_dict, "the engine's tensor names and order are PyTorch's")
        var noise = NoiseFiller.given(reference.epsilon)  // PyTorch's ε
        let terms = try #require(model.evaluate(test, indices: Array(0..<reference.examples), samples: 1, noise: &noise,
                                                keepPerExample: true, shouldStop: { false }))
        let perExample = try #require(terms.perExample)
        for n in 0..<reference.examples {
            let posterior = model.posterior(test, index: n)
            let kl = Double(Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance).reduce(0, +))
            #expect(Self.close(kl, reference.kl[n]), "\(name) example \(n): KL \(kl) vs PyTorch \(reference.kl[n])")
            #expect(Self.close(perExample.kl[n], reference.kl[n]))

            let z = Matrix<Float>(rows: 1, columns: 2, elements: posterior.mean)
            let logits = model.evaluationPass(model.decoder, input: z, rows: 1).output.elements
            let x = Matrix<Float>(rows: 1, columns: 784)
            test.fillBatch([n], into: x, epoch: 0)
            let atMean = Double(Likelihood.bernoulli.logLikelihood(output: logits, target: x.pointer, dimension: 784, logVariance: nil,
                                                                   dOutput: nil, dLogVariance: nil, scale: 0))
            #expect(Self.close(atMean, reference.log_likelihood_at_mean[n]),
                    "\(name) example \(n): log p(x|μ) \(atMean) vs PyTorch \(reference.log_likelihood_at_mean[n])")
            #expect(Self.close(perExample.elbo[n], reference.elbo[n]), "\(name) example \(n): ELBO \(perExample.elbo[n]) vs PyTorch \(reference.elbo[n])")
        }
    }

    /// Saved by vaesh and reopened, the BatchNorm model keeps every tensor, buffers included, and
    /// records its architecture: no need to give it again.
    @Test func savedByVaeshReopensExactly() throws {
        let (model, _, _, _) = try Self.load("bn_cvae", Self.batchNormed)
        let path = CheckpointTests.temporaryPath("bn.safetensors")
        try Checkpoint.save(model, to: path, seed: 3, epochs: 1, steps: 100)
        let (reopened, info) = try Checkpoint.open(path: path, as: Float.self)
        #expect(info.origin == "vaesh" && info.architecture == Self.batchNormed)
        #expect(reopened.parameters.values.elements == model.parameters.values.elements)
        #expect(reopened.buffers.values.elements == model.buffers.values.elements)
        #expect(info.metadata["vaesh.encoder"]?.hasPrefix("Conv2d(1, 16, 3, stride=2, padding=1) BatchNorm2d(16) ReLU()") == true)
    }

    /// A convolutional file without metadata is refused unless its architecture is given (its
    /// strides and paddings are not in the weights); one given that does not fit its tensors is
    /// refused by name.
    @Test func aSequentialFileNeedsItsArchitecture() throws {
        let path = try #require(Bundle.module.path(forResource: "tf_cvae", ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        do {
            _ = try Checkpoint.open(path: path, as: Float.self)
            Issue.record("expected a refusal")
        } catch let error as CheckpointError {
            #expect(error.message.contains("whose stride, padding and output padding its weights cannot tell"), "\(error.message)")
            #expect(error.hint?.contains("into=model") == true)
        }
        var wrong = Self.tfCVAE
        wrong.encoder[0] = .Conv2d(1, 32, 5, stride: 2)
        wrong.encoder[5] = .Linear(1600, 4)
        do {
            _ = try Checkpoint.open(path: path, as: Float.self, architecture: wrong)
            Issue.record("expected a shape mismatch")
        } catch let error as CheckpointError {
            #expect(error.message.contains("tensor 'encoder.0.weight' has shape [32, 1, 3, 3], expected [32, 1, 5, 5]"), "\(error.message)")
        }
    }
}
