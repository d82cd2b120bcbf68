extension SafeTensorsFile {
    /// The file as safetensors bytes: every tensor F32, in `tensors` order, `__metadata__` first
    /// with its keys sorted (so equal files give equal bytes), and the header padded with spaces
    /// to a multiple of 8 bytes so every tensor's data is aligned, as the reference writer does
    /// (re-encoding a file Python wrote gives back its bytes).
    ///
    /// Names must be unique and not `__metadata__`, and each tensor's values must match its
    /// shape; breaking that is a programmer error.
    public func encoded() -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.keys.sorted().map { ($0, .string(metadata[$0] ?? "")) })))
        }
        var offset = 0
        var names = Set<String>()
        for tensor in tensors {
            precondition(tensor.name != "__metadata__", "SafeTensorsFile: '__metadata__' is not a tensor name")
            precondition(names.insert(tensor.name).inserted, "SafeTensorsFile: tensor '\(tensor.name)' appears twice")
            precondition(StoredTensor.elementCount(tensor.shape) == tensor.values.count,
                         "SafeTensorsFile: tensor '\(tensor.name)' has \(tensor.values.count) values for shape \(tensor.shape)")
            let end = offset + 4 * tensor.values.count
            members.append((tensor.name, .object([
                ("dtype", .string("F32")),
                ("shape", .array(tensor.shape.map { .int($0) })),
                ("data_offsets", .array([.int(offset), .int(end)])),
            ])))
            offset = end
        }
        var header = Array(JSONValue.object(members).rendered.utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for tensor in tensors {
            #if _endian(little)
            tensor.values.withUnsafeBytes { bytes += $0 }
            #else
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
            }
            #endif
        }
        return bytes
    }

    /// Saves the file to `path` atomically (`AtomicFile`): a save that fails or is interrupted
    /// leaves any earlier file at `path` exactly as it was.
    public func write(path: String) throws(FileError) {
        try AtomicFile.write(encoded(), to: path)
    }
}
