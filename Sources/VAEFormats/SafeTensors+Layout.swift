/// The checks of a safetensors header and the conversion of its data: `SafeTensorsFile.read`
/// and `decode` go through `SafeTensorsLayout`.

/// The element types vaesh reads from safetensors files, by their safetensors names.
enum SafeTensorsDType: String {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"

    var type: TensorDType {
        switch self {
        case .f64: .float64
        case .f32: .float32
        case .f16: .float16
        case .bf16: .bfloat16
        }
    }

    var size: Int { type.size }

    /// The format's other dtypes (safetensors 0.8): refused, but named as valid in the error.
    static let unsupportedNames: Set<String> = [
        "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "C64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2",
    ]
}

/// A header that passed every check: where each tensor lies in the data, and the metadata.
struct SafeTensorsLayout {
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
    static func headerLength(prefix: [UInt8], fileSize: Int, file: String) throws(SafeTensorsError) -> Int {
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

    init(header: [UInt8], dataSize: Int, file: String) throws(SafeTensorsError) {
        self.dataSize = dataSize
        self.file = file
        guard String(validating: header, as: UTF8.self) != nil else { throw .headerNotUTF8(file: file) }
        let root: JSONValue
        do {
            var parser = StrictJSONParser(bytes: header, name: "header")
            root = try parser.parseDocument()
        } catch {
            throw .headerNotJSON(file: file, detail: error.detail)
        }
        guard case .object(let members) = root else {
            throw .headerNotObject(file: file, found: root.kind)
        }
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try Self.metadata(value, file: file)
            } else {
                entries.append(try Self.entry(key, value, file: file))
            }
        }
        try checkCoverage()
    }

    private static func metadata(_ value: JSONValue, file: String) throws(SafeTensorsError) -> [String: String] {
        switch value {
        case .null:
            return [:]  // what serde's Option accepts; the reference reads it as "no metadata"
        case .object(let members):
            var metadata: [String: String] = [:]
            for member in members {
                guard case .string(let text) = member.1 else {
                    throw .invalidMetadata(
                        file: file,
                        detail: "value of \(Quoting.quoted(member.0)) is \(member.1.kind), expected a string")
                }
                metadata[member.0] = text
            }
            return metadata
        default:
            throw .invalidMetadata(file: file, detail: "is \(value.kind), expected an object of strings")
        }
    }

    private static func entry(_ name: String, _ value: JSONValue, file: String) throws(SafeTensorsError) -> Entry {
        guard case .object(let fields) = value else {
            throw .invalidEntry(
                file: file, tensor: name,
                detail: "is \(value.kind), expected an object with dtype, shape and data_offsets")
        }
        func field(_ key: String) throws(SafeTensorsError) -> JSONValue {
            guard let found = fields.first(where: { $0.0 == key }) else {
                throw .invalidEntry(file: file, tensor: name, detail: "missing \"\(key)\"")
            }
            return found.1
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
                throw .invalidShape(file: file, tensor: name, shape: shapeValue.excerpt)
            }
            shape.append(size)
        }

        let offsetsValue = try field("data_offsets")
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
              let begin = offsets[0].exactInteger, let end = offsets[1].exactInteger
        else {
            throw .invalidEntry(
                file: file, tensor: name,
                detail: "\"data_offsets\" is \(offsetsValue.excerpt), expected [begin, end] with non-negative integers")
        }

        guard let count = StoredTensor.elementCount(shape) else {
            throw .sizeOverflow(file: file, tensor: name, shape: shape)
        }
        return Entry(name: name, type: type, shape: shape, count: count, begin: begin, end: end)
    }

    /// Sorts the entries by offset and checks that they tile the data exactly.
    private mutating func checkCoverage() throws(SafeTensorsError) {
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
            let values = entry.type.type.elements(count: entry.count, from: bytes, indices: 0 ..< entry.count).values
            return StoredTensor(name: entry.name, shape: entry.shape, dtype: entry.type.type, values: values)
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata, fileName: file)
    }
}
