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

// MARK: - Number formatting

/// How numbers are printed, in one place so that every command prints them alike.
public enum Format {
    /// Six significant digits (`%g`); integers without a decimal point; `nan`, `inf`, `-inf`.
    public static func general(_ value: Double) -> String {
        if let special = nonFinite(value) { return special }
        if let integer = integerText(value) { return integer }
        return String(format: "%g", value)
    }

    /// The shortest text that reads back as exactly `value`: `0.1`, `1e-05`, `25.123456789`.
    public static func exact(_ value: Double) -> String {
        if let special = nonFinite(value) { return special }
        if let integer = integerText(value) { return integer }
        return "\(value)"
    }

    /// A fixed number of decimals: `fixed(25.1234, decimals: 2)` is `25.12`.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        if let special = nonFinite(value) { return special }
        return String(format: "%.\(max(0, min(decimals, 17)))f", value)
    }

    private static func nonFinite(_ value: Double) -> String? {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return nil
    }

    private static func integerText(_ value: Double) -> String? {
        guard value == value.rounded(), abs(value) < 1e15 else { return nil }
        return String(Int(value))
    }
}

// MARK: - Tables

/// Aligned columns for human output. Widths count characters, so `‖` and `≥` line up.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left, right
    }

    /// One per column; missing ones are `.left`.
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    public init(alignments: [Alignment] = []) {
        self.alignments = alignments
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The rows, each on its own line ending with a newline; columns separated by `separator`,
    /// trailing blanks trimmed.
    public func render(indent: String = "", separator: String = "  ") -> String {
        let columnCount = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columnCount)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var text = ""
        for row in rows {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let alignment = column < alignments.count ? alignments[column] : .left
                cells.append(alignment == .right ? padding + cell : cell + padding)
            }
            var line = indent + cells.joined(separator: separator)
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}

// MARK: - JSON

/// A JSON value whose objects keep their keys in order, so output reads the way it was built.
public indirect enum JSONValue: Equatable, Sendable {
    /// Non-finite numbers become `null`: JSON has no NaN or infinity.
    case number(Double)
    case int(Int)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered == b.rendered }

    /// Compact, on one line.
    public var rendered: String {
        var text = ""
        render(into: &text)
        return text
    }

    /// Appends to one string, where joining rendered parts built a string for every value.
    private func render(into text: inout String) {
        switch self {
        case .number(let value): text += value.isFinite ? Format.exact(value) : "null"
        case .int(let value): text += String(value)
        case .string(let value): JSONValue.quote(value, into: &text)
        case .bool(let value): text += value ? "true" : "false"
        case .null: text += "null"
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                value.render(into: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { text += "," }
                JSONValue.quote(key, into: &text)
                text += ":"
                value.render(into: &text)
            }
            text += "}"
        }
    }

    /// The bytes a JSON string escapes: `"`, `\` and the controls.
    private static let escaped: [CChar] = [0x22, 0x5C] + (1..<0x20).map { CChar($0) } + [0]

    static func quote(_ text: String, into result: inout String) {
        result += "\""
        // Only ASCII bytes need escapes (a byte of a multi-byte character is never below 0x80), and
        // most strings have none: those are copied whole (a NUL takes the loop, which escapes it).
        guard text.mayContainUTF8Byte(from: escaped) else {
            result += text
            result += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        result += "\""
    }
}

extension String {
    /// False when no UTF-8 byte of the text is one of `set` (nonzero bytes, then a zero); true
    /// when one may be: a NUL in the text answers true too, so callers check again exactly.
    /// C's `strcspn` reads the bytes in place, vectorised; scanning the `utf8` view runs generic
    /// code per byte, many times slower (some thirty times under the fuzzers' instrumentation),
    /// and error messages and JSON strings are scanned for a few bytes often.
    func mayContainUTF8Byte(from set: [CChar]) -> Bool {
        let count = utf8.count
        let scanned = withCString { text in set.withUnsafeBufferPointer { set in set.baseAddress.map { strcspn(text, $0) } ?? 0 } }
        return scanned < count
    }
}
