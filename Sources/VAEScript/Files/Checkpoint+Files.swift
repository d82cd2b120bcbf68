import VAEFormats
import VAEKit

// Where checkpoint files meet models: the formats module reads and writes safetensors and PyTorch
// checkpoints, and the engine's `Checkpoint` maps named tensors onto a model and back.

/// How an opened checkpoint was read: its format, and for a PyTorch checkpoint what was
/// unwrapped to reach the state dict and what had to be assumed about the file.
public struct CheckpointSource: Sendable, Equatable {
    public var format: TensorFileFormat
    public var unwrapping: [TorchUnwrapping]
    public var notes: [String]

    public init(format: TensorFileFormat, unwrapping: [TorchUnwrapping] = [], notes: [String] = []) {
        self.format = format
        self.unwrapping = unwrapping
        self.notes = notes
    }
}

extension Checkpoint {
    /// The extensions `save` writes as a PyTorch zip checkpoint; any other name gets safetensors.
    public static let pytorchExtensions = ["pt", "pth"]

    /// Writes `model` (and, when given, the seed and training progress) to `path`, atomically: a
    /// PyTorch checkpoint for `.pt` and `.pth` (what `torch.load(path, weights_only=True)` reads and
    /// `load_state_dict` takes strictly), safetensors otherwise. Both keep the architecture in the
    /// metadata, so vaesh reopens either exactly.
    public static func save<T>(_ model: VAE<T>, to path: String, seed: UInt64? = nil, epochs: Int? = nil,
                               steps: Int? = nil) throws {
        let contents = contents(of: model, seed: seed, epochs: epochs, steps: steps)
        let tensors = contents.tensors.map { StoredTensor(name: $0.name, shape: $0.shape, values: $0.values) }
        if isPyTorchPath(path) {
            try TorchCheckpoint(tensors: tensors, metadata: contents.metadata, fileName: path).write(path: path)
        } else {
            try SafeTensorsFile(tensors: tensors, metadata: contents.metadata, fileName: path).write(path: path)
        }
    }

    /// True when `path` ends in `.pt` or `.pth` (any case).
    public static func isPyTorchPath(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return pytorchExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

    /// Reads the model in the checkpoint at `path`, safetensors or PyTorch (told apart by content):
    /// a formats error for a damaged file, a `CheckpointError` for tensors that describe no model
    /// vaesh can build. `architecture` is for files that do not record theirs (see
    /// `Checkpoint.model(from:metadata:file:architecture:)`).
    public static func open<T: VAEScalar>(path: String, as type: T.Type = T.self,
                                          architecture: VAEArchitecture? = nil) throws -> (model: VAE<T>, info: CheckpointInfo) {
        let read = try read(path: path, as: type, architecture: architecture)
        return (read.model, read.info)
    }

    /// `open`, and how the file was read (its format, what was unwrapped, what was converted).
    public static func read<T: VAEScalar>(path: String, as: T.Type = T.self, architecture: VAEArchitecture? = nil,
                                          hints: CheckpointHints = CheckpointHints()) throws
        -> (model: VAE<T>, info: CheckpointInfo, source: CheckpointSource) {
        let file = try TensorFile.read(path: path)
        let (model, info): (VAE<T>, CheckpointInfo) = try model(from: file.tensors, metadata: file.metadata, file: path,
                                                                architecture: architecture, hints: hints)
        return (model, info, CheckpointSource(format: file.format, unwrapping: file.unwrapping,
                                              notes: file.notes + precisionNotes(file.tensors)))
    }

    /// What reading did to values that were not float32: said, since the numbers printed later
    /// come from the converted values.
    static func precisionNotes(_ tensors: [StoredTensor]) -> [String] {
        let types = Set(tensors.map(\.dtype))
        var notes: [String] = []
        let narrow = [TensorDType.float16, .bfloat16].filter(types.contains).map(\.rawValue)
        if !narrow.isEmpty {
            notes.append("the file's \(narrow.joined(separator: " and ")) tensors were widened to float32 exactly")
        }
        if types.contains(.float64) {
            notes.append("the file's float64 tensors were rounded to float32, the precision vaesh computes in")
        }
        return notes
    }

    /// The model a decoded safetensors file describes (see `open`).
    public static func model<T: VAEScalar>(from file: SafeTensorsFile,
                                           architecture: VAEArchitecture? = nil) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        try model(from: file.tensors, metadata: file.metadata, file: file.fileName, architecture: architecture)
    }

    /// The model stored tensors and metadata describe (see `open`).
    static func model<T: VAEScalar>(from tensors: [StoredTensor], metadata: [String: String], file: String,
                                    architecture: VAEArchitecture? = nil,
                                    hints: CheckpointHints = CheckpointHints()) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        let named = tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) }
        return try model(from: named, metadata: metadata, file: file, architecture: architecture, hints: hints)
    }
}
