import Foundation

/// One named tensor of a checkpoint, in Float32: what the formats module reads from a file and
/// what the engine maps onto a model.
public struct NamedTensor: Sendable, Equatable {
    /// The name in PyTorch's `state_dict`, e.g. "fc1.weight".
    public var name: String
    /// Dimensions, outermost first (`Linear.weight` is [out, in]).
    public var shape: [Int]
    /// The elements in row-major order.
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "NamedTensor '\(name)': \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

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
    /// Every metadata entry, as stored.
    public var metadata: [String: String]
}

/// Models as named tensors and metadata, and back: the engine's half of a checkpoint (the formats
/// module reads and writes the file).
///
/// Tensors use the names of the pytorch/examples VAE (see `ParameterLayout`), so that example's
/// `state_dict` maps one to one. The configuration, seed and progress go into the metadata under
/// `vaesh.*` keys; tensors without them are recognised from their names and shapes.
public enum Checkpoint {
    static let formatKey = "vaesh.format"
    static let configurationKey = "vaesh.configuration"

    /// `model`'s tensors in the order of its parameter block, and the metadata that lets it be
    /// rebuilt exactly (and, when given, the seed and the training progress).
    public static func contents<T>(of model: VAE<T>, seed: UInt64? = nil, epochs: Int? = nil,
                                   steps: Int? = nil) -> (tensors: [NamedTensor], metadata: [String: String]) {
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
            NamedTensor(name: slot.name, shape: slot.shape, values: model.parameters.values(of: slot).map { Float($0) })
        }
        return (tensors, metadata)
    }

    /// The model `tensors` and `metadata` describe: its configuration from the metadata when
    /// present, otherwise recognised from the tensors; every tensor the model needs is checked for
    /// presence and shape, and none may be left over. `file` names the source in errors.
    public static func model<T: VAEScalar>(from tensors: [NamedTensor], metadata: [String: String],
                                           file: String) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        var info: CheckpointInfo
        if let text = metadata[configurationKey] {
            guard let data = text.data(using: .utf8),
                  let configuration = try? JSONDecoder().decode(VAEConfiguration.self, from: data) else {
                throw .incompatible(file: file, detail: "metadata '\(configurationKey)' is not a valid model configuration", hint: nil)
            }
            info = CheckpointInfo(configuration: configuration, origin: "vaesh", seed: metadata["vaesh.seed"].flatMap { UInt64($0) },
                                  epochs: metadata["vaesh.epochs"].flatMap { Int($0) },
                                  steps: metadata["vaesh.steps"].flatMap { Int($0) }, assumptions: [], metadata: metadata)
        } else {
            info = try recognise(tensors, metadata: metadata, file: file)
        }
        do {
            try info.configuration.validate()
        } catch {
            throw .incompatible(file: file, detail: error.message, hint: nil)
        }
        let layout = ParameterLayout(info.configuration)
        var byName: [String: [Float]] = [:]
        for slot in layout.slots {
            byName[slot.name] = try require(slot.name, shape: slot.shape, in: tensors, file: file).values
        }
        let expected = Set(layout.slots.map(\.name))
        if let extra = tensors.map(\.name).first(where: { !expected.contains($0) }) {
            throw .incompatible(file: file, detail: "unexpected tensor \(CheckpointError.quoted(extra)) for a \(info.configuration.summary) model",
                                hint: "vaesh reads the pytorch/examples VAE layout (fc1, fc21, fc22, fc3, fc4) and its deeper variants")
        }
        do {
            let model = try VAE<T>(info.configuration) { slot in (byName[slot.name] ?? []).map { T($0) } }
            return (model, info)
        } catch {
            throw .incompatible(file: file, detail: error.message, hint: nil)
        }
    }

    /// The tensor called `name`, which must have exactly `shape`.
    static func require(_ name: String, shape: [Int], in tensors: [NamedTensor], file: String) throws(CheckpointError) -> NamedTensor {
        guard let tensor = tensors.first(where: { $0.name == name }) else {
            throw .missingTensor(file: file, tensor: name, available: tensors.map(\.name))
        }
        guard tensor.shape == shape else {
            throw .shapeMismatch(file: file, tensor: name, shape: tensor.shape, expected: shape)
        }
        return tensor
    }

    /// The configuration of tensors without vaesh metadata, from their names and shapes:
    /// fc1[_k] are the encoder's hidden layers, fc21/fc22 the heads, fc3[_k] the decoder's hidden
    /// layers, fc4 the output, and `logvar_x` a learned Gaussian variance.
    static func recognise(_ tensors: [NamedTensor], metadata: [String: String], file: String) throws(CheckpointError) -> CheckpointInfo {
        func tensor(_ name: String) -> NamedTensor? { tensors.first { $0.name == name } }
        func shape(_ name: String) throws(CheckpointError) -> [Int] {
            guard let tensor = tensor(name) else {
                throw .missingTensor(file: file, tensor: name, available: tensors.map(\.name))
            }
            let rank = name.hasSuffix(".weight") ? 2 : 1
            guard tensor.shape.count == rank else {
                throw .incompatible(file: file, detail: "tensor \(CheckpointError.quoted(name)) has \(tensor.shape.count) dimensions, expected \(rank)", hint: nil)
            }
            return tensor.shape
        }
        let first = try shape("fc1.weight")
        let input = first[1]
        var encoderHidden = [first[0]]
        while tensor("fc1_\(encoderHidden.count + 1).weight") != nil {
            encoderHidden.append(try shape("fc1_\(encoderHidden.count + 1).weight")[0])
        }
        let latent = try shape("fc21.weight")[0]
        var decoderHidden = [try shape("fc3.weight")[0]]
        while tensor("fc3_\(decoderHidden.count + 1).weight") != nil {
            decoderHidden.append(try shape("fc3_\(decoderHidden.count + 1).weight")[0])
        }
        let learned = tensor("logvar_x") != nil
        let configuration = VAEConfiguration(
            inputSize: input, encoderHidden: encoderHidden, latentSize: latent,
            decoderHidden: decoderHidden == encoderHidden.reversed() ? nil : decoderHidden,
            activation: .relu, likelihood: learned ? .gaussianLearned : .bernoulli)
        var assumptions = ["activation relu (the file does not say; the PyTorch example uses ReLU)"]
        if !learned { assumptions.append("likelihood bernoulli (the file does not say; the PyTorch example uses it)") }
        return CheckpointInfo(configuration: configuration, origin: "pytorch", seed: nil, epochs: nil, steps: nil,
                              assumptions: assumptions, metadata: metadata)
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
