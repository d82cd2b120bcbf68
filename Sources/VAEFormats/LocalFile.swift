#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A local file opened for reading, with its size known before anything is read, so a reader can
/// check a header against the length before it allocates (POSIX `open`/`fstat`/`read`).
///
/// This is vaesh's one reader of files: the data formats, checkpoints, scripts and the history
/// file all come through it. Errors name the file by `path`, spelled as the caller gave it.
public final class LocalFile {
    public let path: String
    /// The file's length in bytes (for a pipe, 0: it has none until it is read).
    public let size: Int
    /// True for a regular file; false for a pipe or device opened with `allowsStreams`.
    public let isRegular: Bool
    private let descriptor: Int32
    /// Bytes read so far.
    public private(set) var offset = 0

    /// Opens `path`. A folder is refused, and so is a pipe, socket or device unless `allowsStreams`
    /// (a script given as `<(…)`); `expected` names what should be there, for messages.
    public init(path: String, expected: String = "a file", allowsStreams: Bool = false) throws(FileError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever (it is refused
        // below, or read blocking once its writer is known to exist); regular files ignore it.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | (allowsStreams ? 0 : O_NONBLOCK))
        guard descriptor >= 0 else {
            let code = errno
            throw FileError(path: path, operation: .open, failure: code == EISDIR ? .isFolder : .system(code), expected: expected)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .system(code, path: path, operation: .open, expected: expected)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            isRegular = true
        case S_IFDIR:
            close(descriptor)
            throw FileError(path: path, operation: .open, failure: .isFolder, expected: expected)
        default:
            guard allowsStreams else {
                close(descriptor)
                throw FileError(path: path, operation: .open, failure: .notRegularFile, expected: expected)
            }
            isRegular = false
        }
        self.descriptor = descriptor
        size = isRegular ? Int(clamping: status.st_size) : 0
    }

    deinit { close(descriptor) }

    /// Reads until `buffer` is full or the file ends; returns the number of bytes read.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(FileError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let count = systemRead(descriptor, base + total, buffer.count - total)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(errno, path: path, operation: .read)
            }
            total += count
        }
        offset += total
        return total
    }

    /// The next `count` bytes, or fewer when the file ends first.
    public func read(upTo count: Int) throws(FileError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: FileError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(FileError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Exactly the next `count` bytes; a file that shrank since `fstat` is an error.
    public func read(exactly count: Int) throws(FileError) -> [UInt8] {
        let bytes = try read(upTo: count)
        guard bytes.count == count else { throw FileError(path: path, operation: .read, failure: .shrank) }
        return bytes
    }

    /// The rest of the file: for a regular file up to the length `fstat` reported, for a stream
    /// until it ends.
    public func readRest() throws(FileError) -> [UInt8] {
        if isRegular { return try read(upTo: max(0, size - offset)) }
        var bytes: [UInt8] = []
        while true {
            let chunk = try read(upTo: 65_536)
            bytes += chunk
            if chunk.count < 65_536 { return bytes }
        }
    }

    /// The whole regular file at `path`.
    public static func contents(of path: String, expected: String = "a file") throws(FileError) -> [UInt8] {
        try LocalFile(path: path, expected: expected).readRest()
    }
}

/// What is at a path: nothing, a folder or some other file (following symbolic links).
public enum PathKind: Sendable {
    case missing, folder, file

    public init(_ path: String) {
        var status = stat()
        if stat(path, &status) != 0 {
            self = .missing
        } else {
            self = (status.st_mode & S_IFMT) == S_IFDIR ? .folder : .file
        }
    }
}

/// The entries of the folder at `path`, without "." and ".."; nil when it cannot be listed.
public func folderEntries(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            raw.baseAddress.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
        }
        if let name, name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// `folder` and `name` joined by one slash.
public func joinPath(_ folder: String, _ name: String) -> String {
    if folder.isEmpty { return name }
    return folder.hasSuffix("/") ? folder + name : folder + "/" + name
}

// File-scope names for the C calls, which methods called `read` and `write` would otherwise hide:
// the module's only read and write shims.

func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.read(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.read(descriptor, buffer, count)
    #else
    return Glibc.read(descriptor, buffer, count)
    #endif
}

func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
    #else
    return Glibc.write(descriptor, buffer, count)
    #endif
}
