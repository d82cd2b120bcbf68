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
    /// A picture in its place among the text. The default writes its drawing in characters, what
    /// a terminal and a log show; a notebook shows the pixels instead.
    func show(_ picture: Picture)
    /// An error the input loop reports. The default writes its rendering to the error stream; a
    /// notebook makes it the cell's error reply, with the located message and the hint.
    func report(_ error: ErrorReport)
}

extension OutputSink {
    public func show(_ picture: Picture) { write(picture.text) }
    public func report(_ error: ErrorReport) { writeError(error.rendered) }
}

/// An error as the input loop reports it: the text `Diagnostics` rendered (the one renderer), and
/// the parts a host that shows errors its own way needs.
public struct ErrorReport: Sendable {
    /// One line, without location or hint: `unknown command 'tran'; did you mean 'train'?`.
    public var message: String
    public var hint: String?
    /// The script's name (`tour.vae`, `cell`), nil interactively.
    public var sourceName: String?
    public var location: SourceLocation
    /// Exactly what a terminal shows: the located message, the line with a caret, the hint.
    public var rendered: String
    /// Ctrl-C stopped a command at a safe point: nothing is wrong with the input.
    public var isInterruption: Bool

    /// `cell:2:7` in a script, `2:7` interactively.
    public var located: String { sourceName.map { "\($0):\(location)" } ?? location.description }
}

/// The process's stdout and stderr (or two other descriptors), written straight to the file
/// descriptors.
///
/// Unbuffered on purpose: an interactive user sees each line at once, and output interleaves
/// correctly with libedit's prompt. Write errors (a closed pipe) are ignored: there is nobody
/// left to tell.
public final class StandardOutput: OutputSink {
    private let outputDescriptor: Int32
    private let errorDescriptor: Int32

    public init(outputDescriptor: Int32 = 1, errorDescriptor: Int32 = 2) {
        self.outputDescriptor = outputDescriptor
        self.errorDescriptor = errorDescriptor
    }

    /// The image protocol the terminal on stdout speaks (see `ImageProtocol`), or nil: pictures
    /// are drawn in characters. Set only for a terminal.
    public var imageProtocol: ImageProtocol?
    /// Asks the terminal for `imageProtocol` when the first picture is shown, once: a session that
    /// shows no picture never sends the question (the shell sets it for `--images=auto`).
    public var detectImageProtocol: (() -> ImageProtocol?)?

    public func write(_ text: String) { Self.write(text, to: outputDescriptor) }
    public func writeError(_ text: String) { Self.write(text, to: errorDescriptor) }

    /// The picture as a real image when the terminal draws them, else in characters.
    public func show(_ picture: Picture) {
        if let detect = detectImageProtocol {
            detectImageProtocol = nil
            imageProtocol = detect()
        }
        write(imageProtocol.map { $0.encode(picture) } ?? picture.text)
    }

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

extension String {
    /// False when no UTF-8 byte of the text is one of `set` (nonzero bytes, then a zero); true
    /// when one may be: a NUL in the text answers true too, so callers check again exactly.
    /// C's `strcspn` reads the bytes in place, vectorised; scanning the `utf8` view runs generic
    /// code per byte, many times slower (some thirty times under the fuzzers' instrumentation),
    /// and error messages are scanned for a few bytes often.
    func mayContainUTF8Byte(from set: [CChar]) -> Bool {
        let count = utf8.count
        let scanned = withCString { text in set.withUnsafeBufferPointer { set in set.baseAddress.map { strcspn(text, $0) } ?? 0 } }
        return scanned < count
    }
}
