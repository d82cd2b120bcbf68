// The safetensors format (https://github.com/huggingface/safetensors), the way the ML ecosystem
// stores tensors:
//
//     8 bytes   N, the header length, little-endian UInt64
//     N bytes   UTF-8 JSON object: "name": {"dtype": "F32", "shape": [4, 6], "data_offsets": [b, e]}
//               for each tensor, plus an optional "__metadata__": {string: string}
//     the rest  the data: each tensor's little-endian, row-major bytes at data_offsets [b, e)
//
// The reader treats every file as hostile. It checks the header length against the file size
// before reading the header (a 2 GB length in a small file allocates nothing), parses the JSON
// strictly (`StrictJSONParser`: bounded depth, duplicate keys refused, integers read exactly), and
// checks the layout as the reference implementation does: sorted by offset, the tensors must
// cover the data exactly, with no gap, no overlap and nothing after the last one, and each must
// span exactly element count × element size bytes (overflow checked). Anything else is a typed
// `SafeTensorsError` naming the file; no input reaches a trap.
//
// Files: this one (the types and reading), `SafeTensors+Layout.swift` (the header's checks),
// `SafeTensors+Writing.swift`, `SafeTensorsError.swift`.

/// The tensors and metadata of one safetensors file.
///
/// Reading accepts F32, and converts F64, F16 and BF16 to Float: F16 and BF16 exactly (every
/// value is a Float); F64 rounded to the nearest Float, so magnitudes beyond ±3.4e38 become
/// ±infinity and tiny ones lose precision or flush to zero, as `Float(_: Double)` does. Each
/// `StoredTensor` keeps the dtype it had. Integer, boolean and 8/6/4-bit float dtypes are refused
/// with an error naming the dtype. Writing always produces F32.
public struct SafeTensorsFile: Sendable {
    /// The tensors, in file order (sorted by data offset). `write` keeps this order.
    public var tensors: [StoredTensor]
    /// The `__metadata__` strings; empty when the file has none (as PyTorch writes it).
    public var metadata: [String: String]
    /// The name errors use: the path it was read from, or the name given to `decode`/`init`.
    public var fileName: String

    public init(tensors: [StoredTensor], metadata: [String: String] = [:], fileName: String = "checkpoint") {
        self.tensors = tensors
        self.metadata = metadata
        self.fileName = fileName
    }

    /// The tensor called `name`, or nil. A linear search: files hold tens of tensors.
    public subscript(name: String) -> StoredTensor? {
        tensors.first { $0.name == name }
    }

    /// The largest header accepted: the reference implementation's limit (100 MB). Real headers
    /// are a few kilobytes to a few megabytes.
    static let maximumHeaderLength = 100_000_000
}

// MARK: - Reading

extension SafeTensorsFile {
    /// Reads and checks the safetensors file at `path`.
    ///
    /// Reads the 8-byte length, then the header, and checks the whole layout against the file's
    /// size before reading any tensor data, so a wrong or damaged file costs little memory.
    public static func read(path: String) throws(SafeTensorsError) -> SafeTensorsFile {
        func io<T>(_ body: () throws(FileError) -> T) throws(SafeTensorsError) -> T {
            try FileError.wrapped(in: SafeTensorsError.file, body)
        }
        let file = try io { () throws(FileError) in try LocalFile(path: path, expected: "a safetensors file") }
        let prefix = try io { () throws(FileError) in try file.read(exactly: min(8, file.size)) }
        let headerLength = try SafeTensorsLayout.headerLength(prefix: prefix, fileSize: file.size, file: path)
        let header = try io { () throws(FileError) in try file.read(exactly: headerLength) }
        let layout = try SafeTensorsLayout(header: header, dataSize: file.size - 8 - headerLength, file: path)
        let data = try io { () throws(FileError) in try file.read(exactly: layout.dataSize) }
        return data.withUnsafeBytes { layout.makeFile(data: $0) }
    }

    /// Checks and decodes a whole safetensors file held in memory; `fileName` is for messages.
    /// Every malformed input gives a `SafeTensorsError`, which makes this the entry point to fuzz.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(SafeTensorsError) -> SafeTensorsFile {
        let headerLength = try SafeTensorsLayout.headerLength(
            prefix: Array(bytes.prefix(8)), fileSize: bytes.count, file: fileName)
        let dataStart = 8 + headerLength  // no overflow: headerLength <= bytes.count - 8
        let layout = try SafeTensorsLayout(
            header: Array(bytes[8 ..< dataStart]), dataSize: bytes.count - dataStart, file: fileName)
        return bytes.withUnsafeBytes { all in
            layout.makeFile(data: UnsafeRawBufferPointer(rebasing: all[dataStart...]))
        }
    }
}
