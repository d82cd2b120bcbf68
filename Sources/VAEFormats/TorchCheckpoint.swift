import Foundation

/// The state dict in a PyTorch checkpoint (`torch.save`, PyTorch ≥ 1.6): named tensors, what had
/// to be unwrapped to reach them, and vaesh's metadata when vaesh wrote the file.
///
/// Reading: the zip container (`TorchArchive`), the byte order, the pickle (`TorchUnpickler`,
/// which builds only what `torch.load(weights_only=True)` builds), the state dict inside the usual
/// checkpoint wrappings (`TorchCheckpoint+Unwrapping.swift`), then each tensor's values from its
/// storage. Files `torch.load(weights_only=True)` refuses are refused here too, by name; files it
/// reads are read, except what vaesh has no use for (complex and quantized tensors, tensor
/// subclasses), which is refused only when the state dict holds it.
///
/// Memory stays within a small multiple of the file's size whatever the file claims: sizes are
/// checked before anything is allocated for them (`ZipBounds`, `TorchArchive`, the unpickler),
/// and the tensors together may hold at most as many elements as the file has bytes (four bytes a
/// Float each), so a view that repeats one element a billion times (stride 0) is refused rather
/// than materialised.
public struct TorchCheckpoint: Sendable {
    /// The state dict's tensors in its order, named as `load_state_dict` would see them once the
    /// unwrapping (below) is done.
    public var tensors: [StoredTensor]
    /// What was taken off to reach the state dict, outermost first (empty for a bare state dict).
    public var unwrapping: [TorchUnwrapping]
    /// vaesh's metadata, from `FOLDER/vaesh.json` (empty for files PyTorch wrote).
    public var metadata: [String: String]
    /// What reading assumed because the file did not say (a missing byteorder record).
    public var notes: [String]
    /// The name errors use.
    public var fileName: String

    public init(tensors: [StoredTensor], unwrapping: [TorchUnwrapping] = [], metadata: [String: String] = [:],
                notes: [String] = [], fileName: String = "checkpoint") {
        self.tensors = tensors
        self.unwrapping = unwrapping
        self.metadata = metadata
        self.notes = notes
        self.fileName = fileName
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> StoredTensor? {
        tensors.first { $0.name == name }
    }

    /// The entry inside the top folder that holds vaesh's metadata (PyTorch ignores entries it
    /// does not know, and `load_state_dict` never sees it).
    static let metadataEntry = "vaesh.json"
}

/// One step of reaching the state dict inside a checkpoint.
public enum TorchUnwrapping: Sendable, Equatable, CustomStringConvertible {
    /// The state dict was the value of `key` in a checkpoint dict whose other keys are `others`.
    case entry(key: String, others: [String])
    /// Every name began with `prefix`, which was removed.
    case prefix(String)

    public var description: String {
        switch self {
        case .entry(let key, let others):
            let rest = others.isEmpty ? "" : "; the checkpoint also holds \(Quoting.list(others)), not read"
            return "took the state dict under \(Quoting.quoted(key))\(rest)"
        case .prefix(let prefix):
            let why = switch prefix {
            case "module.": "nn.DataParallel or DistributedDataParallel adds it"
            case "_orig_mod.": "torch.compile adds it"
            default: "a wrapper module, as in Lightning"
            }
            return "removed the prefix \(Quoting.quoted(prefix)) from every name (\(why))"
        }
    }
}

// MARK: - Reading

extension TorchCheckpoint {
    /// Reads the checkpoint at `path`.
    public static func read(path: String) throws(TorchCheckpointError) -> TorchCheckpoint {
        func io<T>(_ body: () throws(FileError) -> T) throws(TorchCheckpointError) -> T {
            try FileError.wrapped(in: TorchCheckpointError.file, body)
        }
        let file = try io { () throws(FileError) in try LocalFile(path: path, expected: "a PyTorch checkpoint") }
        var data = Data(count: file.size)
        let count = try io { () throws(FileError) in
            try data.withUnsafeMutableBytes { buffer in Result { () throws(FileError) in try file.read(into: buffer) } }.get()
        }
        guard count == file.size else { throw .file(FileError(path: path, operation: .read, failure: .shrank)) }
        return try decode(data, fileName: path)
    }

    /// Decodes a whole checkpoint held in memory; `fileName` is for messages. Every malformed
    /// input gives a `TorchCheckpointError`, which makes this the entry point to fuzz.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(TorchCheckpointError) -> TorchCheckpoint {
        try decode(Data(bytes), fileName: fileName)
    }

    static func decode(_ data: Data, fileName: String) throws(TorchCheckpointError) -> TorchCheckpoint {
        switch TensorFileFormat.detect(data.prefix(16)) {
        case .pytorch: break
        case .pytorchLegacy: throw .legacyFormat(file: fileName)
        case .pickle: throw .barePickle(file: fileName)
        case .safetensors, .unknown:
            throw .archive(file: fileName, detail: "it does not start as a zip archive does (PK\\3\\4)")
        }
        let archive = try TorchArchive(data: data, file: fileName)
        if archive.contains("constants.pkl") || archive.names.contains(where: { $0.hasPrefix("code/") }) {
            throw .torchScript(file: fileName)
        }
        guard let pickle = try archive.contents(of: "data.pkl") else {
            throw .archive(file: fileName, detail: "no \(Quoting.quoted(archive.folder + "/data.pkl")), which holds what torch.save pickled")
        }
        var notes: [String] = []
        let swapped: Bool
        switch try archive.contents(of: "byteorder") {
        case nil:
            swapped = false
            notes.append("the file has no byteorder record (PyTorch before 2.1): read as little-endian, as PyTorch does")
        case Array("little".utf8)?:
            swapped = false
        case Array("big".utf8)?:
            swapped = true  // converted on reading, as torch.load converts
        case let other?:
            throw .entry(file: fileName, entry: archive.folder + "/byteorder",
                         detail: "byte order \(Quoting.quoted(String(decoding: other.prefix(40), as: UTF8.self))), neither 'little' nor 'big'")
        }

        var unpickler = TorchUnpickler(bytes: pickle, file: fileName, entry: archive.folder + "/data.pkl")
        let root = try unpickler.run()
        let (pairs, unwrapping) = try stateDict(in: root, objects: unpickler.objects, tensors: unpickler.tensors, file: fileName)

        var reader = StorageReader(archive: archive, storages: unpickler.storages, swapped: swapped, fileSize: data.count)
        var tensors: [StoredTensor] = []
        for (name, original, index) in pairs {
            tensors.append(try reader.tensor(unpickler.tensors[index], name: name, original: original))
        }
        let metadata = try readMetadata(archive)
        return TorchCheckpoint(tensors: tensors, unwrapping: unwrapping, metadata: metadata, notes: notes, fileName: fileName)
    }

    /// vaesh's metadata entry: a JSON object of strings.
    private static func readMetadata(_ archive: TorchArchive) throws(TorchCheckpointError) -> [String: String] {
        guard let bytes = try archive.contents(of: metadataEntry) else { return [:] }
        func failure(_ detail: String) -> TorchCheckpointError {
            .entry(file: archive.file, entry: archive.folder + "/" + metadataEntry, detail: detail)
        }
        let value: JSONValue
        do {
            var parser = StrictJSONParser(bytes: bytes, name: metadataEntry)
            value = try parser.parseDocument()
        } catch {
            throw failure("not valid JSON: \(error.detail)")
        }
        guard case .object(let members) = value else { throw failure("is \(value.kind), expected an object of strings") }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else { throw failure("the value of \(Quoting.quoted(key)) is \(item.kind), not a string") }
            metadata[key] = text
        }
        return metadata
    }
}

/// Reads tensors' values out of their storages, each storage's entry once, within the budget.
private struct StorageReader {
    let archive: TorchArchive
    let storages: [TorchStorage]
    let swapped: Bool
    let fileSize: Int
    /// Elements still allowed: the file's size in bytes to begin with.
    var budget: Int
    var bytes: [Int: [UInt8]] = [:]

    init(archive: TorchArchive, storages: [TorchStorage], swapped: Bool, fileSize: Int) {
        self.archive = archive
        self.storages = storages
        self.swapped = swapped
        self.fileSize = fileSize
        budget = fileSize
    }

    mutating func tensor(_ view: TorchTensorView, name: String, original: String) throws(TorchCheckpointError) -> StoredTensor {
        let file = archive.file
        func failure(_ detail: String) -> TorchCheckpointError { .tensor(file: file, name: original, detail: detail) }
        guard case .known(let type) = view.elementType else {
            throw failure("its dtype is \(view.elementType.name); vaesh reads float32, float16, bfloat16, float64, integer and bool tensors")
        }
        guard view.count <= budget else {
            throw failure("\(view.count) elements (shape \(Quoting.shape(view.shape))), more than the file's \(Quoting.bytes(fileSize)) hold unless a view repeats them (stride 0); save t.contiguous() instead")
        }
        budget -= view.count
        let raw = try storageBytes(view.storage, failure: failure)
        let swapped = swapped
        let (values, integers) = raw.withUnsafeBytes { buffer in
            if view.strides == StoredTensor.contiguousStrides(view.shape) {
                return type.elements(count: view.count, from: buffer, swapped: swapped, negated: view.negated,
                                     indices: view.offset ..< view.offset + view.count)
            }
            return type.elements(count: view.count, from: buffer, swapped: swapped, negated: view.negated,
                                 indices: StridedIndices(shape: view.shape, strides: view.strides, offset: view.offset))
        }
        return StoredTensor(name: name, shape: view.shape, dtype: type, values: values, integers: integers)
    }

    /// The storage's entry, whose size must be exactly what its persistent id declares.
    private mutating func storageBytes(_ index: Int, failure: (String) -> TorchCheckpointError) throws(TorchCheckpointError) -> [UInt8] {
        if let cached = bytes[index] { return cached }
        let storage = storages[index]
        let elementSize: Int
        switch storage.elementType {
        case .known(let type): elementSize = type.size
        case .unsupported(let name): throw failure("its storage holds \(name) elements, which vaesh does not read")
        }
        guard let contents = try archive.contents(of: "data/\(storage.key)") else {
            throw failure("its storage \(Quoting.quoted("data/" + storage.key)) is not in the archive")
        }
        let (expected, overflow) = storage.count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, contents.count == expected else {
            throw failure("its storage \(Quoting.quoted("data/" + storage.key)) holds \(Quoting.bytes(contents.count)), but the pickle declares \(storage.count) elements of \(Quoting.bytes(elementSize))")
        }
        bytes[index] = contents
        return contents
    }
}

/// The storage index of each element of a strided view, in row-major order.
struct StridedIndices: Sequence, IteratorProtocol {
    let shape: [Int]
    let strides: [Int]
    private var counter: [Int]
    private var current: Int
    private var remaining: Int

    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape
        self.strides = strides
        counter = [Int](repeating: 0, count: shape.count)
        current = offset
        remaining = StoredTensor.elementCount(shape) ?? 0
    }

    mutating func next() -> Int? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        let result = current
        // Advance the innermost axis, carrying outwards. Wrapping arithmetic: an axis of size 1
        // may have any stride (it is never used), and the step past the last element is undone.
        var axis = shape.count - 1
        while axis >= 0 {
            counter[axis] += 1
            current &+= strides[axis]
            if counter[axis] < shape[axis] { break }
            current &-= strides[axis] &* counter[axis]
            counter[axis] = 0
            axis -= 1
        }
        return result
    }
}
