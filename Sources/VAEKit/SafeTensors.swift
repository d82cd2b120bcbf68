#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The safetensors format (https://github.com/huggingface/safetensors), the way the ML ecosystem
// stores tensors:
//
//     8 bytes   N, the header length, little-endian UInt64
//     N bytes   UTF-8 JSON object: "name": {"dtype": "F32", "shape": [4, 6], "data_offsets": [b, e]}
//               for each tensor, plus an optional "__metadata__": {string: string}
//     the rest  the data: each tensor's little-endian, row-major bytes at data_offsets [b, e)
//
// The reader treats every file as hostile. It checks the header length against the file size
// before reading the header (a 2 GB length in a small file allocates nothing), parses the JSON with
// a strict parser of its own (bounded depth, duplicate keys refused, integers read exactly), and
// checks the layout as the reference implementation does: sorted by offset, the tensors must
// cover the data exactly, with no gap, no overlap and nothing after the last one, and each must
// span exactly element count × element size bytes (overflow checked). Anything else is a typed
// `CheckpointError` naming the file; no input reaches a trap.

/// One named tensor from a safetensors file, in Float32 whatever its dtype on disk.
public struct SafeTensor: Sendable, Equatable {
    /// The tensor's key in the header, e.g. "fc1.weight".
    public var name: String
    /// Dimensions, outermost first (PyTorch's `Linear.weight` is [out, in]). [] is a scalar.
    public var shape: [Int]
    /// The elements in row-major order; `shape`'s product of them.
    public var values: [Float]

    /// A tensor; `values.count` must equal the product of `shape` (a programmer error otherwise).
    public init(name: String, shape: [Int], values: [Float]) {
        precondition(SafeTensor.elementCount(shape) == values.count,
                     "SafeTensor '\(name)': \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// The product of `shape`, or nil if a dimension is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }
}

/// The tensors and metadata of one safetensors file.
///
/// Reading accepts F32, and converts F64, F16 and BF16 to Float: F16 and BF16 exactly (every
/// value is a Float); F64 rounded to the nearest Float, so magnitudes beyond ±3.4e38 become
/// ±infinity and tiny ones lose precision or flush to zero, as `Float(_: Double)` does. Integer,
/// boolean and 8/6/4-bit float dtypes are refused with an error naming the dtype. Writing always
/// produces F32.
public struct SafeTensorsFile: Sendable {
    /// The tensors, in file order (sorted by data offset). `write` keeps this order.
    public var tensors: [SafeTensor]
    /// The `__metadata__` strings; empty when the file has none (as PyTorch writes it).
    public var metadata: [String: String]
    /// The name errors use: the path it was read from, or the name given to `decode`/`init`.
    public var fileName: String

    public init(tensors: [SafeTensor], metadata: [String: String] = [:], fileName: String = "checkpoint") {
        self.tensors = tensors
        self.metadata = metadata
        self.fileName = fileName
    }

    /// The tensor called `name`, or nil. A linear search: files hold tens of tensors.
    public subscript(name: String) -> SafeTensor? {
        tensors.first { $0.name == name }
    }

    /// The tensor called `name`, which must have exactly `shape`.
    ///
    /// Throws `missingTensor` ("missing tensor 'fc1.weight'", with a hint listing what the file
    /// holds) or `shapeMismatch` ("tensor 'fc1.weight' has shape [400, 784], expected [400, 100]").
    public func require(_ name: String, shape: [Int]) throws(CheckpointError) -> SafeTensor {
        guard let tensor = self[name] else {
            throw .missingTensor(file: fileName, tensor: name, available: tensors.map(\.name))
        }
        guard tensor.shape == shape else {
            throw .shapeMismatch(file: fileName, tensor: name, shape: tensor.shape, expected: shape)
        }
        return tensor
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
    public static func read(path: String) throws(CheckpointError) -> SafeTensorsFile {
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; regular files ignore it.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw .fileNotFound(file: path)
            case EISDIR: throw .isDirectory(file: path)
            default: throw .unreadable(file: path, reason: CheckpointError.systemReason(code))
            }
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .unreadable(file: path, reason: CheckpointError.systemReason(errno))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .isDirectory(file: path)
        default: throw .notRegularFile(file: path)
        }
        guard let fileSize = Int(exactly: status.st_size) else {
            throw .unreadable(file: path, reason: "the system reports an impossible size \(status.st_size)")
        }

        let reader = SafeTensorsReader(descriptor: descriptor, file: path)
        let prefix = try reader.read(count: min(8, fileSize))
        let headerLength = try SafeTensorsLayout.headerLength(prefix: prefix, fileSize: fileSize, file: path)
        let header = try reader.read(count: headerLength)
        let layout = try SafeTensorsLayout(header: header, dataSize: fileSize - 8 - headerLength, file: path)
        let data = try reader.read(count: layout.dataSize)
        return data.withUnsafeBytes { layout.makeFile(data: $0) }
    }

    /// Checks and decodes a whole safetensors file held in memory; `fileName` is for messages.
    /// Every malformed input gives a `CheckpointError`, which makes this the entry point to fuzz.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(CheckpointError) -> SafeTensorsFile {
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

/// Reads exact byte counts from an open file, turning every failure into `unreadable`.
private struct SafeTensorsReader {
    let descriptor: Int32
    let file: String

    func read(count: Int) throws(CheckpointError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        var failure: Int32 = 0
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while filled < count {
                let got = systemRead(descriptor, base + filled, count - filled)
                if got > 0 {
                    filled += got
                } else if got == 0 {
                    return  // end of file: the file shrank since fstat
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        if failure != 0 {
            throw .unreadable(file: file, reason: CheckpointError.systemReason(failure))
        }
        guard filled == count else {
            throw .unreadable(file: file, reason: "the file shrank while being read")
        }
        return buffer
    }
}

// MARK: - Checking the header

/// The element types VAEKit reads, with their safetensors names.
private enum SafeTensorsDType: String {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"

    var size: Int {
        switch self {
        case .f64: 8
        case .f32: 4
        case .f16, .bf16: 2
        }
    }

    /// The format's other dtypes (safetensors 0.8): refused, but named as valid in the error.
    static let unsupportedNames: Set<String> = [
        "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "C64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2",
    ]
}

/// A header that passed every check: where each tensor lies in the data, and the metadata.
private struct SafeTensorsLayout {
    struct Entry {
        var name: String
        var type: SafeTensorsDType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    /// Sorted by data offset; together they cover `0..<dataSize` exactly.
    var entries: [Entry] = []
    var metadata: [String: String] = [:]
    var dataSize: Int
    var file: String

    /// The header length from the file's first bytes, checked against the file size first.
    static func headerLength(prefix: [UInt8], fileSize: Int, file: String) throws(CheckpointError) -> Int {
        guard fileSize > 0 else { throw .empty(file: file) }
        guard fileSize >= 8, prefix.count >= 8 else { throw .tooShort(file: file, size: fileSize) }
        var length: UInt64 = 0
        for (index, byte) in prefix.prefix(8).enumerated() {
            length |= UInt64(byte) << (8 * UInt64(index))
        }
        guard let headerLength = Int(exactly: length), headerLength <= fileSize - 8 else {
            throw .headerLengthBeyondFile(file: file, headerLength: length, fileSize: fileSize)
        }
        guard headerLength <= maximumHeaderLength else {
            throw .headerTooLarge(file: file, headerLength: headerLength, limit: maximumHeaderLength)
        }
        return headerLength
    }

    private static var maximumHeaderLength: Int { SafeTensorsFile.maximumHeaderLength }

    init(header: [UInt8], dataSize: Int, file: String) throws(CheckpointError) {
        self.dataSize = dataSize
        self.file = file
        guard String(validating: header, as: UTF8.self) != nil else { throw .headerNotUTF8(file: file) }
        let root: SafeTensorsJSON
        do {
            var parser = SafeTensorsJSONParser(bytes: header)
            root = try parser.parseDocument()
        } catch {
            throw .headerNotJSON(file: file, detail: error.detail)
        }
        guard case .object(let members) = root else {
            throw .headerNotObject(file: file, found: root.kind)
        }
        for member in members {
            if member.key == "__metadata__" {
                metadata = try Self.metadata(member.value, file: file)
            } else {
                entries.append(try Self.entry(member.key, member.value, file: file))
            }
        }
        try checkCoverage()
    }

    private static func metadata(_ value: SafeTensorsJSON, file: String) throws(CheckpointError) -> [String: String] {
        switch value {
        case .null:
            return [:]  // what serde's Option accepts; the reference reads it as "no metadata"
        case .object(let members):
            var metadata: [String: String] = [:]
            for member in members {
                guard case .string(let text) = member.value else {
                    throw .invalidMetadata(
                        file: file,
                        detail: "value of \(CheckpointError.quoted(member.key)) is \(member.value.kind), expected a string")
                }
                metadata[member.key] = text
            }
            return metadata
        default:
            throw .invalidMetadata(file: file, detail: "is \(value.kind), expected an object of strings")
        }
    }

    private static func entry(_ name: String, _ value: SafeTensorsJSON, file: String) throws(CheckpointError) -> Entry {
        guard case .object(let fields) = value else {
            throw .invalidEntry(
                file: file, tensor: name,
                detail: "is \(value.kind), expected an object with dtype, shape and data_offsets")
        }
        func field(_ key: String) throws(CheckpointError) -> SafeTensorsJSON {
            guard let found = fields.first(where: { $0.key == key }) else {
                throw .invalidEntry(file: file, tensor: name, detail: "missing \"\(key)\"")
            }
            return found.value
        }
        // Unknown keys are ignored, as the reference implementation ignores them.

        let dtypeValue = try field("dtype")
        guard case .string(let dtype) = dtypeValue else {
            throw .invalidEntry(file: file, tensor: name,
                                detail: "\"dtype\" is \(dtypeValue.kind), expected a string such as \"F32\"")
        }
        guard let type = SafeTensorsDType(rawValue: dtype) else {
            if SafeTensorsDType.unsupportedNames.contains(dtype) {
                throw .unsupportedDType(file: file, tensor: name, dtype: dtype)
            }
            throw .unknownDType(file: file, tensor: name, dtype: dtype)
        }

        let shapeValue = try field("shape")
        guard case .array(let dimensions) = shapeValue else {
            throw .invalidEntry(file: file, tensor: name,
                                detail: "\"shape\" is \(shapeValue.kind), expected an array of integers")
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let size = dimension.exactInteger else {
                throw .invalidShape(file: file, tensor: name, shape: shapeValue.rendered)
            }
            shape.append(size)
        }

        let offsetsValue = try field("data_offsets")
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
              let begin = offsets[0].exactInteger, let end = offsets[1].exactInteger
        else {
            throw .invalidEntry(
                file: file, tensor: name,
                detail: "\"data_offsets\" is \(offsetsValue.rendered), expected [begin, end] with non-negative integers")
        }

        guard let count = SafeTensor.elementCount(shape) else {
            throw .sizeOverflow(file: file, tensor: name, shape: shape)
        }
        return Entry(name: name, type: type, shape: shape, count: count, begin: begin, end: end)
    }

    /// Sorts the entries by offset and checks that they tile the data exactly.
    private mutating func checkCoverage() throws(CheckpointError) {
        entries = entries.enumerated()
            .sorted { ($0.element.begin, $0.element.end, $0.offset) < ($1.element.begin, $1.element.end, $1.offset) }
            .map(\.element)
        var position = 0
        var previous: String?
        for entry in entries {
            guard entry.end >= entry.begin else {
                throw .offsetsReversed(file: file, tensor: entry.name, begin: entry.begin, end: entry.end)
            }
            guard entry.end <= dataSize else {
                throw .offsetsBeyondData(file: file, tensor: entry.name, begin: entry.begin, end: entry.end,
                                         dataSize: dataSize)
            }
            let (byteCount, overflow) = entry.count.multipliedReportingOverflow(by: entry.type.size)
            guard !overflow else { throw .sizeOverflow(file: file, tensor: entry.name, shape: entry.shape) }
            guard byteCount == entry.end - entry.begin else {
                throw .sizeMismatch(file: file, tensor: entry.name, dtype: entry.type.rawValue, shape: entry.shape,
                                    begin: entry.begin, end: entry.end)
            }
            if entry.begin < position, let previous {
                throw .overlap(file: file, tensor: entry.name, begin: entry.begin, other: previous, otherEnd: position)
            }
            if entry.begin > position {
                throw .uncoveredBytes(file: file, begin: position, end: entry.begin, before: entry.name)
            }
            position = entry.end
            previous = entry.name
        }
        if position < dataSize {
            throw .uncoveredBytes(file: file, begin: position, end: dataSize, before: nil)
        }
    }

    /// Converts the checked data section (`dataSize` bytes) into Float tensors.
    func makeFile(data: UnsafeRawBufferPointer) -> SafeTensorsFile {
        let tensors = entries.map { entry in
            let bytes = UnsafeRawBufferPointer(rebasing: data[entry.begin ..< entry.end])
            return SafeTensor(name: entry.name, shape: entry.shape,
                              values: Self.floats(from: bytes, type: entry.type, count: entry.count))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata, fileName: file)
    }

    private static func floats(from bytes: UnsafeRawBufferPointer, type: SafeTensorsDType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0 ..< count {
                let offset = index * type.size
                buffer[index] = switch type {
                case .f32:
                    Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case .f64:
                    Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                case .f16:
                    SafeTensorsFile.floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                case .bf16:
                    Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) << 16)
                }
            }
            initialized = count
        }
    }
}

// MARK: - Element conversion and system calls

extension SafeTensorsFile {
    /// The Float with the value of the IEEE half-precision number `bits` (exact: every half is a
    /// Float). Written out rather than using `Float16`, which macOS on Intel lacks.
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:  // zero or subnormal: mantissa × 2⁻²⁴, exact in Float
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:  // infinity, or NaN with its payload kept
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:  // rebias the exponent from 15 to 127
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

// File-scope names for the C calls, which methods called `read` and `write` would otherwise hide.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

// MARK: - Writing

extension SafeTensorsFile {
    /// The file as safetensors bytes: every tensor F32, in `tensors` order, `__metadata__` first
    /// with its keys sorted (so equal files give equal bytes), and the header padded with spaces
    /// to a multiple of 8 bytes so every tensor's data is aligned, as the reference writer does.
    ///
    /// Names must be unique and not `__metadata__`, and each tensor's values must match its
    /// shape; breaking that is a programmer error.
    public func encoded() -> [UInt8] {
        var header: [UInt8] = Array("{".utf8)
        var fields: [[UInt8]] = []
        if !metadata.isEmpty {
            var object: [UInt8] = Array("\"__metadata__\":{".utf8)
            for (index, key) in metadata.keys.sorted().enumerated() {
                if index > 0 { object.append(UInt8(ascii: ",")) }
                Self.appendJSONString(key, to: &object)
                object.append(UInt8(ascii: ":"))
                Self.appendJSONString(metadata[key] ?? "", to: &object)
            }
            object.append(UInt8(ascii: "}"))
            fields.append(object)
        }
        var offset = 0
        var names = Set<String>()
        for tensor in tensors {
            precondition(tensor.name != "__metadata__", "SafeTensorsFile: '__metadata__' is not a tensor name")
            precondition(names.insert(tensor.name).inserted, "SafeTensorsFile: tensor '\(tensor.name)' appears twice")
            precondition(SafeTensor.elementCount(tensor.shape) == tensor.values.count,
                         "SafeTensorsFile: tensor '\(tensor.name)' has \(tensor.values.count) values for shape \(tensor.shape)")
            let end = offset + 4 * tensor.values.count
            var field: [UInt8] = []
            Self.appendJSONString(tensor.name, to: &field)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            field += Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8)
            fields.append(field)
            offset = end
        }
        for (index, field) in fields.enumerated() {
            if index > 0 { header.append(UInt8(ascii: ",")) }
            header += field
        }
        header.append(UInt8(ascii: "}"))
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

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped, the
    /// rest as UTF-8 (what serde_json, and so the reference writer, does).
    private static func appendJSONString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": bytes += Array("\\\"".utf8)
            case "\\": bytes += Array("\\\\".utf8)
            case "\n": bytes += Array("\\n".utf8)
            case "\r": bytes += Array("\\r".utf8)
            case "\t": bytes += Array("\\t".utf8)
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                bytes += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default:
                bytes += Array(String(scalar).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Saves the file to `path` atomically.
    ///
    /// Writes a temporary file beside the target (".NAME.tmp-PID-RANDOM": hidden, and never
    /// ending in .safetensors, so no loader picks it up), forces it to disk with `fsync`, then
    /// renames it over `path`. Temporaries that killed saves of the same name left behind are
    /// removed first (`removeStaleTemporaries`). A save that fails or is interrupted at any point
    /// leaves any earlier file at `path` exactly as it was; on failure the temporary file is
    /// removed. The directory
    /// is synced after the rename as a best effort (some file systems refuse it; the rename has
    /// happened by then, so that is not reported). The new file gets mode 0644 less the umask.
    public func write(path: String) throws(CheckpointError) {
        try Self.writeAtomically(encoded(), to: path)
    }

    /// The atomic save behind `write`. `injectFailure` lets tests make a step fail with an errno
    /// (a failed write first writes half the bytes, like a disk filling up mid-write).
    static func writeAtomically(
        _ bytes: [UInt8], to path: String,
        injectFailure: (CheckpointError.SaveStep) -> Int32? = { _ in nil }
    ) throws(CheckpointError) {
        let slash = path.lastIndex(of: "/")
        let directoryPrefix = slash.map { String(path[...$0]) } ?? ""
        let baseName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !baseName.isEmpty, baseName != ".", baseName != ".." else {
            throw .saveFailed(file: path, step: .replace, code: EISDIR)
        }
        let suffix = String(UInt32.random(in: 0 ... .max), radix: 16)
        let temporaryPath = "\(directoryPrefix).\(baseName).tmp-\(getpid())-\(suffix)"
        removeStaleTemporaries(of: baseName, in: directoryPrefix.isEmpty ? "." : directoryPrefix)

        var descriptor: Int32 = -1
        repeat {
            if let code = injectFailure(.createTemporary) {
                errno = code
                break
            }
            descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw .saveFailed(file: path, step: .createTemporary, code: errno)
        }

        func abandon(_ step: CheckpointError.SaveStep, _ code: Int32) -> CheckpointError {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporaryPath)
            return .saveFailed(file: path, step: step, code: code)
        }

        if let code = Self.writeAll(bytes, to: descriptor, injectedFailure: injectFailure(.write)) {
            throw abandon(.write, code)
        }
        if let code = injectFailure(.sync) {
            throw abandon(.sync, code)
        }
        if fsync(descriptor) != 0 {
            throw abandon(.sync, errno)
        }
        let closed = close(descriptor)
        descriptor = -1
        if closed != 0 {  // NFS and some FUSE file systems report write errors only here
            throw abandon(.write, errno)
        }
        if let code = injectFailure(.replace) {
            throw abandon(.replace, code)
        }
        if rename(temporaryPath, path) != 0 {
            throw abandon(.replace, errno)
        }

        let directory = directoryPrefix.isEmpty ? "." : directoryPrefix
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Removes what saves of `baseName` killed mid-write (SIGKILL, a crash, a power cut) left in
    /// `directory`: `.NAME.tmp-PID-RANDOM` files whose process is gone and which nothing has
    /// written for a minute. Nothing reads them (hidden, and not ending in the target's name), but
    /// a checkpoint-sized one each time adds up. The minute spares a save in progress by a process
    /// this one cannot see (another PID namespace sharing the folder). Best effort: errors are
    /// ignored.
    static func removeStaleTemporaries(of baseName: String, in directory: String, now: time_t = time(nil)) {
        let prefix = ".\(baseName).tmp-"
        guard let entries = folderEntries(directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }  // alive, or not ours to ask
            let path = directory + "/" + entry
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                  now - status.st_mtim.tv_sec > 60 else { continue }
            unlink(path)
        }
    }

    /// Writes every byte, retrying short writes and EINTR; the errno of a failure, or nil.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, injectedFailure: Int32?) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            guard let base = raw.baseAddress else { return nil }
            var written = 0
            let limit = injectedFailure == nil ? raw.count : raw.count / 2
            while written < limit {
                let result = systemWrite(descriptor, base + written, limit - written)
                if result > 0 {
                    written += result
                } else if result < 0 && errno != EINTR {
                    return errno
                } else if result == 0 {
                    return EIO
                }
            }
            return injectedFailure
        }
    }
}

// MARK: - Header JSON

/// A JSON value as the header parser produces it. Numbers keep their text, so integers are read
/// exactly (no detour through Double) and the error messages can quote them.
private enum SafeTensorsJSON {
    case object([(key: String, value: SafeTensorsJSON)])
    case array([SafeTensorsJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// "an object", "a number", …, for messages.
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        }
    }

    /// A non-negative integer that fits an Int, written without fraction or exponent (the
    /// reference refuses 4.0 as a dimension too); nil for anything else.
    var exactInteger: Int? {
        guard case .number(let text) = self, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text, radix: 10)  // nil on overflow
    }

    /// Short JSON-like text for a message; long arrays and strings are cut.
    var rendered: String {
        switch self {
        case .number(let text): text.count > 24 ? String(text.prefix(24)) + "…" : text
        case .string(let text): "\"" + (text.count > 24 ? String(text.prefix(24)) + "…" : text) + "\""
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .object: "{…}"
        case .array(let elements):
            "[" + elements.prefix(8).map(\.rendered).joined(separator: ", ") + (elements.count > 8 ? ", …]" : "]")
        }
    }
}

private struct SafeTensorsJSONError: Error {
    var detail: String
}

/// A strict JSON parser (RFC 8259) over the header's bytes, already checked to be UTF-8.
/// It refuses duplicate keys and nesting deeper than `maximumDepth`, so its recursion is bounded.
private struct SafeTensorsJSONParser {
    let bytes: [UInt8]
    var index = 0
    static let maximumDepth = 64

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(SafeTensorsJSONError) -> SafeTensorsJSON {
        skipWhitespace()
        guard index < bytes.count else {
            throw SafeTensorsJSONError(detail: bytes.isEmpty ? "the header is empty" : "the header holds only spaces")
        }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected \(describeCurrent()) after the JSON value") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
        guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        guard index < bytes.count else { throw failure("unexpected end of the header") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default: throw failure("unexpected \(describeCurrent())")
        }
    }

    private mutating func parseObject(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
        index += 1  // {
        var members: [(key: String, value: SafeTensorsJSON)] = []
        var keys = Set<String>()
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a string key, found \(describeCurrent())")
            }
            let keyStart = index
            let key = try parseString()
            guard keys.insert(key).inserted else {
                throw SafeTensorsJSONError(detail: "duplicate key \(CheckpointError.quoted(key)) at header byte \(keyStart + 1)")
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after a key, found \(describeCurrent())") }
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { return .object(members) }
            throw failure("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }

    private mutating func parseArray(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
        index += 1  // [
        var elements: [SafeTensorsJSON] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { return .array(elements) }
            throw failure("expected ',' or ']' in an array, found \(describeCurrent())")
        }
    }

    private mutating func parseString() throws(SafeTensorsJSONError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8 += Array(String(try parseUnicodeEscape()).utf8)
                default:
                    index -= 1
                    throw failure("invalid escape '\\\(Self.describe(escape))' in a string")
                }
            case 0x00 ..< 0x20:
                throw failure("control character \(Self.describe(byte)) in a string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// The scalar of a `\uXXXX` escape (just past the `u`), joining a UTF-16 surrogate pair.
    private mutating func parseUnicodeEscape() throws(SafeTensorsJSONError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800 ..< 0xDC00).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired UTF-16 surrogate in a \\u escape")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00 ..< 0xE000).contains(second),
                  let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            else { throw failure("unpaired UTF-16 surrogate in a \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw failure("unpaired UTF-16 surrogate in a \\u escape") }
        return scalar
    }

    private mutating func parseHex4() throws(SafeTensorsJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            guard index < bytes.count, let digit = Self.hexValue(bytes[index]) else {
                throw failure("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A number's text: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func parseNumber() throws(SafeTensorsJSONError) -> String {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            if index < bytes.count, isDigit(bytes[index]) { throw failure("a number cannot have a leading zero") }
        } else {
            guard try consumeDigits() else { throw failure("expected a digit, found \(describeCurrent())") }
        }
        if consume(UInt8(ascii: ".")) {
            guard try consumeDigits() else { throw failure("expected a digit after '.', found \(describeCurrent())") }
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard try consumeDigits() else { throw failure("expected a digit in an exponent, found \(describeCurrent())") }
        }
        return String(decoding: bytes[start ..< index], as: UTF8.self)
    }

    /// Skips digits; whether there was at least one.
    private mutating func consumeDigits() throws(SafeTensorsJSONError) -> Bool {
        let start = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        return index > start
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func expectWord(_ word: String) throws(SafeTensorsJSONError) {
        for expected in word.utf8 {
            guard index < bytes.count, bytes[index] == expected else {
                throw failure("unexpected \(describeCurrent()) (expected '\(word)')")
            }
            index += 1
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private func describeCurrent() -> String {
        index < bytes.count ? Self.describe(bytes[index]) : "the end of the header"
    }

    /// A byte as a message shows it: printable ASCII in quotes, anything else in hex.
    private static func describe(_ byte: UInt8) -> String {
        guard !(0x21 ... 0x7E).contains(byte) else { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    private func failure(_ what: String) -> SafeTensorsJSONError {
        SafeTensorsJSONError(detail: "\(what) at header byte \(index + 1)")
    }
}
