import Foundation
import Testing
import VAEFormats
@testable import VAEKit
import VAEScript

/// PyTorch's two binary cross-entropies against `whatis`'s, on files real PyTorch wrote
/// (Fixtures/pytorch/make_bce_fixture.py): F.binary_cross_entropy on probabilities clamps each
/// log at −100, F.binary_cross_entropy_with_logits is exact, and they differ wherever σ(logit)
/// saturates in float32. Ours must give torch's numbers on torch's probabilities, and tell the
/// two apart on a model whose every probability is saturated.
@Suite("PyTorch parity of the binary cross-entropies")
struct ConventionParityTests {
    static func fixture(_ name: String) throws -> SafeTensorsFile {
        let path = try #require(Bundle.module.path(forResource: name, ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        return try SafeTensorsFile.read(path: path)
    }

    static func tensor(_ file: SafeTensorsFile, _ name: String) throws -> [Double] {
        try #require(file[name]).values.map(Double.init)
    }

    static func metadata(_ file: SafeTensorsFile, _ key: String) throws -> Double {
        try #require(file.metadata[key].flatMap(Double.init), "metadata \(key)")
    }

    /// Element by element, on logits from −120 to 120 and targets 0, ¼, ½ and 1. Torch computes in
    /// float32 and rounds its result to float32: agreement to 1e-6, relative, with an absolute
    /// floor of 1e-6 for results near 0.
    @Test func elementwiseAsPyTorchComputesThem() throws {
        let file = try Self.fixture("bce_saturated")
        let logits = try Self.tensor(file, "logits"), targets = try Self.tensor(file, "targets")
        let probabilities = try Self.tensor(file, "probabilities")
        let torchProbabilityForm = try Self.tensor(file, "bce_probabilities"), torchLogitForm = try Self.tensor(file, "bce_logits")
        var saturated = 0
        for i in logits.indices {
            let fromProbability = BinaryCrossEntropy.torch(probability: probabilities[i], target: targets[i])
            let fromLogit = BinaryCrossEntropy.fromLogit(logits[i], target: targets[i])
            #expect(abs(fromProbability - torchProbabilityForm[i]) <= 1e-6 * max(1, torchProbabilityForm[i]),
                    "logit \(logits[i]), target \(targets[i]): \(fromProbability) vs torch \(torchProbabilityForm[i])")
            #expect(abs(fromLogit - torchLogitForm[i]) <= 1e-6 * max(1, torchLogitForm[i]),
                    "logit \(logits[i]), target \(targets[i]): \(fromLogit) vs torch \(torchLogitForm[i])")
            // Our float32 sigmoid saturates exactly where torch.sigmoid does, and elsewhere agrees
            // to a few units in the last place.
            let p = BinaryCrossEntropy.float32Probability(logit: logits[i])
            #expect((p == 1) == (probabilities[i] == 1) && (p == 0) == (probabilities[i] == 0), "logit \(logits[i])")
            #expect(abs(p - probabilities[i]) <= 5e-7 * probabilities[i], "logit \(logits[i]): σ \(p) vs torch \(probabilities[i])")
            if abs(torchProbabilityForm[i] - torchLogitForm[i]) > 1 {
                saturated += 1
                #expect(abs(fromProbability - fromLogit) > 1)
            }
        }
        // The fixture shows the two forms apart: saturated logits with a target they contradict.
        #expect(saturated >= 20, "\(saturated) elements where the forms differ by more than a nat")
        let probabilitySum = logits.indices.reduce(0) { $0 + BinaryCrossEntropy.torch(probability: probabilities[$1], target: targets[$1]) }
        let logitSum = logits.indices.reduce(0) { $0 + BinaryCrossEntropy.fromLogit(logits[$1], target: targets[$1]) }
        #expect(abs(probabilitySum - (try Self.metadata(file, "bce_probabilities_sum"))) <= 1e-5 * probabilitySum)
        #expect(abs(logitSum - (try Self.metadata(file, "bce_logits_sum"))) <= 1e-5 * logitSum)
    }

    /// The saturated VAE (decoder logit 30 on every pixel, so σ = 1 in float32; μ = 1, σ² = 1):
    /// the engine's two reconstruction parts equal what PyTorch computed for it on the first 200
    /// test images, per example (float32 sums of 156,800 terms: 1e-5 relative).
    @Test func theSaturatedModelGivesPyTorchsNumbers() throws {
        let file = try Self.fixture("vae_saturated")
        let path = try #require(Bundle.module.path(forResource: "vae_saturated", ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        let (model, _) = try Checkpoint.open(path: path, as: Float.self)
        let test = try #require(Dataset.embeddedMNIST().test)
        let draws = try #require(try model.objectiveDraws(test, indices: Array(0..<200), samples: 2, draws: .common(seed: 3)))
        let torchProbabilityForm = try Self.metadata(file, "bce_probabilities_per_example")
        let torchLogitForm = try Self.metadata(file, "bce_logits_per_example")
        #expect(abs(draws.mean([.probabilityBCE: 1]) - torchProbabilityForm) <= 1e-5 * torchProbabilityForm)
        #expect(abs(draws.mean([.reconstruction: 1]) - torchLogitForm) <= 1e-5 * torchLogitForm)
        #expect(abs(draws.mean([.kl: 1]) - (try Self.metadata(file, "kl_per_example"))) <= 1e-6)
        #expect(torchProbabilityForm > 3 * torchLogitForm, "the clamp costs 100 nats where the logit costs 30")
    }

    /// The numbers PyTorch printed for that model, typed into `whatis` as a user would, and one
    /// computed from vaesh's own recon by hand (at logit 30 the clamp pays 100 where the exact form
    /// pays 30, so BCEp = BCE·10/3): each is named as the form it is, and never as the other. (At
    /// 69,072 nats the KL of 1 is within float32 round-off, so BCEp + KL may be listed second.)
    @Test func whatisTellsTheTwoFormsApart() throws {
        let file = try Self.fixture("vae_saturated")
        let path = try #require(Bundle.module.path(forResource: "vae_saturated", ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
        let probabilityForm = try #require(file.metadata["bce_probabilities_per_example"])
        let logitForm = try #require(file.metadata["bce_logits_per_example"])
        let script = """
            load mnist limit=200
            open \(path)
            loss
            whatis \(probabilityForm) batch=200
            assert match_bce_torch == 1 and match_rec == 0 and match_loss == 0
            whatis \(logitForm) batch=200
            assert match_rec == 1 and match_bce_torch == 0 and whatis_matches == 1
            whatis -recon*10/3 batch=200
            assert match_bce_torch == 1 and match_rec == 0
            whatis (-recon*10/3+kl)*200 batch=200
            assert match_loss_torch_batch == 1 and match_loss_batch == 0
            whatis -recon+kl batch=200
            assert match_loss == 1 and match_loss_torch == 0
            """
        let output = CapturingOutput()
        let session = Session(options: SessionOptions(), output: output)
        let outcome = InputLoop.run(StringLineSource(script), name: "parity.vae", session: session)
        #expect(outcome == .finished(failures: 0), "\(output.standardError)")
        #expect(output.standardOutput.contains("is BCE on probabilities, per example"))
        #expect(output.standardOutput.contains("here BCEp − BCE = 4.8e+04 nats per example"))
    }
}
