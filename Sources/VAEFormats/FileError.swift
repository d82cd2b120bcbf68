#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error that explains itself: one line naming the file and what is wrong, and maybe a hint.
///
/// Every error of this module conforms, so a caller renders them all alike without knowing the
/// formats. (The engine has the same shape in `EngineError`; the two modules do not import each
/// other, so each has its own.)
public protocol DescribedError: Error, CustomStringConvertible {
    /// One line, no trailing period: "train-images.gz: truncated: expected 47040016 bytes, found 1024".
    var message: String { get }
    /// What the user can do about it, or nil.
    var hint: String? { get }
}

extension DescribedError {
    public var description: String { message }
}

/// A format's error about one file: its message is `<file>: <problem>`, the name escaped by
/// `Quoting.shown`, unless the error wraps the file system's own `FileError`, whose message names
/// the file already.
public protocol FileFormatError: DescribedError {
    /// The file, as the caller named it.
    var file: String { get }
    /// The message without the file name.
    var problem: String { get }
    /// The file system's error this one wraps, if it does.
    var fileError: FileError? { get }
}

extension FileFormatError {
    public var message: String {
        fileError?.message ?? "\(Quoting.shown(file)): \(problem)"
    }
}

/// Why a file could not be opened, read, listed or saved: the one error for the file system.
///
/// Formats wrap it (`IDXError.file`, `SafeTensorsError.file`, …) when reading fails before their
/// own checks begin; pictures, tables, checkpoints and the history file throw it from saves.
public struct FileError: DescribedError, Equatable, Sendable {
    /// What was being done to the file.
    public enum Operation: Equatable, Sendable {
        /// Opening or examining it (`open`, `fstat`).
        case open
        case read
        /// Listing a folder.
        case list
        /// A step of an atomic save (`AtomicFile`).
        case save(SaveStep)
    }

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

        var description: String {
            switch self {
            case .createTemporary: "creating a temporary file beside it"
            case .write: "writing the temporary file"
            case .sync: "flushing the temporary file to disk"
            case .replace: "renaming the temporary file over it"
            }
        }
    }

    /// What went wrong.
    public enum Failure: Equatable, Sendable {
        /// The system refused, with this `errno`.
        case system(Int32)
        /// A folder where a file was expected.
        case isFolder
        /// A file where a folder was expected.
        case notFolder
        /// A pipe, socket or device: its length is unknown up front, and opening a pipe without a
        /// writer would wait forever, so readers take regular files only.
        case notRegularFile
        /// The file got shorter between `fstat` and the read.
        case shrank
    }

    /// The file as the caller named it.
    public var path: String
    public var operation: Operation
    public var failure: Failure
    /// What the caller wanted at `path`, for messages: "a file", "a folder", "a safetensors file".
    public var expected: String

    public init(path: String, operation: Operation, failure: Failure, expected: String = "a file") {
        self.path = path
        self.operation = operation
        self.failure = failure
        self.expected = expected
    }

    /// `errno` after a failed system call on `path`.
    public static func system(_ code: Int32, path: String, operation: Operation, expected: String = "a file") -> FileError {
        FileError(path: path, operation: operation, failure: .system(code), expected: expected)
    }

    /// `data.csv: no such file`, `out/s.png: cannot save (creating a temporary file beside it): no such file or directory`.
    public var message: String {
        "\(Quoting.shown(path)): \(problem)"
    }

    /// The message without the path: what `ScriptText` shows after "cannot read 'x': ".
    public var problem: String {
        switch (operation, failure) {
        case (.open, .system(ENOENT)), (.open, .system(ENOTDIR)), (.list, .system(ENOENT)):
            expected == "a folder" ? "no such folder" : "no such file"
        case (.save(let step), .system(let code)):
            "cannot save (\(step.description)): \(Self.systemReason(code))"
        case (_, .system(let code)):
            "cannot read: \(Self.systemReason(code))"
        case (_, .isFolder):
            "is a folder, not \(expected)"
        case (_, .notFolder):
            "is a file, not a folder"
        case (_, .notRegularFile):
            "not a regular file (a pipe, socket or device)"
        case (_, .shrank):
            "cannot read: the file shrank while being read"
        }
    }

    /// The system's reason alone ("no such file or directory"), or the condition in words.
    public var reason: String {
        switch failure {
        case .system(let code): Self.systemReason(code)
        case .isFolder: "it is a directory"
        case .notFolder: "it is a file, not a folder"
        case .notRegularFile: "it is not a regular file"
        case .shrank: "the file shrank while being read"
        }
    }

    public var hint: String? {
        switch (operation, failure) {
        case (.save, .system(let code)):
            switch code {
            case ENOENT, ENOTDIR: "the folder does not exist; create it first or save elsewhere"
            case ENOSPC, EDQUOT: "free some disk space and save again; any earlier file at this path is unchanged"
            case EACCES, EPERM, EROFS: "save into a writable folder; any earlier file at this path is unchanged"
            case EISDIR: "give a file name, not a folder"
            default: "any earlier file at this path is unchanged"
            }
        case (_, .notRegularFile):
            "save the data to a file first and load that"
        default:
            nil
        }
    }

    /// Runs file access inside a format's reader, turning a `FileError` into that format's error
    /// (`SafeTensorsError.file`, `IDXError.file`, …).
    public static func wrapped<T, E: Error>(in wrap: (FileError) -> E, _ body: () throws(FileError) -> T) throws(E) -> T {
        do {
            return try body()
        } catch {
            throw wrap(error)
        }
    }

    /// The C library's text for an `errno`, starting lower-case to sit mid-sentence: the one
    /// describer of system errors in vaesh.
    public static func systemReason(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        let reason = String(cString: text)
        guard let first = reason.first else { return "error \(code)" }
        return first.lowercased() + reason.dropFirst()
    }
}

/// How names and values taken from files appear inside a one-line message.
public enum Quoting {
    /// `text` with control characters escaped and anything past 120 characters cut, so that
    /// whatever a file contains, a message stays one line of reasonable length.
    public static func shown(_ text: String) -> String {
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

    /// `text` in single quotes, escaped and shortened by `shown`.
    public static func quoted(_ text: String) -> String {
        "'" + shown(text) + "'"
    }

    /// "1 byte", "24 bytes".
    public static func bytes(_ count: Int) -> String {
        count == 1 ? "1 byte" : "\(count) bytes"
    }

    /// "[2, 3]".
    public static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// Up to ten names, then a count of the rest, so a hint stays one readable line.
    public static func list(_ names: [String]) -> String {
        let shownNames = names.prefix(10).map(quoted).joined(separator: ", ")
        return names.count > 10 ? "\(shownNames) and \(names.count - 10) more" : shownNames
    }
}
