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
//
// Two of these checks cost a second pass over the same work, so each input gets one of the two,
// chosen from its bytes (`Choice`): an error is rendered for the terminal or as JSON, and
// completion runs at one cursor (the end of the first line, or a point inside it) instead of two.
// The choice is a function of the input, so a crash replays, and a one-byte change flips it, so
// the fuzzer reaches both sides of each from the same neighbourhood of inputs.

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
    let source = Source(text: text, choice: Choice(bytes))

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
        render(error, source)
        complete(source)
        return 0
    }

    for invocation in Parser.parse(tokens) {
        do {
            let bound = try session.commands.bind(invocation)
            evaluate(bound.arguments, source)
        } catch {
            render(error, source)
        }
    }
    complete(source)
    return 0
}

/// Evaluates the expressions and templates a command was given, as `assert`, `let` and `echo` would.
private func evaluate(_ arguments: ArgumentValues, _ source: Source) {
    for name in arguments.givenNames {
        switch try? arguments.value(name) {
        case .expression(let expression, _)?:
            do { _ = try expression.evaluate(variables) } catch { render(error, source) }
        case .template(let template)?:
            do { _ = try template.render(variables) } catch { render(error, source) }
        default:
            break
        }
    }
}

/// The text of one input, its lines split only when an error needs them, and its choice.
private final class Source {
    let text: String
    let choice: Choice
    /// Most inputs that bind without an error never need these.
    lazy var lines: [String] = splitLines(text)

    init(text: String, choice: Choice) {
        self.text = text
        self.choice = choice
    }
}

/// Which side of the two-sided checks an input gets, from its length and first and last bytes.
private struct Choice {
    /// Render errors as JSON (one line) rather than for the terminal (location prefix).
    let json: Bool
    /// Complete at the end of the first line when nil, else at this point of it (scaled by its length).
    let cursorPoint: Int?

    init(_ bytes: [UInt8]) {
        let mixed = bytes.count &+ Int(bytes.first ?? 0) &* 31 &+ Int(bytes.last ?? 0) &* 7
        json = mixed & 1 == 1
        cursorPoint = mixed & 2 == 0 ? nil : mixed >> 2
    }
}

/// Checks the error's location and renders it one of the two ways (`Choice.json`), checking that.
private func render(_ error: ScriptError, _ source: Source) {
    let lines = source.lines
    let location = error.location
    // The lexer may point one line past the text (an open quote ends with the input).
    check(location.line >= 1 && location.line <= max(1, lines.count + 1), "error on line \(location.line) of \(lines.count)")
    let line = lines.indices.contains(location.line - 1) ? lines[location.line - 1] : nil
    if let line {
        check(location.column >= 1 && location.column <= line.count + 1,
              "error at column \(location.column) of a \(line.count)-character line")
    }
    guard source.choice.json else {
        let human = Diagnostics.render(error, sourceName: "fuzz.vae", sourceLine: line)
        check(human.hasPrefix("fuzz.vae:\(location.line):\(location.column): error: "), "diagnostic without its location")
        return
    }
    var json = Diagnostics.render(error, sourceName: "fuzz.vae", sourceLine: line, json: true)
    let oneLine = json.withUTF8 { bytes in
        bytes.last == UInt8(ascii: "\n") && !bytes.dropLast().contains { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
    }
    check(oneLine, "a JSON diagnostic on more than one line")
}

/// The lines as the lexer counts them: a line ends at `\n` or at `\r\n` (one character in Swift).
/// Split at the byte, read in place: a line feed always starts a character of its own unless a
/// carriage return comes just before it, and then that return belongs to the line break.
private func splitLines(_ text: String) -> [String] {
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

/// Tab completion in the first line (its first 200 characters), at the cursor `Choice` picks:
/// its end, or a point inside it. Offsets count UTF-8 bytes (libedit's), so a point may fall
/// inside a character.
private func complete(_ source: Source) {
    let line = String(source.text.prefix(200).prefix { $0 != "\n" && $0 != "\r\n" })
    let length = line.utf8.count
    let cursor = source.choice.cursorPoint.map { $0 % (length + 1) } ?? length
    _ = session.completions(line: line, cursor: cursor)
    _ = session.completionWordStart(line: line, cursor: cursor)
}
