import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Sinks

/// Where the language writes: the engine of the language talks to its host only through this
/// (Wren's write/error callbacks). `text` carries its own newlines.
public protocol OutputSink: AnyObject {
    /// Results: human text, or one JSON object per line under `--json`.
    func write(_ text: String)
    /// Diagnostics (and `--echo` lines under `--json`, so that stdout stays pure JSON).
    func writeError(_ text: String)
}

/// The process's stdout and stderr, written straight to the file descriptors.
///
/// Unbuffered on purpose: an interactive user sees each line at once, and output interleaves
/// correctly with libedit's prompt. Write errors (a closed pipe) are ignored: there is nobody
/// left to tell.
public final class StandardOutput: OutputSink {
    public init() {}

    public func write(_ text: String) { Self.write(text, to: 1) }
    public func writeError(_ text: String) { Self.write(text, to: 2) }

    private static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, pointer, count)
        #elseif canImport(Darwin)
        return Darwin.write(descriptor, pointer, count)
        #else
        return -1
        #endif
    }
}

/// Keeps everything written, for tests.
public final class CapturingOutput: OutputSink {
    public var standardOutput = ""
    public var standardError = ""

    public init() {}

    public func write(_ text: String) { standardOutput += text }
    public func writeError(_ text: String) { standardError += text }
}
