import VAEFormats

/// One line the kernel sent, parsed: its `type`, its `id` (any JSON value, echoed in every frame
/// of the answer) and its fields. Anything else on the line is a `Problem`, which becomes a reply
/// with status `error`, never a crash or silence.
struct KernelRequest {
    /// Why a line is not a request (or a request lacks a field it needs), for the error reply.
    struct Problem: Error {
        var id: JSONValue
        var message: String
    }

    let id: JSONValue
    let type: String
    private let fields: [(String, JSONValue)]

    static func parse(_ bytes: [UInt8]) -> Result<KernelRequest, Problem> {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            return .failure(Problem(id: .null, message: "malformed request: the line is not valid UTF-8"))
        }
        var parser = StrictJSONParser(bytes: bytes, name: "request")
        let value: JSONValue
        do {
            value = try parser.parseDocument()
        } catch {
            return .failure(Problem(id: .null, message: "malformed request: \(error.detail)"))
        }
        guard case .object(let members) = value else {
            return .failure(Problem(id: .null, message: "malformed request: a request is a JSON object, not \(value.kind)"))
        }
        let id = members.first { $0.0 == "id" }?.1 ?? .null
        guard case .string(let type)? = members.first(where: { $0.0 == "type" })?.1 else {
            return .failure(Problem(id: id, message: "malformed request: it needs a \"type\" string (execute, complete, inspect, is_complete or shutdown)"))
        }
        return .success(KernelRequest(id: id, type: type, fields: members))
    }

    /// The string field `key`, or the problem that it is missing or not a string.
    func string(_ key: String) throws(Problem) -> String {
        guard let value = fields.first(where: { $0.0 == key })?.1 else {
            throw Problem(id: id, message: "malformed \(type) request: it needs \"\(key)\"")
        }
        guard case .string(let text) = value else {
            throw Problem(id: id, message: "malformed \(type) request: \"\(key)\" must be a string, not \(value.kind)")
        }
        return text
    }

    /// The `cursor` field: a whole number of Unicode scalars from the start of the code, ≥ 0.
    func cursor() throws(Problem) -> Int {
        guard let value = fields.first(where: { $0.0 == "cursor" })?.1 else {
            throw Problem(id: id, message: "malformed \(type) request: it needs \"cursor\"")
        }
        guard let cursor = value.exactInteger else {
            throw Problem(id: id, message: "malformed \(type) request: \"cursor\" must be a whole number ≥ 0, not \(value.excerpt)")
        }
        return cursor
    }
}

/// A notebook's cursor (Unicode scalars from the start of the cell, as Jupyter counts) turned
/// into what completion and `help` work on: the line it is in and a UTF-8 byte offset in it (as
/// libedit counts). A cursor past the end stands at the end.
struct CellCursor {
    /// The line the cursor is in, without its line break.
    let line: String
    /// The cursor in UTF-8 bytes from the start of `line`.
    let byteInLine: Int
    /// The cursor in scalars from the start of the cell.
    let scalarOffset: Int
    private let lineStart: Int

    init(code: String, scalarOffset: Int) {
        let scalars = Array(code.unicodeScalars)
        let cursor = min(scalarOffset, scalars.count)
        var start = cursor, end = cursor
        while start > 0 && scalars[start - 1] != "\n" { start -= 1 }
        while end < scalars.count && scalars[end] != "\n" && scalars[end] != "\r" { end += 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        line = String(view)
        byteInLine = scalars[start..<cursor].reduce(0) { $0 + UTF8.width($1) }
        self.scalarOffset = cursor
        lineStart = start
    }

    /// A byte offset in `line` (a word's start) as scalars from the start of the cell.
    func scalarOffset(ofByteInLine byte: Int) -> Int {
        var bytes = 0, scalars = 0
        for scalar in line.unicodeScalars {
            if bytes >= byte { break }
            bytes += UTF8.width(scalar)
            scalars += 1
        }
        return lineStart + scalars
    }
}
