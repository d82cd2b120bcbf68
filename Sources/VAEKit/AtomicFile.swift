#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Saving pictures, charts and tables: all or nothing.
///
/// The bytes go to a hidden temporary file beside the target, are synced, and the temporary is
/// renamed over the target, the same steps as a checkpoint save (`SafeTensorsFile.write`, whose
/// implementation this shares). A save that fails at any step leaves any earlier file untouched
/// and removes the temporary.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws(SaveError) {
        try write(bytes, to: path, injectFailure: { _ in nil })
    }

    /// `write`, with a way for tests to make one step fail with an errno (a disk filling up, …).
    static func write(_ bytes: [UInt8], to path: String,
                      injectFailure: (CheckpointError.SaveStep) -> Int32?) throws(SaveError) {
        do {
            try SafeTensorsFile.writeAtomically(bytes, to: path, injectFailure: injectFailure)
        } catch {
            if case .saveFailed(_, let step, let code) = error {
                throw .failed(file: path, step: step, code: code)
            }
            // writeAtomically throws nothing else; keep the message if that ever changes.
            throw .other(file: path, message: error.message)
        }
    }
}

/// Why a picture, chart or table could not be saved. Any earlier file at the path is unchanged.
public enum SaveError: EngineError, Equatable {
    /// A step of the atomic save failed with `code` (an errno).
    case failed(file: String, step: CheckpointError.SaveStep, code: Int32)
    case other(file: String, message: String)

    public var file: String {
        switch self {
        case .failed(let file, _, _), .other(let file, _): file
        }
    }

    /// `out/samples.png: cannot save (creating a temporary file beside it): no such file or directory`.
    public var message: String {
        switch self {
        case .failed(let file, let step, let code):
            "\(CheckpointError.shown(file)): cannot save (\(Self.describe(step))): \(CheckpointError.systemReason(code))"
        case .other(_, let message):
            message
        }
    }

    public var hint: String? {
        guard case .failed(_, _, let code) = self else { return nil }
        switch code {
        case ENOENT, ENOTDIR:
            return "the folder does not exist; create it first or save elsewhere"
        case ENOSPC, EDQUOT:
            return "free some disk space and save again; any earlier file at this path is unchanged"
        case EACCES, EPERM, EROFS:
            return "save into a writable folder; any earlier file at this path is unchanged"
        case EISDIR:
            return "give a file name, not a folder"
        default:
            return "any earlier file at this path is unchanged"
        }
    }

    private static func describe(_ step: CheckpointError.SaveStep) -> String {
        switch step {
        case .createTemporary: "creating a temporary file beside it"
        case .write: "writing the temporary file"
        case .sync: "flushing the temporary file to disk"
        case .replace: "renaming the temporary file over it"
        }
    }
}
