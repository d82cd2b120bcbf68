#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a script's bytes cannot become text: one line for the user, shown as
/// `vaesh: cannot read 'tour.vae': <reason>`.
public struct ScriptReadError: Error {
    public let name: String
    public let reason: String

    public var message: String { "vaesh: cannot read '\(name)': \(reason)" }
}

/// Turns the bytes of a script (a file, or one line of a pipe) into text, or says why it can't.
/// The shell's script files, its pipes and `source` all go through it, so they refuse the same input.
///
/// - A NUL byte is refused: it means a binary file, and no command can contain one.
/// - Invalid UTF-8 is refused with its line number rather than silently replaced, so a script
///   never runs a command the author didn't write.
/// - A leading byte-order mark is dropped and `\r\n` becomes `\n`, so files saved by Windows
///   editors run unchanged.
public enum ScriptText {
    /// Decodes a whole script; `firstLine` numbers lines in the message (pipes decode line by line).
    public static func decode(_ bytes: some Collection<UInt8>, name: String, firstLine: Int = 1) throws(ScriptReadError) -> String {
        var body = Array(bytes)
        if firstLine == 1 && body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
        var line = firstLine
        var lineStart = 0
        for index in body.indices {
            let byte = body[index]
            if byte == 0 {
                throw ScriptReadError(name: name, reason: "line \(line) contains a NUL byte; is it a binary file?")
            }
            if byte == UInt8(ascii: "\n") || index == body.count - 1 {
                let end = byte == UInt8(ascii: "\n") ? index : index + 1
                if String(validating: body[lineStart..<end], as: UTF8.self) == nil {
                    throw ScriptReadError(name: name, reason: "line \(line) is not valid UTF-8")
                }
                line += 1
                lineStart = index + 1
            }
        }
        let text = String(decoding: body, as: UTF8.self)
        return text.contains("\r\n") ? text.replacing("\r\n", with: "\n") : text
    }

    /// Reads and decodes the script file at `path`.
    public static func read(path: String) throws(ScriptReadError) -> String {
        try decode(readBytes(path: path), name: path)
    }

    /// The bytes of the file at `path`; a directory or an unreadable file is an error.
    public static func readBytes(path: String) throws(ScriptReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ScriptReadError(name: path, reason: systemReason(errno)) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ScriptReadError(name: path, reason: systemReason(errno)) }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw ScriptReadError(name: path, reason: "it is a directory") }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw ScriptReadError(name: path, reason: systemReason(errno))
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// `strerror`'s text starting lower-case, to read as the tail of our sentence.
    public static func systemReason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(descriptor, buffer, count)
    #else
    return Darwin.read(descriptor, buffer, count)
    #endif
}
