import Foundation
import ZIPFoundation

/// Writing a checkpoint `torch.load(path, weights_only=True)` reads as an `OrderedDict` of
/// tensors, and `model.load_state_dict(…)` takes strictly.
///
/// The archive holds what `torch.save(state_dict, path)` writes for it, built with ZIPFoundation:
/// `archive/data.pkl` (a protocol-2 pickle of `OrderedDict(name → _rebuild_tensor_v2(storage,
/// 0, shape, contiguous strides, False, OrderedDict()))`), `archive/byteorder` ("little"),
/// `archive/data/N` (each tensor's elements, little-endian), `archive/version` ("3"), and vaesh's
/// metadata as `archive/vaesh.json`, a JSON object of strings that PyTorch skips (it reads the
/// entries it knows by name) and that never enters the state dict. There is no
/// `.format_version`: with one, a PyTorch configured to compute storage offsets itself
/// (`torch.utils.serialization.config.load.calculate_storage_offsets`) would assume miniz's exact
/// layout, which ZIPFoundation's is not; without one it asks the zip directory, as it does by default.
///
/// Tensors with `integers` are written as int64 (LongStorage), every other one as float32.
extension TorchCheckpoint {
    /// The archive's bytes. Names must be unique (a programmer error otherwise).
    public func encoded() throws(TorchCheckpointError) -> [UInt8] {
        var names = Set<String>()
        for tensor in tensors {
            precondition(names.insert(tensor.name).inserted, "TorchCheckpoint: tensor '\(tensor.name)' appears twice")
        }
        // Each entry's bytes are made when it is added, so that only one storage's copy exists
        // beside the archive at a time.
        var entries: [(String, () -> [UInt8])] = [("data.pkl", pickle), ("byteorder", { Array("little".utf8) })]
        for (index, tensor) in tensors.enumerated() {
            entries.append(("data/\(index)", { Self.littleEndianBytes(tensor) }))
        }
        entries.append(("version", { Array("3\n".utf8) }))
        if !metadata.isEmpty {
            let object = JSONValue.object(metadata.keys.sorted().map { ($0, .string(metadata[$0] ?? "")) })
            entries.append((Self.metadataEntry, { Array(object.rendered.utf8) }))
        }
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            // A fixed time (1980-01-01, the zip format's first day): equal checkpoints are equal files.
            let date = Date(timeIntervalSince1970: 315_532_800)
            for (name, make) in entries {
                let bytes = make()
                try archive.addEntry(with: "archive/" + name, type: .file, uncompressedSize: Int64(bytes.count),
                                     modificationDate: date, permissions: 0o644, compressionMethod: .none,
                                     bufferSize: max(1, bytes.count)) { position, size in
                    Data(bytes[Int(position) ..< Int(position) + size])
                }
            }
            guard let data = archive.data else { throw ZipBoundsError("no archive data") }
            return Array(data)
        } catch {
            throw .archive(file: fileName, detail: "ZIPFoundation could not build it (\(error))")
        }
    }

    /// Saves the checkpoint to `path` atomically (`AtomicFile`).
    public func write(path: String) throws {
        var named = self
        named.fileName = path
        try AtomicFile.write(named.encoded(), to: path)
    }

    private static func littleEndianBytes(_ tensor: StoredTensor) -> [UInt8] {
        var bytes: [UInt8] = []
        if let integers = tensor.integers {
            bytes.reserveCapacity(8 * integers.count)
            for value in integers { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        } else {
            bytes.reserveCapacity(4 * tensor.values.count)
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        }
        return bytes
    }

    /// `data.pkl`: the opcodes torch.save writes for an OrderedDict of contiguous tensors.
    private func pickle() -> [UInt8] {
        var out = PickleWriter()
        out.bytes = [0x80, 0x02]                                   // PROTO 2
        out.global("collections", "OrderedDict")
        out.bytes += [0x29, 0x52, 0x28]                            // EMPTY_TUPLE REDUCE MARK
        for (index, tensor) in tensors.enumerated() {
            out.string(tensor.name)
            out.global("torch._utils", "_rebuild_tensor_v2")
            out.bytes += [0x28, 0x28]                              // MARK MARK
            out.string("storage")
            out.global("torch", tensor.integers == nil ? "FloatStorage" : "LongStorage")
            out.string(String(index))
            out.string("cpu")
            out.integer(tensor.values.count)
            out.bytes += [0x74, 0x51]                              // TUPLE BINPERSID
            out.integer(0)                                         // storage offset
            out.tuple(tensor.shape)
            out.tuple(StoredTensor.contiguousStrides(tensor.shape))
            out.bytes += [0x89]                                    // NEWFALSE: requires_grad
            out.global("collections", "OrderedDict")
            out.bytes += [0x29, 0x52, 0x74, 0x52]                  // EMPTY_TUPLE REDUCE TUPLE REDUCE
        }
        out.bytes += [0x75, 0x2E]                                  // SETITEMS STOP
        return out.bytes
    }
}

/// Protocol-2 pickle opcodes, written the way CPython's pickler writes them.
private struct PickleWriter {
    var bytes: [UInt8] = []

    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)                                         // GLOBAL
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)                                         // BINUNICODE
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    mutating func integer(_ value: Int) {
        switch value {
        case 0 ..< 256:
            bytes += [0x4B, UInt8(value)]                          // BININT1
        case 256 ..< 65536:
            bytes.append(0x4D)                                     // BININT2
            withUnsafeBytes(of: UInt16(value).littleEndian) { bytes += $0 }
        case Int(Int32.min) ... Int(Int32.max):
            bytes.append(0x4A)                                     // BININT
            withUnsafeBytes(of: Int32(value).littleEndian) { bytes += $0 }
        default:
            bytes += [0x8A, 8]                                     // LONG1, 8 bytes
            withUnsafeBytes(of: Int64(value).littleEndian) { bytes += $0 }
        }
    }

    mutating func tuple(_ values: [Int]) {
        switch values.count {
        case 0: bytes.append(0x29)                                 // EMPTY_TUPLE
        case 1...3:
            values.forEach { integer($0) }
            bytes.append([0x85, 0x86, 0x87][values.count - 1])     // TUPLE1, TUPLE2, TUPLE3
        default:
            bytes.append(0x28)                                     // MARK
            values.forEach { integer($0) }
            bytes.append(0x74)                                     // TUPLE
        }
    }
}
