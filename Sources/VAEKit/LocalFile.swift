#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A local file opened for reading, with its size known before anything is read, so a loader can
/// check a header against the length before it allocates (POSIX `open`/`fstat`/`read`).
///
/// Errors name the file by `path`, spelled as the caller gave it.
final class LocalFile {
    let path: String
    /// The file's length in bytes.
    let size: Int
    private let descriptor: Int32
    /// Bytes read so far.
    private(set) var offset = 0

    init(path: String) throws(DataError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever (it is refused
        // below); reads from a regular file ignore the flag.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw Self.openError(path: path, errno: errno) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = errno
            close(descriptor)
            throw .unreadable(path: path, reason: Self.describe(error))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw .notAFile(path: path)
        }
        // A pipe or device reports no length, and the loaders check headers against it.
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .notRegularFile(path: path)
        }
        self.descriptor = descriptor
        size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// Reads until `buffer` is full or the file ends; returns the number of bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let count = readBytes(descriptor, base + total, buffer.count - total)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: Self.describe(errno))
            }
            total += count
        }
        offset += total
        return total
    }

    /// The rest of the file, from the current offset to its end (the length `fstat` reported).
    func readRest() throws(DataError) -> [UInt8] {
        let expected = max(0, size - offset)
        var failure: DataError?
        let bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            do throws(DataError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// The whole file at `path`.
    static func contents(of path: String) throws(DataError) -> [UInt8] {
        try LocalFile(path: path).readRest()
    }

    /// What a failed `open` means, in the loader's terms.
    private static func openError(path: String, errno code: Int32) -> DataError {
        switch code {
        case ENOENT, ENOTDIR: return .fileNotFound(path: path)
        case EISDIR: return .notAFile(path: path)
        default: return .unreadable(path: path, reason: describe(code))
        }
    }

    static func describe(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0).lowercased() } ?? "error \(code)"
    }
}

/// What is at a path: nothing, a folder or some other file (following symbolic links).
enum PathKind {
    case missing, folder, file

    init(_ path: String) {
        var status = stat()
        if stat(path, &status) != 0 {
            self = .missing
        } else {
            self = (status.st_mode & S_IFMT) == S_IFDIR ? .folder : .file
        }
    }
}

/// The entries of the folder at `path`, without "." and ".."; nil when it cannot be listed.
func folderEntries(_ path: String) -> [String]? {
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

@inline(__always)
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.read(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.read(descriptor, buffer, count)
    #else
    return Glibc.read(descriptor, buffer, count)
    #endif
}
