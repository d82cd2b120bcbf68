import FuzzSupport
import Glibc
import VAEScript

// The language's front end on arbitrary text: lexer, parser, binding against the command table
// (which parses expressions and {expr} templates), expression evaluation, the diagnostics
// renderer, the continuation test and tab completion. Nothing here touches the engine.
//
// Besides "no crash", it checks what the front end promises:
// - `isIncomplete(text)` is true exactly when the lexer throws `incomplete`;
// - every error's location lies inside the text (a line that exists, a column at most one past
//   its end), so the caret under the source line points at something;
// - a rendered diagnostic is never empty, and under --json it is one line.

/// A session for completion and for the continuation test; its state is never changed here.
private let session = Session(options: SessionOptions(), output: CapturingOutput())

/// Variables for evaluating expressions: a number, a negative, a zero, a huge and a NaN.
private let variables: [String: ScriptValue] = [
    "kl": .number(25.5), "elbo": .number(-100), "zero": .number(0), "huge": .number(1e308), "nan": .number(.nan),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScript(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = lines(of: text)

    let tokens: [Token]
    do {
        tokens = try Lexer.tokenize(text)
        check(!session.isIncomplete(text), "isIncomplete is true, but the lexer accepted the text")
    } catch {
        if case .incomplete = error {
            check(session.isIncomplete(text), "the lexer says incomplete, isIncomplete says no")
        } else {
            check(!session.isIncomplete(text), "isIncomplete for a non-incomplete error")
        }
        render(error, lines: lines)
        complete(text)
        return 0
    }

    for invocation in Parser.parse(tokens) {
        do {
            let bound = try session.commands.bind(invocation)
            evaluate(bound.arguments, lines: lines)
        } catch {
            render(error, lines: lines)
        }
    }
    complete(text)
    return 0
}

/// Evaluates the expressions and templates a command was given, as `assert`, `let` and `echo` would.
private func evaluate(_ arguments: ArgumentValues, lines: [String]) {
    for name in arguments.givenNames {
        switch try? arguments.value(name) {
        case .expression(let expression, _)?:
            do { _ = try expression.evaluate(variables) } catch { render(error, lines: lines) }
        case .template(let template)?:
            do { _ = try template.render(variables) } catch { render(error, lines: lines) }
        default:
            break
        }
    }
}

/// Renders the error both ways and checks its location.
private func render(_ error: ScriptError, lines: [String]) {
    let location = error.location
    // The lexer may point one line past the text (an open quote ends with the input).
    check(location.line >= 1 && location.line <= max(1, lines.count + 1), "error on line \(location.line) of \(lines.count)")
    let line = lines.indices.contains(location.line - 1) ? lines[location.line - 1] : nil
    if let line {
        check(location.column >= 1 && location.column <= line.count + 1,
              "error at column \(location.column) of a \(line.count)-character line")
    }
    let human = Diagnostics.render(error, sourceName: "fuzz.vae", sourceLine: line)
    check(human.hasPrefix("fuzz.vae:\(location.line):\(location.column): error: "), "diagnostic without its location")
    let json = Diagnostics.render(error, sourceName: "fuzz.vae", sourceLine: line, json: true)
    var bytes = json
    let oneLine = bytes.withUTF8 { bytes in
        bytes.last == UInt8(ascii: "\n") && !bytes.dropLast().contains { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
    }
    check(oneLine, "a JSON diagnostic on more than one line")
}

/// The lines as the lexer counts them: a line ends at `\n` or at `\r\n` (one character in Swift).
/// Split at the byte, read in place: a line feed always starts a character of its own unless a
/// carriage return comes just before it, and then that return belongs to the line break.
private func lines(of text: String) -> [String] {
    var text = text
    return text.withUTF8 { bytes in
        var lines: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            let end = index > start && bytes[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
            lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            start = index + 1
        }
        lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
        return lines
    }
}

/// Tab completion at the end of the first line, and in its middle.
private func complete(_ text: String) {
    let line = String(text.prefix(200).prefix { $0 != "\n" && $0 != "\r\n" })
    // Offsets count UTF-8 bytes (libedit's); the middle may fall inside a character.
    for cursor in [line.utf8.count, line.utf8.count / 2] {
        _ = session.completions(line: line, cursor: cursor)
        _ = session.completionWordStart(line: line, cursor: cursor)
    }
}

