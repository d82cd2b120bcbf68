#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a checkpoint could not be read, mapped onto a model, or saved.
///
/// Every case carries the file as the caller named it. `message` is one line, `<file>: <problem>`;
/// names and paths from the file are escaped so a hostile tensor name cannot break the line.
/// Offsets and sizes are in bytes; `data_offsets` count from the start of the data section, as the
/// format defines them.
public enum CheckpointError: EngineError, Equatable {
    // MARK: - The file as a whole

    /// Nothing exists at the path.
    case fileNotFound(file: String)
    /// The path names a directory.
    case isDirectory(file: String)
    /// The path names a device, pipe or socket rather than a regular file.
    case notRegularFile(file: String)
    /// The file exists but could not be opened or read; `reason` is the system's explanation.
    case unreadable(file: String, reason: String)
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
    /// A valid safetensors dtype that VAEKit does not read (integers, booleans, 8-bit floats, …).
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

    // MARK: - Mapping onto a model

    /// The model needs a tensor the file lacks; `available` lists the file's tensors.
    case missingTensor(file: String, tensor: String, available: [String])
    /// The tensor exists with a different shape than the model needs.
    case shapeMismatch(file: String, tensor: String, shape: [Int], expected: [Int])
    /// Anything else that stops the file from describing the expected model (used by the model
    /// layer, e.g. a layout it cannot recognise or a metadata value it cannot parse).
    case incompatible(file: String, detail: String, hint: String?)

    // MARK: - Saving

    /// A save failed at `step`; `code` is the `errno`. Any earlier file at the path is untouched
    /// and the temporary file has been removed.
    case saveFailed(file: String, step: SaveStep, code: Int32)

    /// The stages of an atomic save, in order.
    public enum SaveStep: String, Sendable, Equatable, CaseIterable {
        /// Creating the temporary file beside the target.
        case createTemporary
        /// Writing the bytes into the temporary file.
        case write
        /// `fsync`: forcing the bytes to the disk before the rename makes them visible.
        case sync
        /// Renaming the temporary file over the target.
        case replace
    }

    /// The file the error is about, as the caller named it.
    public var file: String {
        switch self {
        case .fileNotFound(let file), .isDirectory(let file), .notRegularFile(let file),
             .unreadable(let file, _), .empty(let file), .tooShort(let file, _),
             .headerLengthBeyondFile(let file, _, _), .headerTooLarge(let file, _, _),
             .headerNotUTF8(let file), .headerNotJSON(let file, _), .headerNotObject(let file, _),
             .invalidMetadata(let file, _), .invalidEntry(let file, _, _),
             .unknownDType(let file, _, _), .unsupportedDType(let file, _, _),
             .invalidShape(let file, _, _), .offsetsReversed(let file, _, _, _),
             .offsetsBeyondData(let file, _, _, _, _), .sizeOverflow(let file, _, _),
             .sizeMismatch(let file, _, _, _, _, _), .overlap(let file, _, _, _, _),
             .uncoveredBytes(let file, _, _, _), .missingTensor(let file, _, _),
             .shapeMismatch(let file, _, _, _), .incompatible(let file, _, _),
             .saveFailed(let file, _, _):
            file
        }
    }

    public var message: String {
        "\(Self.shown(file)): \(problem)"
    }

    /// The message without the file name.
    private var problem: String {
        switch self {
        case .fileNotFound:
            "no such file"
        case .isDirectory:
            "is a directory, not a safetensors file"
        case .notRegularFile:
            "is not a regular file"
        case .unreadable(_, let reason):
            "cannot read: \(reason)"
        case .empty:
            "file is empty"
        case .tooShort(_, let size):
            "file is only \(Self.bytes(size)); a safetensors file starts with an 8-byte header length"
        case .headerLengthBeyondFile(_, let length, let fileSize):
            "header length \(length) is larger than the file (\(Self.bytes(fileSize)))"
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
            "tensor \(Self.quoted(tensor)): \(detail)"
        case .unknownDType(_, let tensor, let dtype):
            "tensor \(Self.quoted(tensor)) has unknown dtype \(Self.quoted(dtype))"
        case .unsupportedDType(_, let tensor, let dtype):
            "tensor \(Self.quoted(tensor)) has dtype \(Self.shown(dtype)); VAEKit reads only F32, F64, F16 and BF16 tensors"
        case .invalidShape(_, let tensor, let shape):
            "tensor \(Self.quoted(tensor)) has shape \(Self.shown(shape)); dimensions must be non-negative integers"
        case .offsetsReversed(_, let tensor, let begin, let end):
            "tensor \(Self.quoted(tensor)) has data_offsets [\(begin), \(end)]: end is before begin"
        case .offsetsBeyondData(_, let tensor, let begin, let end, let dataSize):
            "tensor \(Self.quoted(tensor)) has data_offsets [\(begin), \(end)], past the end of the data (\(Self.bytes(dataSize)))"
        case .sizeOverflow(_, let tensor, let shape):
            "tensor \(Self.quoted(tensor)) has shape \(Self.shape(shape)), too large to address"
        case .sizeMismatch(_, let tensor, let dtype, let shape, let begin, let end):
            "tensor \(Self.quoted(tensor)) is \(dtype) \(Self.shape(shape)) but its data_offsets [\(begin), \(end)] span \(Self.bytes(end &- begin))"
        case .overlap(_, let tensor, let begin, let other, let otherEnd):
            "tensor \(Self.quoted(tensor)) starts at data offset \(begin), inside tensor \(Self.quoted(other)) (which ends at \(otherEnd))"
        case .uncoveredBytes(_, let begin, let end, let before?):
            "\(Self.bytes(end &- begin)) of data before tensor \(Self.quoted(before)) (offsets \(begin) to \(end)) belong to no tensor"
        case .uncoveredBytes(_, let begin, let end, nil):
            "\(Self.bytes(end &- begin)) after the last tensor (data offsets \(begin) to \(end)) belong to no tensor"
        case .missingTensor(_, let tensor, _):
            "missing tensor \(Self.quoted(tensor))"
        case .shapeMismatch(_, let tensor, let shape, let expected):
            "tensor \(Self.quoted(tensor)) has shape \(Self.shape(shape)), expected \(Self.shape(expected))"
        case .incompatible(_, let detail, _):
            detail
        case .saveFailed(_, let step, let code):
            "cannot save (\(Self.describe(step))): \(Self.systemReason(code))"
        }
    }

    public var hint: String? {
        switch self {
        case .tooShort, .headerLengthBeyondFile, .headerNotUTF8, .headerNotJSON, .headerNotObject:
            "the file is truncated, damaged, or not a safetensors file"
        case .offsetsBeyondData, .uncoveredBytes:
            "the file is truncated or damaged"
        case .unsupportedDType:
            "convert the tensors to float32 before saving, e.g. {k: v.float() for k, v in model.state_dict().items()}"
        case .missingTensor(_, _, let available):
            available.isEmpty
                ? "the file holds no tensors"
                : "the file holds " + Self.list(available)
        case .incompatible(_, _, let hint):
            hint
        case .saveFailed(_, _, let code):
            switch code {
            case ENOSPC, EDQUOT:
                "free some disk space and save again; any earlier file at this path is unchanged"
            case EACCES, EPERM, EROFS:
                "save into a writable directory; any earlier file at this path is unchanged"
            case EISDIR:
                "give a file name, not a directory"
            default:
                "any earlier file at this path is unchanged"
            }
        default:
            nil
        }
    }

    // MARK: - Rendering helpers

    private static func describe(_ step: SaveStep) -> String {
        switch step {
        case .createTemporary: "creating a temporary file beside it"
        case .write: "writing the temporary file"
        case .sync: "flushing the temporary file to disk"
        case .replace: "renaming the temporary file over it"
        }
    }

    /// The C library's text for an `errno`, with a lowercase first letter to sit mid-sentence.
    static func systemReason(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        let reason = String(cString: text)
        guard let first = reason.first else { return "error \(code)" }
        return first.lowercased() + reason.dropFirst()
    }

    private static func bytes(_ count: Int) -> String {
        count == 1 ? "1 byte" : "\(count) bytes"
    }

    private static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// Up to ten names, then a count of the rest, so a hint stays one readable line.
    private static func list(_ names: [String]) -> String {
        let shownNames = names.prefix(10).map(quoted).joined(separator: ", ")
        return names.count > 10 ? "\(shownNames) and \(names.count - 10) more" : shownNames
    }

    /// `text` in single quotes, escaped and shortened by `shown`.
    static func quoted(_ text: String) -> String {
        "'" + shown(text) + "'"
    }

    /// `text` with control characters escaped and anything past 120 characters cut, so that
    /// whatever a file contains, the message stays one line of reasonable length.
    static func shown(_ text: String) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 120 {
                result += "…"
                break
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return result
    }
}
