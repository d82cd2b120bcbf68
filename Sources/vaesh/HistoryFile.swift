import Glibc
import VAEFormats
import VAEScript

/// The persisted command history: plain text, one entry per line, oldest first.
///
/// - At most `capacity` entries; the oldest go first.
/// - An entry equal to the one before it is not stored again.
/// - Every save writes a temporary file in the same directory and renames it over the old one, so
///   a hang-up or a crash mid-save leaves either the old file or the new one, never an empty one.
/// - Each save re-reads the file and appends to it, so two shells running at once both keep their
///   entries (interleaved) instead of the last one to exit overwriting the other's.
struct HistoryFile {
    static let capacity = 1000

    let path: String

    /// `$VAESH_HISTORY` if set (empty turns persistence off), else `~/.vaesh_history`.
    static func defaultPath() -> String? {
        if let override = getenv("VAESH_HISTORY") {
            let path = String(cString: override)
            return path.isEmpty ? nil : path
        }
        guard let home = homeDirectory() else { return nil }
        return home + "/.vaesh_history"
    }

    /// The stored entries; none if the file does not exist or cannot be read.
    func load() -> [String] {
        guard let bytes = try? ScriptText.readBytes(path: path) else { return [] }
        return String(decoding: bytes, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .suffix(Self.capacity)
            .map(String.init)
    }

    /// Appends `entry` and saves atomically; returns why it could not, if it could not.
    func append(_ entry: String) -> String? {
        let line = entry.replacing("\n", with: " ")
        var entries = load()
        if entries.last != line { entries.append(line) }
        let text = entries.suffix(Self.capacity).joined(separator: "\n") + "\n"
        return writeAtomically(text)
    }

    /// Saves `text` through `AtomicFile` (private to the user: mode 0600); why not, if it could not.
    private func writeAtomically(_ text: String) -> String? {
        do {
            try AtomicFile.write(Array(text.utf8), to: path, permissions: 0o600)
            return nil
        } catch {
            return error.reason
        }
    }
}

/// `$HOME`, or the password database's home directory when `$HOME` is unset.
func homeDirectory() -> String? {
    if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
    guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
    return String(cString: directory)
}
