import Foundation
import Testing
@testable import VAEFormats
@testable import VAEKit
import VAEScript

@Suite("Checkpoints: models in safetensors and PyTorch files")
struct CheckpointTests {
    static func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-checkpoint-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    @Test(arguments: [
        VAEConfiguration.pytorchExample,
        VAEConfiguration(inputSize: 20, encoderHidden: [16, 8], latentSize: 3, decoderHidden: [6, 12, 16],
                         activation: .softplus, likelihood: .gaussianLearned),
        VAEConfiguration(inputSize: 12, encoderHidden: [5], latentSize: 2, activation: .tanh, likelihood: .gaussian(sigma: 0.1)),
    ])
    func roundTrip(configuration: VAEConfiguration) throws {
        var random = RandomSource(seed: 5)
        let model = try VAE<Float>(configuration, random: &random)
        // safetensors, and PyTorch's zip checkpoint for .pt and .pth: both reopen exactly.
        for (name, format) in [("model.safetensors", TensorFileFormat.safetensors), ("model.pt", .pytorch), ("model.PTH", .pytorch)] {
            let path = Self.temporaryPath(name)
            try Checkpoint.save(model, to: path, seed: 5, epochs: 3, steps: 1407)
            let (opened, info, source) = try Checkpoint.read(path: path, as: Float.self)
            #expect(source.format == format && source.unwrapping.isEmpty && source.notes.isEmpty)
            #expect(opened.architecture == configuration.architecture)
            #expect(opened.parameters.values.elements == model.parameters.values.elements)
            #expect(info.origin == "vaesh" && info.seed == 5 && info.epochs == 3 && info.steps == 1407)
            #expect(info.assumptions.isEmpty)
        }
    }

    /// A state dict PyTorch saved in a checkpoint dict, with DataParallel's prefix, opens as the
    /// same model as the bare one, and says what was unwrapped.
    @Test func pytorchCheckpointsOpenThroughTheirWrappers() throws {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("torch")
        let (bare, _, bareSource) = try Checkpoint.read(path: fixtures.appendingPathComponent("state_dict.pt").path, as: Float.self)
        let (wrapped, info, source) = try Checkpoint.read(path: fixtures.appendingPathComponent("net_dataparallel.pt").path, as: Float.self)
        #expect(bare.architecture == VAEConfiguration(inputSize: 6, encoderHidden: [4], latentSize: 2).architecture)
        #expect(wrapped.parameters.values.elements == bare.parameters.values.elements)
        #expect(bareSource == CheckpointSource(format: .pytorch, unwrapping: [], notes: []))
        #expect(source.unwrapping == [.entry(key: "net", others: ["acc", "epoch"]), .prefix("module.")])
        #expect(info.origin == "pytorch" && info.assumptions.count == 3)   // activation, likelihood, variance

        // Other dtypes are converted, and open says how.
        let (half, _, halfSource) = try Checkpoint.read(path: fixtures.appendingPathComponent("half.pt").path, as: Float.self)
        #expect(half.architecture == bare.architecture)
        #expect(halfSource.notes == ["the file's float16 tensors were widened to float32 exactly"])
        let (_, _, doubleSource) = try Checkpoint.read(path: fixtures.appendingPathComponent("double.pt").path, as: Float.self)
        #expect(doubleSource.notes == ["the file's float64 tensors were rounded to float32, the precision vaesh computes in"])
    }

    /// The fixture written by Python's safetensors in the pytorch/examples layout (no metadata) is
    /// recognised from its names and shapes, and its values come through bit for bit.
    @Test func pytorchLayoutWithoutMetadata() throws {
        let path = try #require(Bundle.module.path(forResource: "vae_tiny", ofType: "safetensors", inDirectory: "Fixtures/safetensors"))
        let (model, info) = try Checkpoint.open(path: path, as: Float.self)
        #expect(model.architecture == VAEConfiguration(inputSize: 6, encoderHidden: [4], latentSize: 2).architecture)
        #expect(info.origin == "pytorch")
        #expect(info.assumptions.count == 3)
        let file = try SafeTensorsFile.read(path: path)
        for slot in model.parameters.slots {
            #expect(Array(model.parameters.values(of: slot)) == file[slot.name]?.values, "\(slot.name)")
        }
    }

    @Test func missingAndMismatchedTensorsNameTheFileAndTensor() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(VAEConfiguration(inputSize: 6, encoderHidden: [4], latentSize: 2), random: &random)
        var tensors = model.parameters.slots.map { StoredTensor(name: $0.name, shape: $0.shape, values: Array(model.parameters.values(of: $0))) }
        tensors.removeAll { $0.name == "fc22.bias" }
        let missing = SafeTensorsFile(tensors: tensors, metadata: [:], fileName: "m.safetensors")
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.model(from: missing) as (model: VAE<Float>, info: CheckpointInfo) }
        do {
            let _: (model: VAE<Float>, info: CheckpointInfo) = try Checkpoint.model(from: missing)
        } catch {
            #expect(error.message.contains("m.safetensors") || error.file == "m.safetensors")
            // Without its bias fc22 is no longer fc21's twin: the heads are refused, both listed.
            #expect(error.message.contains("'fc21.bias' [2]") && error.message.contains("'fc22.weight' [2, 4]"), "\(error.message)")
        }
        tensors = model.parameters.slots.map { StoredTensor(name: $0.name, shape: $0.shape, values: Array(model.parameters.values(of: $0))) }
        tensors[2] = StoredTensor(name: "fc21.weight", shape: [4, 2], values: tensors[2].values)
        let wrongShape = SafeTensorsFile(tensors: tensors, metadata: [:], fileName: "w.safetensors")
        do {
            let _: (model: VAE<Float>, info: CheckpointInfo) = try Checkpoint.model(from: wrongShape)
            Issue.record("expected a shape error")
        } catch {
            #expect(error.message.contains("fc21.weight") || error.message.contains("fc22.weight"))
        }
    }

    @Test func unexpectedTensorIsRefused() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(VAEConfiguration(inputSize: 6, encoderHidden: [4], latentSize: 2), random: &random)
        var tensors = model.parameters.slots.map { StoredTensor(name: $0.name, shape: $0.shape, values: Array(model.parameters.values(of: $0))) }
        tensors.append(StoredTensor(name: "classifier.weight", shape: [2], values: [1, 2]))
        let file = SafeTensorsFile(tensors: tensors, metadata: [:], fileName: "x.safetensors")
        do {
            let _: (model: VAE<Float>, info: CheckpointInfo) = try Checkpoint.model(from: file)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("classifier.weight"))
        }
    }
}
