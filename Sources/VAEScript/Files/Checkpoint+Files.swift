import VAEFormats
import VAEKit

// Where checkpoint files meet models: the formats module reads and writes safetensors, and the
// engine's `Checkpoint` maps named tensors onto a model and back.

extension Checkpoint {
    /// Writes `model` (and, when given, the seed and training progress) to a safetensors file at
    /// `path`, atomically.
    public static func save<T>(_ model: VAE<T>, to path: String, seed: UInt64? = nil, epochs: Int? = nil,
                               steps: Int? = nil) throws(FileError) {
        let contents = contents(of: model, seed: seed, epochs: epochs, steps: steps)
        let tensors = contents.tensors.map { SafeTensor(name: $0.name, shape: $0.shape, values: $0.values) }
        try SafeTensorsFile(tensors: tensors, metadata: contents.metadata, fileName: path).write(path: path)
    }

    /// Reads the model in the safetensors file at `path`: a `SafeTensorsError` for a damaged file,
    /// a `CheckpointError` for tensors that describe no model vaesh can build.
    /// `architecture` is for files that do not record theirs (see `Checkpoint.model(from:metadata:file:architecture:)`).
    public static func open<T: VAEScalar>(path: String, as: T.Type = T.self,
                                          architecture: VAEArchitecture? = nil) throws -> (model: VAE<T>, info: CheckpointInfo) {
        try model(from: SafeTensorsFile.read(path: path), architecture: architecture)
    }

    /// The model a decoded safetensors file describes (see `open`).
    public static func model<T: VAEScalar>(from file: SafeTensorsFile,
                                           architecture: VAEArchitecture? = nil) throws(CheckpointError) -> (model: VAE<T>, info: CheckpointInfo) {
        let tensors = file.tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) }
        return try model(from: tensors, metadata: file.metadata, file: file.fileName, architecture: architecture)
    }
}
