/// A JSON value whose objects keep their keys in order: the one JSON of vaesh, read from
/// safetensors headers and written by `--json` reports, error lines and checkpoint headers.
public indirect enum JSONValue: Equatable, Sendable {
    /// A number to write; non-finite values are written `null` (JSON has no NaN or infinity).
    case number(Double)
    case int(Int)
    /// A number as a parsed document wrote it, kept as text so integers are read exactly (no
    /// detour through Double) and messages can quote it as written.
    case parsedNumber(String)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered == b.rendered }

    /// Compact, on one line. `formatNumber` writes a finite Double (the shortest text that reads
    /// back exactly, by default).
    public var rendered: String {
        var text = ""
        write(to: &text)
        return text
    }

    private func write(to text: inout String) {
        switch self {
        case .number(let value):
            text += value.isFinite ? JSONValue.shortest(value) : "null"
        case .int(let value): text += String(value)
        case .parsedNumber(let value): text += value
        case .string(let value): JSONValue.appendQuoted(value, to: &text)
        case .bool(let value): text += value ? "true" : "false"
        case .null: text += "null"
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                value.write(to: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { text += "," }
                JSONValue.appendQuoted(key, to: &text)
                text += ":"
                value.write(to: &text)
            }
            text += "}"
        }
    }

    /// `value` as the shortest text that reads back as exactly it: `0.1`, `1e-05`, integers
    /// without a decimal point.
    static func shortest(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped, everything
    /// else as itself (what serde_json, and so the safetensors reference writer, does).
    public static func quoted(_ text: String) -> String {
        var result = ""
        appendQuoted(text, to: &result)
        return result
    }

    static func appendQuoted(_ text: String, to result: inout String) {
        result += "\""
        // Only ASCII bytes need escapes (no byte of a multi-byte character is below 0x80), and most
        // strings have none: those are copied whole.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
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
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        result += "\""
    }

    // MARK: - Reading parsed values

    /// "an object", "a number", …, for messages.
    public var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number, .int, .parsedNumber: "a number"
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        }
    }

    /// A non-negative integer that fits an Int, written without sign, fraction or exponent (the
    /// safetensors reference refuses 4.0 as a dimension too); nil for anything else.
    public var exactInteger: Int? {
        switch self {
        case .int(let value): return value >= 0 ? value : nil
        case .parsedNumber(let text):
            guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            return Int(text, radix: 10)  // nil on overflow
        default: return nil
        }
    }

    /// Short JSON-like text for a message; long arrays and strings are cut.
    public var excerpt: String {
        switch self {
        case .number, .int, .parsedNumber:
            let text = rendered
            return text.count > 24 ? String(text.prefix(24)) + "…" : text
        case .string(let text): return "\"" + (text.count > 24 ? String(text.prefix(24)) + "…" : text) + "\""
        case .bool, .null: return rendered
        case .object: return "{…}"
        case .array(let elements):
            return "[" + elements.prefix(8).map(\.excerpt).joined(separator: ", ") + (elements.count > 8 ? ", …]" : "]")
        }
    }
}

/// Why bytes are not a JSON document: `detail` says what and at which byte.
public struct JSONError: Error, Equatable, Sendable {
    public var detail: String
}

/// A strict JSON parser (RFC 8259) over bytes already checked to be UTF-8.
///
/// It refuses duplicate keys and nesting deeper than `maximumDepth` (so its recursion is
/// bounded), and keeps numbers as text. Messages name the document and count bytes from 1:
/// "unexpected '}' at header byte 12" for a document called "header".
public struct StrictJSONParser {
    let bytes: [UInt8]
    var index = 0
    /// What the document is called in messages, e.g. "header".
    let name: String
    public static let maximumDepth = 64

    public init(bytes: [UInt8], name: String = "document") {
        self.bytes = bytes
        self.name = name
    }

    private var position: String { "\(name) byte" }

    /// The one value `bytes` hold, with nothing but whitespace around it.
    public mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else {
            throw JSONError(detail: bytes.isEmpty ? "the \(name) is empty" : "the \(name) holds only spaces")
        }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected \(describeCurrent()) after the JSON value") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        guard index < bytes.count else { throw failure("unexpected end of the \(name)") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .parsedNumber(try parseNumber())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default: throw failure("unexpected \(describeCurrent())")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        index += 1  // {
        var members: [(String, JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a string key, found \(describeCurrent())")
            }
            let keyStart = index
            let key = try parseString()
            guard keys.insert(key).inserted else {
                throw JSONError(detail: "duplicate key \(Quoting.quoted(key)) at \(position) \(keyStart + 1)")
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after a key, found \(describeCurrent())") }
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { return .object(members) }
            throw failure("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { return .array(elements) }
            throw failure("expected ',' or ']' in an array, found \(describeCurrent())")
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8 += Array(String(try parseUnicodeEscape()).utf8)
                default:
                    index -= 1
                    throw failure("invalid escape '\\\(Self.describe(escape))' in a string")
                }
            case 0x00 ..< 0x20:
                throw failure("control character \(Self.describe(byte)) in a string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// The scalar of a `\uXXXX` escape (just past the `u`), joining a UTF-16 surrogate pair.
    private mutating func parseUnicodeEscape() throws(JSONError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800 ..< 0xDC00).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired UTF-16 surrogate in a \\u escape")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00 ..< 0xE000).contains(second),
                  let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            else { throw failure("unpaired UTF-16 surrogate in a \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw failure("unpaired UTF-16 surrogate in a \\u escape") }
        return scalar
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            guard index < bytes.count, let digit = Self.hexValue(bytes[index]) else {
                throw failure("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A number's text: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func parseNumber() throws(JSONError) -> String {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            if index < bytes.count, isDigit(bytes[index]) { throw failure("a number cannot have a leading zero") }
        } else {
            guard consumeDigits() else { throw failure("expected a digit, found \(describeCurrent())") }
        }
        if consume(UInt8(ascii: ".")) {
            guard consumeDigits() else { throw failure("expected a digit after '.', found \(describeCurrent())") }
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard consumeDigits() else { throw failure("expected a digit in an exponent, found \(describeCurrent())") }
        }
        return String(decoding: bytes[start ..< index], as: UTF8.self)
    }

    /// Skips digits; whether there was at least one.
    private mutating func consumeDigits() -> Bool {
        let start = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        return index > start
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func expectWord(_ word: String) throws(JSONError) {
        for expected in word.utf8 {
            guard index < bytes.count, bytes[index] == expected else {
                throw failure("unexpected \(describeCurrent()) (expected '\(word)')")
            }
            index += 1
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private func describeCurrent() -> String {
        index < bytes.count ? Self.describe(bytes[index]) : "the end of the \(name)"
    }

    /// A byte as a message shows it: printable ASCII in quotes, anything else in hex.
    static func describe(_ byte: UInt8) -> String {
        guard !(0x21 ... 0x7E).contains(byte) else { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    private func failure(_ what: String) -> JSONError {
        JSONError(detail: "\(what) at \(position) \(index + 1)")
    }
}
