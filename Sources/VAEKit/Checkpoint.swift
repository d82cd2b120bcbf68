import Foundation

/// What a checkpoint says about where a model came from, besides its tensors.
public struct CheckpointInfo: Sendable, Equatable {
    public var configuration: VAEConfiguration
    /// "vaesh" for files this engine wrote (with metadata), "pytorch" for files recognised from
    /// their tensor names and shapes alone.
    public var origin: String
    public var seed: UInt64?
    public var epochs: Int?
    public var steps: Int?
    /// What had to be assumed because the file did not say (e.g. the activation of a PyTorch file).
    public var assumptions: [String]
    /// Every `__metadata__` entry, as stored.
    public var metadata: [String: String]
}

/// Saving and opening models in the safetensors format.
///
/// Tensors use the names of the pytorch/examples VAE (see `ParameterLayout`), so that example's
/// `safetensors.torch.save_file(model.state_dict(), path)` opens here, and a file saved here loads
/// in PyTorch with `load_state_dict`. The configuration, seed and progress go into `__metadata__`
/// under `vaesh.*` keys; a file without them is recognised from its tensor names and shapes.
public enum Checkpoint {
    static let formatKey = "vaesh.format"
    static let configurationKey = "vaesh.configuration"

    /// Writes `model` (and, when given, the optimiser's step count) to `path`, atomically.
    public static func save<T>(_ model: VAE<T>, to path: String, seed: UInt64? = nil, epochs: Int? = nil,
                               steps: Int? = nil) throws(CheckpointError) {
        var metadata: [String: String] = [formatKey: "1"]
        if let data = try? JSONEncoder.sorted.encode(model.configuration), let text = String(data: data, encoding: .utf8) {
            metadata[configurationKey] = text
        }
        metadata["vaesh.architecture"] = model.configuration.summary
        metadata["vaesh.likelihood"] = model.configuration.likelihood.summary
        metadata["vaesh.activation"] = model.configuration.activation.rawValue
        if let seed { metadata["vaesh.seed"] = String(seed) }
        if let epochs { metadata["vaesh.epochs"] = String(epochs) }
        if let steps { metadata["vaesh.steps"] = String(steps) }
        let tensors = model.parameters.slots.map { slot in
            SafeTensor(name: slot.name, shape: slot.shape, values: model.parameters.values(of: slot).map { Float($0) })
        }
        try SafeTensorsFile(tensors: tensors, metadata: metadata, fileName: path).write(path: path)
    }

    /// Reads the model at `path`: its configuration from the metadata when present, otherwise
    /// recognised from the tensors; every tensor the model needs is checked for presence and shape.
    public static func open<T: VAEScalar>(path: String, as: T.Type = T.self) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        let file = try SafeTensorsFile.read(path: path)
        return try model(from: file, path: path)
    }

    /// The model a decoded file describes (see `open`).
    public static func model<T: VAEScalar>(from file: SafeTensorsFile, path: String) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        var info: CheckpointInfo
        if let text = file.metadata[configurationKey] {
            guard let data = text.data(using: .utf8),
                  let configuration = try? JSONDecoder().decode(VAEConfiguration.self, from: data) else {
                throw .incompatible(file: path, detail: "__metadata__ '\(configurationKey)' is not a valid model configuration", hint: nil)
            }
            info = CheckpointInfo(configuration: configuration, origin: "vaesh", seed: file.metadata["vaesh.seed"].flatMap { UInt64($0) },
                                  epochs: file.metadata["vaesh.epochs"].flatMap { Int($0) },
                                  steps: file.metadata["vaesh.steps"].flatMap { Int($0) }, assumptions: [], metadata: file.metadata)
        } else {
            info = try recognise(file, path: path)
        }
        do {
            try info.configuration.validate()
        } catch {
            throw .incompatible(file: path, detail: error.message, hint: nil)
        }
        let layout = ParameterLayout(info.configuration)
        var tensors: [String: [Float]] = [:]
        for slot in layout.slots {
            tensors[slot.name] = try file.require(slot.name, shape: slot.shape).values
        }
        let expected = Set(layout.slots.map(\.name))
        if let extra = file.tensors.map(\.name).first(where: { !expected.contains($0) }) {
            throw .incompatible(file: path, detail: "unexpected tensor '\(extra)' for a \(info.configuration.summary) model",
                                hint: "vaesh reads the pytorch/examples VAE layout (fc1, fc21, fc22, fc3, fc4) and its deeper variants")
        }
        do {
            let model = try VAE<T>(info.configuration) { slot in (tensors[slot.name] ?? []).map { T($0) } }
            return (model, info)
        } catch {
            throw .incompatible(file: path, detail: error.message, hint: nil)
        }
    }

    /// The configuration of a file without vaesh metadata, from its tensor names and shapes:
    /// fc1[_k] are the encoder's hidden layers, fc21/fc22 the heads, fc3[_k] the decoder's hidden
    /// layers, fc4 the output, and `logvar_x` a learned Gaussian variance.
    static func recognise(_ file: SafeTensorsFile, path: String) throws(CheckpointError) -> CheckpointInfo {
        func shape(_ name: String) throws(CheckpointError) -> [Int] {
            guard let tensor = file[name] else {
                throw .missingTensor(file: path, tensor: name, available: file.tensors.map(\.name))
            }
            guard tensor.shape.count == (name.hasSuffix(".weight") ? 2 : 1) else {
                throw .incompatible(file: path, detail: "tensor '\(name)' has \(tensor.shape.count) dimensions, expected \(name.hasSuffix(".weight") ? 2 : 1)", hint: nil)
            }
            return tensor.shape
        }
        let first = try shape("fc1.weight")
        let input = first[1]
        var encoderHidden = [first[0]]
        while file["fc1_\(encoderHidden.count + 1).weight"] != nil {
            encoderHidden.append(try shape("fc1_\(encoderHidden.count + 1).weight")[0])
        }
        let latent = try shape("fc21.weight")[0]
        var decoderHidden = [try shape("fc3.weight")[0]]
        while file["fc3_\(decoderHidden.count + 1).weight"] != nil {
            decoderHidden.append(try shape("fc3_\(decoderHidden.count + 1).weight")[0])
        }
        let learned = file["logvar_x"] != nil
        let configuration = VAEConfiguration(
            inputSize: input, encoderHidden: encoderHidden, latentSize: latent,
            decoderHidden: decoderHidden == encoderHidden.reversed() ? nil : decoderHidden,
            activation: .relu, likelihood: learned ? .gaussianLearned : .bernoulli)
        var assumptions = ["activation relu (the file does not say; the PyTorch example uses ReLU)"]
        if !learned { assumptions.append("likelihood bernoulli (the file does not say; the PyTorch example uses it)") }
        return CheckpointInfo(configuration: configuration, origin: "pytorch", seed: nil, epochs: nil, steps: nil,
                              assumptions: assumptions, metadata: file.metadata)
    }
}

extension JSONEncoder {
    /// Keys sorted, so the same configuration always writes the same bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
