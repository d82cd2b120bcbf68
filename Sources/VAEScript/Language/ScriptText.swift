import VAEFormats

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

    /// The bytes of the file at `path`; a directory or an unreadable file is an error. A pipe is
    /// read to its end, so `vaesh <(…)` works.
    public static func readBytes(path: String) throws(ScriptReadError) -> [UInt8] {
        do {
            return try LocalFile(path: path, allowsStreams: true).readRest()
        } catch {
            throw ScriptReadError(name: path, reason: error.reason)
        }
    }

}
