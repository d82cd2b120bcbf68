import Foundation

/// One named tensor of a checkpoint, in Float32: what the formats module reads from a file and
/// what the engine maps onto a model.
public struct NamedTensor: Sendable, Equatable {
    /// The name in PyTorch's `state_dict`, e.g. "fc1.weight".
    public var name: String
    /// Dimensions, outermost first (`Linear.weight` is [out, in]; `num_batches_tracked` is []).
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
    public var architecture: VAEArchitecture
    /// "vaesh" for files this engine wrote (with metadata), "pytorch" for files without it (their
    /// architecture recognised from tensor names and shapes, or given by the caller).
    public var origin: String
    public var seed: UInt64?
    public var epochs: Int?
    public var steps: Int?
    /// What had to be assumed because the file did not say (e.g. the activation of a PyTorch
    /// file), each naming the `open` option that changes it.
    public var assumptions: [String]
    /// Every metadata entry, as stored.
    public var metadata: [String: String]
    /// What was read from the tensors' structure or names (the heads, the order of the layers,
    /// a prefix taken off, the mapping onto a described model), for the report.
    public var understood: [String] = []
}

/// Models as named tensors and metadata, and back: the engine's half of a checkpoint (the formats
/// module reads and writes the file).
///
/// Tensors carry PyTorch's `state_dict` names (see `ParameterNaming`), parameters and buffers
/// alike, in `state_dict` order. The metadata records the whole architecture (`vaesh.model`, JSON),
/// so a file vaesh wrote always reopens as exactly that model; its layers are also spelled out in
/// their canonical text for a person reading the file. Files of earlier versions (`vaesh.configuration`,
/// an MLP) still open, and so do files without metadata: an MLP is recognised from its structure,
/// any other layout needs the caller to say its architecture.
public enum Checkpoint {
    static let formatKey = "vaesh.format"
    static let modelKey = "vaesh.model"
    /// The MLP description files of format 1 carry (and MLP files still do, for older readers).
    static let configurationKey = "vaesh.configuration"

    /// `model`'s tensors in `state_dict` order, and the metadata that lets it be rebuilt exactly
    /// (and, when given, the seed and the training progress).
    public static func contents<T>(of model: VAE<T>, seed: UInt64? = nil, epochs: Int? = nil,
                                   steps: Int? = nil) -> (tensors: [NamedTensor], metadata: [String: String]) {
        let architecture = model.architecture
        var metadata: [String: String] = [formatKey: "2"]
        metadata[modelKey] = json(architecture)
        if let configuration = architecture.mlpConfiguration, architecture.input == .vector(configuration.inputSize) {
            metadata[configurationKey] = json(configuration)
            metadata["vaesh.activation"] = configuration.activation.rawValue
        }
        metadata["vaesh.architecture"] = architecture.summary
        metadata["vaesh.input"] = architecture.input.text
        metadata["vaesh.encoder"] = architecture.encoder.map(\.description).joined(separator: " ")
        metadata["vaesh.head"] = architecture.head.rawValue
        metadata["vaesh.latent"] = String(architecture.latentSize)
        metadata["vaesh.decoder"] = architecture.decoder.map(\.description).joined(separator: " ")
        metadata["vaesh.likelihood"] = architecture.likelihood.summary
        if let seed { metadata["vaesh.seed"] = String(seed) }
        if let epochs { metadata["vaesh.epochs"] = String(epochs) }
        if let steps { metadata["vaesh.steps"] = String(steps) }
        var byName: [String: NamedTensor] = [:]
        for slot in model.parameters.slots {
            byName[slot.name] = NamedTensor(name: slot.name, shape: slot.shape, values: model.parameters.values(of: slot).map { Float($0) })
        }
        for slot in model.buffers.slots {
            byName[slot.name] = NamedTensor(name: slot.name, shape: slot.shape, values: model.buffers.values(of: slot).map { Float($0) })
        }
        return (model.stateOrder.compactMap { byName[$0] }, metadata)
    }

    /// The model `tensors` and `metadata` describe: its architecture from the metadata when
    /// present, else `architecture` when the caller gives one (the tensors mapped onto it by order
    /// and shape), else recognised from the tensors' structure (`recogniseStructure`), with
    /// `hints` for what tensors cannot tell. Every tensor the model needs is checked for presence
    /// and shape, and none may be left over. `file` names the source in errors.
    public static func model<T: VAEScalar>(from tensors: [NamedTensor], metadata: [String: String], file: String,
                                           architecture given: VAEArchitecture? = nil,
                                           hints: CheckpointHints = CheckpointHints()) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        var (info, tensors) = try describe(tensors, metadata: metadata, file: file, given: given, hints: hints)
        let summary: ArchitectureSummary, layout: ModelLayout
        do {
            summary = try info.architecture.validate()
            layout = try ModelLayout(info.architecture, summary: summary)
        } catch {
            throw .incompatible(file: file, detail: error.message, hint: error.hint)
        }
        var parameterValues: [String: [Float]] = [:], bufferValues: [String: [Float]] = [:]
        for slot in layout.parameters.slots {
            parameterValues[slot.name] = try require(slot.name, shape: slot.shape, in: tensors, file: file).values
        }
        for slot in layout.buffers.slots {
            // PyTorch before 0.4.1 kept no batch count, and nothing here reads it: 0 when absent.
            if slot.name.hasSuffix(".num_batches_tracked") {
                guard let tensor = tensors.first(where: { $0.name == slot.name }) else { continue }
                guard tensor.values.count == 1 else {
                    throw .shapeMismatch(file: file, tensor: slot.name, shape: tensor.shape, expected: slot.shape)
                }
                bufferValues[slot.name] = tensor.values
                continue
            }
            bufferValues[slot.name] = try require(slot.name, shape: slot.shape, in: tensors, file: file).values
        }
        let expected = Set(layout.parameters.slots.map(\.name) + layout.buffers.slots.map(\.name))
        if let extra = tensors.map(\.name).first(where: { !expected.contains($0) }) {
            let hint = "the architecture has no layer with this tensor"
            throw .incompatible(file: file, detail: "unexpected tensor \(CheckpointError.quoted(extra)) for a \(info.architecture.summary) model",
                                hint: hint)
        }
        do {
            let model = try VAE<T>(info.architecture, values: { slot in (parameterValues[slot.name] ?? []).map { T($0) } },
                                   buffers: { slot in bufferValues[slot.name].map { $0.map { T($0) } } })
            info.architecture = model.architecture
            return (model, info)
        } catch {
            throw .incompatible(file: file, detail: error.message, hint: error.hint)
        }
    }

    /// The architecture and provenance the metadata records, or the caller gives (the tensors
    /// then mapped onto it by order and shape), or the tensors' structure shows; and the tensors
    /// under the model's names.
    private static func describe(_ tensors: [NamedTensor], metadata: [String: String], file: String, given: VAEArchitecture?,
                                 hints: CheckpointHints) throws(CheckpointError) -> (CheckpointInfo, [NamedTensor]) {
        func recorded(_ architecture: VAEArchitecture) throws(CheckpointError) -> (CheckpointInfo, [NamedTensor]) {
            if let given, given != architecture {
                throw .incompatible(file: file, detail: "the file records a \(architecture.summary) model, not the architecture given",
                                    hint: "open it without giving an architecture")
            }
            if hints.describesTheModel {
                throw .incompatible(file: file, detail: "the file records its model (\(architecture.summary), saved by vaesh): activation=, variance= and likelihood= are for files that do not",
                                    hint: "open it without them")
            }
            return (CheckpointInfo(architecture: architecture, origin: "vaesh", seed: metadata["vaesh.seed"].flatMap { UInt64($0) },
                                   epochs: metadata["vaesh.epochs"].flatMap { Int($0) },
                                   steps: metadata["vaesh.steps"].flatMap { Int($0) }, assumptions: [], metadata: metadata), tensors)
        }
        if let text = metadata[modelKey] {
            guard let architecture = decode(VAEArchitecture.self, from: text) else {
                throw .incompatible(file: file, detail: "metadata '\(modelKey)' is not a valid architecture", hint: nil)
            }
            return try recorded(architecture)
        }
        if let text = metadata[configurationKey] {
            guard let configuration = decode(VAEConfiguration.self, from: text) else {
                throw .incompatible(file: file, detail: "metadata '\(configurationKey)' is not a valid model configuration", hint: nil)
            }
            do { try configuration.validate() } catch { throw .incompatible(file: file, detail: error.message, hint: nil) }
            return try recorded(configuration.architecture)
        }
        if var given {
            if hints.activation != nil {
                throw .incompatible(file: file, detail: "activation= is for a model vaesh recognises; the model you described says its own activations",
                                    hint: "change the activations in the 'model …' line instead")
            }
            var understood: [String] = []
            if let variance = hints.variance { given.variance = variance; understood.append("variance=\(variance.rawValue): \(variance.meaning)") }
            if let likelihood = hints.likelihood { given.likelihood = likelihood }
            let mapped = try mapByOrder(tensors, onto: given, file: file)
            return (CheckpointInfo(architecture: given, origin: "pytorch", seed: nil, epochs: nil, steps: nil, assumptions: [],
                                   metadata: metadata, understood: mapped.notes + understood), mapped.tensors)
        }
        let recognition = try recogniseStructure(tensors, hints: hints, file: file)
        var understood = recognition.understood
        if let variance = hints.variance { understood.append("variance=\(variance.rawValue): \(variance.meaning)") }
        return (CheckpointInfo(architecture: recognition.architecture, origin: "pytorch", seed: nil, epochs: nil, steps: nil,
                               assumptions: recognition.assumptions, metadata: metadata, understood: understood), recognition.tensors)
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

    /// `value` as JSON with sorted keys, so the same model always writes the same bytes.
    private static func json(_ value: some Encodable) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) }
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, from text: String) -> Value? {
        text.data(using: .utf8).flatMap { try? JSONDecoder().decode(type, from: $0) }
    }
}
