/// Why bytes are not a safetensors file vaesh can read.
///
/// Every case carries the file as the caller named it. `message` is one line, `<file>: <problem>`;
/// names and values from the file are escaped so a hostile tensor name cannot break the line.
/// Offsets and sizes are in bytes; `data_offsets` count from the start of the data section, as the
/// format defines them.
public enum SafeTensorsError: FileFormatError, Equatable {
    /// The file could not be opened or read.
    case file(FileError)

    // MARK: - The file as a whole

    /// The file has no bytes at all.
    case empty(file: String)
    /// The file is shorter than the 8-byte header length that starts every safetensors file.
    case tooShort(file: String, size: Int)
    /// The 8-byte header length promises more bytes than the file holds (checked before reading).
    case headerLengthBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is larger than the reference implementation accepts.
    case headerTooLarge(file: String, headerLength: Int, limit: Int)

    // MARK: - The JSON header

    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not well-formed JSON; `detail` says what and where.
    case headerNotJSON(file: String, detail: String)
    /// The header is JSON, but not an object (`found` is e.g. "an array").
    case headerNotObject(file: String, found: String)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(file: String, detail: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or one of them has the wrong type.
    case invalidEntry(file: String, tensor: String, detail: String)
    /// A dtype name that is not part of the safetensors format.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A valid safetensors dtype that vaesh does not read (integers, booleans, 8-bit floats, …).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A shape that is not a list of non-negative integers; `shape` is the header's text for it.
    case invalidShape(file: String, tensor: String, shape: String)

    // MARK: - The data layout

    /// `data_offsets` whose end comes before its begin.
    case offsetsReversed(file: String, tensor: String, begin: Int, end: Int)
    /// `data_offsets` that run past the end of the data section.
    case offsetsBeyondData(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// A shape whose element count or byte size does not fit in an `Int`.
    case sizeOverflow(file: String, tensor: String, shape: [Int])
    /// The bytes `data_offsets` span differ from what dtype and shape need.
    case sizeMismatch(file: String, tensor: String, dtype: String, shape: [Int], begin: Int, end: Int)
    /// Two tensors share bytes: `tensor` starts at `begin`, before `other` (which precedes it) ends.
    case overlap(file: String, tensor: String, begin: Int, other: String, otherEnd: Int)
    /// Bytes `begin..<end` of the data belong to no tensor. `before` is the tensor after the gap,
    /// or nil when the bytes follow the last tensor. The format requires the tensors to cover the
    /// data exactly, so this is how a file with junk appended or a lost tensor shows up.
    case uncoveredBytes(file: String, begin: Int, end: Int, before: String?)

    /// The file the error is about, as the caller named it.
    public var file: String {
        switch self {
        case .file(let error): error.path
        case .empty(let file), .tooShort(let file, _),
             .headerLengthBeyondFile(let file, _, _), .headerTooLarge(let file, _, _),
             .headerNotUTF8(let file), .headerNotJSON(let file, _), .headerNotObject(let file, _),
             .invalidMetadata(let file, _), .invalidEntry(let file, _, _),
             .unknownDType(let file, _, _), .unsupportedDType(let file, _, _),
             .invalidShape(let file, _, _), .offsetsReversed(let file, _, _, _),
             .offsetsBeyondData(let file, _, _, _, _), .sizeOverflow(let file, _, _),
             .sizeMismatch(let file, _, _, _, _, _), .overlap(let file, _, _, _, _),
             .uncoveredBytes(let file, _, _, _):
            file
        }
    }

    public var fileError: FileError? {
        if case .file(let error) = self { return error }
        return nil
    }

    /// The message without the file name.
    public var problem: String {
        typealias Q = Quoting
        return switch self {
        case .file(let error):
            error.problem
        case .empty:
            "file is empty"
        case .tooShort(_, let size):
            "file is only \(Q.bytes(size)); a safetensors file starts with an 8-byte header length"
        case .headerLengthBeyondFile(_, let length, let fileSize):
            "header length \(length) is larger than the file (\(Q.bytes(fileSize)))"
        case .headerTooLarge(_, let length, let limit):
            "header length \(length) exceeds the limit of \(limit) bytes"
        case .headerNotUTF8:
            "header is not valid UTF-8"
        case .headerNotJSON(_, let detail):
            "header is not valid JSON: \(detail)"
        case .headerNotObject(_, let found):
            "header is \(found), expected a JSON object"
        case .invalidMetadata(_, let detail):
            "__metadata__ \(detail)"
        case .invalidEntry(_, let tensor, let detail):
            "tensor \(Q.quoted(tensor)): \(detail)"
        case .unknownDType(_, let tensor, let dtype):
            "tensor \(Q.quoted(tensor)) has unknown dtype \(Q.quoted(dtype))"
        case .unsupportedDType(_, let tensor, let dtype):
            "tensor \(Q.quoted(tensor)) has dtype \(Q.shown(dtype)); vaesh reads only F32, F64, F16 and BF16 tensors"
        case .invalidShape(_, let tensor, let shape):
            "tensor \(Q.quoted(tensor)) has shape \(Q.shown(shape)); dimensions must be non-negative integers"
        case .offsetsReversed(_, let tensor, let begin, let end):
            "tensor \(Q.quoted(tensor)) has data_offsets [\(begin), \(end)]: end is before begin"
        case .offsetsBeyondData(_, let tensor, let begin, let end, let dataSize):
            "tensor \(Q.quoted(tensor)) has data_offsets [\(begin), \(end)], past the end of the data (\(Q.bytes(dataSize)))"
        case .sizeOverflow(_, let tensor, let shape):
            "tensor \(Q.quoted(tensor)) has shape \(Q.shape(shape)), too large to address"
        case .sizeMismatch(_, let tensor, let dtype, let shape, let begin, let end):
            "tensor \(Q.quoted(tensor)) is \(dtype) \(Q.shape(shape)) but its data_offsets [\(begin), \(end)] span \(Q.bytes(end &- begin))"
        case .overlap(_, let tensor, let begin, let other, let otherEnd):
            "tensor \(Q.quoted(tensor)) starts at data offset \(begin), inside tensor \(Q.quoted(other)) (which ends at \(otherEnd))"
        case .uncoveredBytes(_, let begin, let end, let before?):
            "\(Q.bytes(end &- begin)) of data before tensor \(Q.quoted(before)) (offsets \(begin) to \(end)) belong to no tensor"
        case .uncoveredBytes(_, let begin, let end, nil):
            "\(Q.bytes(end &- begin)) after the last tensor (data offsets \(begin) to \(end)) belong to no tensor"
        }
    }

    public var hint: String? {
        switch self {
        case .file(let error):
            error.hint
        case .tooShort, .headerLengthBeyondFile, .headerNotUTF8, .headerNotJSON, .headerNotObject:
            "the file is truncated, damaged, or not a safetensors file"
        case .offsetsBeyondData, .uncoveredBytes:
            "the file is truncated or damaged"
        case .unsupportedDType:
            "convert the tensors to float32 before saving, e.g. {k: v.float() for k, v in model.state_dict().items()}"
        default:
            nil
        }
    }
}
