import Foundation

// What every fuzz target shares: how an invariant fails, and where a file-reading target puts the
// bytes it was given.

/// Stops the process when `condition` is false, naming the target and what broke. libFuzzer takes
/// the abort for a crash and keeps the input; `scripts/fuzz` looks for "invariant broken".
public func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fputs("\(ProcessInfo.processInfo.processName) invariant broken: \(message())\n", stderr)
        abort()
    }
}

/// A path for this process's scratch file called `name`, in memory-backed storage when there is
/// some (writing it then costs microseconds).
public func scratchPath(_ name: String) -> String {
    let folder = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return folder + "/vaesh-fuzz-\(getpid())-\(name)"
}

/// An error message must be one non-empty line, whatever bytes the file held.
public func checkOneLine(_ message: String) {
    check(!message.isEmpty, "an empty message")
    check(!message.contains(where: \.isNewline), "a message of several lines: \(message.debugDescription)")
}
