@preconcurrency import Glibc
import VAEScript

/// Standard input when it is not driven by libedit: a pipe, a redirected file, or `-`.
///
/// Reads one line at a time, so `producer | vaesh` runs each command as soon as it arrives.
/// Lines are decoded with the same rules as script files (`ScriptText`); a line that cannot be
/// decoded ends the input and leaves its message in `readError` for `main` to report.
///
/// With `isInteractive` (for `-i` when stdin is not a terminal) it prints the prompt itself and
/// errors don't stop the loop; there is no line editing.
final class StdinLineSource: LineSource {
    let isInteractive: Bool
    private(set) var readError: ScriptReadError?
    private var lineNumber = 0

    init(isInteractive: Bool = false) {
        self.isInteractive = isInteractive
    }

    func nextLine(prompt: String) -> LineInput {
        if readError != nil { return .end }
        if isInteractive {
            fputs(prompt, stdout)
        }
        fflush(stdout)

        SignalHandling.enter(.reading)
        defer { SignalHandling.enter(.running) }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        let count = getline(&buffer, &capacity, stdin)
        guard count >= 0, let buffer else { return .end }

        lineNumber += 1
        var bytes = UnsafeRawBufferPointer(start: buffer, count: count)
        if bytes.last == UInt8(ascii: "\n") { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        do {
            var text = try ScriptText.decode(bytes, name: "<stdin>", firstLine: lineNumber)
            if text.hasSuffix("\r") { text.removeLast() }
            return .line(text)
        } catch {
            readError = error
            return .end
        }
    }
}
