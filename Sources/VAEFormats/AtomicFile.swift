#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Saving a file all or nothing: checkpoints, pictures, tables and the history file alike.
///
/// The bytes go to a hidden temporary file beside the target (`.NAME.tmp-PID-RANDOM`: hidden, and
/// never ending in the target's extension, so no loader picks it up), are forced to disk with
/// `fsync`, and the temporary is renamed over the target. A save that fails or is interrupted at
/// any point leaves any earlier file at the path exactly as it was; on failure the temporary is
/// removed. Temporaries that killed saves of the same name left behind are removed first. The
/// folder is synced after the rename as a best effort (some file systems refuse it; the rename has
/// happened by then, so that is not reported).
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically; the new file gets `permissions` less the umask.
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644) throws(FileError) {
        try write(bytes, to: path, permissions: permissions, injectFailure: { _ in nil })
    }

    /// `write`, with a way for tests to make one step fail with an errno (a failed write first
    /// writes half the bytes, like a disk filling up mid-write).
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644,
                             injectFailure: (FileError.SaveStep) -> Int32?) throws(FileError) {
        func failure(_ step: FileError.SaveStep, _ code: Int32) -> FileError {
            .system(code, path: path, operation: .save(step))
        }
        let slash = path.lastIndex(of: "/")
        let directoryPrefix = slash.map { String(path[...$0]) } ?? ""
        let baseName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !baseName.isEmpty, baseName != ".", baseName != ".." else {
            throw failure(.replace, EISDIR)
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
            descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure(.createTemporary, errno) }

        func abandon(_ step: FileError.SaveStep, _ code: Int32) -> FileError {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporaryPath)
            return failure(step, code)
        }

        if let code = writeAll(bytes, to: descriptor, injectedFailure: injectFailure(.write)) {
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
    /// written for a minute. Nothing reads them, but a checkpoint-sized one each time adds up. The
    /// minute spares a save in progress by a process this one cannot see (another PID namespace
    /// sharing the folder). Best effort: errors are ignored.
    public static func removeStaleTemporaries(of baseName: String, in directory: String, now: time_t = time(nil)) {
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
            guard let base = raw.baseAddress else { return injectedFailure }
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
