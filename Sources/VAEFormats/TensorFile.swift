/// A checkpoint file of either kind vaesh reads, recognised by its first bytes rather than its
/// name (a PyTorch checkpoint is `.pt`, `.pth`, `.bin` or `.ckpt` as its author chose).
public struct TensorFile: Sendable {
    public var format: TensorFileFormat
    public var tensors: [StoredTensor]
    /// The safetensors `__metadata__`, or vaesh's metadata entry in a PyTorch checkpoint.
    public var metadata: [String: String]
    /// What was taken off to reach a PyTorch checkpoint's state dict (empty for safetensors).
    public var unwrapping: [TorchUnwrapping]
    /// What reading assumed because the file did not say.
    public var notes: [String]

    /// Reads the file at `path` as what its first bytes say it is. Throws `FileError`,
    /// `SafeTensorsError` or `TorchCheckpointError` (all `DescribedError`s): the legacy PyTorch
    /// format and bare pickles are refused with the way to convert them. Bytes that are neither
    /// kind are read as safetensors when the name ends in `.safetensors` (a damaged one: its errors
    /// say what is wrong), and refused as neither kind, with their first bytes, otherwise.
    public static func read(path: String) throws -> TensorFile {
        let prefix = try LocalFile(path: path, expected: "a checkpoint file").read(upTo: 16)
        switch TensorFileFormat.detect(prefix) {
        case .pytorch, .pytorchLegacy, .pickle:
            let checkpoint = try TorchCheckpoint.read(path: path)
            return TensorFile(format: .pytorch, tensors: checkpoint.tensors, metadata: checkpoint.metadata,
                              unwrapping: checkpoint.unwrapping, notes: checkpoint.notes)
        case .unknown where !path.lowercased().hasSuffix(".safetensors"):
            throw TorchCheckpointError.unrecognised(file: path, firstBytes: Array(prefix))
        case .safetensors, .unknown:
            let file = try SafeTensorsFile.read(path: path)
            return TensorFile(format: .safetensors, tensors: file.tensors, metadata: file.metadata, unwrapping: [], notes: [])
        }
    }
}

/// What a file's first bytes say it is.
public enum TensorFileFormat: String, Sendable, Equatable {
    /// 8-byte little-endian header length, then `{`.
    case safetensors
    /// A zip archive (`PK\3\4`, or `PK\5\6` when empty): what `torch.save` writes since 1.6.
    case pytorch
    /// A pickle starting with torch's magic number 0x1950a86a20f9469cfc6c: torch.save before 1.6.
    case pytorchLegacy
    /// Any other pickle (protocol 2 to 5).
    case pickle
    case unknown

    /// The format `prefix` (a file's first bytes, 16 are plenty) shows.
    public static func detect(_ prefix: some Collection<UInt8>) -> TensorFileFormat {
        let bytes = Array(prefix.prefix(16))
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return .pytorch
        }
        // PROTO 2, LONG1 of 10 bytes: the magic number, little-endian.
        if bytes.starts(with: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]) {
            return .pytorchLegacy
        }
        // Before the pickle test: a header of 0x380 bytes begins 80 03, like a protocol-3 pickle,
        // and no pickle has '{' (no opcode) as its ninth byte.
        if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") {
            return .safetensors
        }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) {
            return .pickle
        }
        return .unknown
    }
}
