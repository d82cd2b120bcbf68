import VAEFormats

/// The one place that turns errors into text.
///
/// In a script:
/// ```
/// tour.vae:12:7: error: unknown option 'lrr' for 'train'; did you mean 'lr'?
/// train lrr=3
///       ^~~
/// hint: …            (when there is one)
/// ```
/// Interactively the same without the `file:line:column: ` part (the caret shows where).
/// Under `--json`, one line instead: `{"error":"…","file":"tour.vae","line":12,"column":7,"hint":"…"}`
/// (`file` only in scripts, `hint` only when there is one), still on stderr, so stdout carries
/// nothing but the reports' JSON objects.
public enum Diagnostics {
    /// How one error is printed. `sourceLine` is the line of the text the location points into.
    public static func render(_ error: ScriptError, sourceName: String?, sourceLine: String?,
                              json: Bool = false, color: Bool = false) -> String {
        let location = error.location
        if json {
            var members: [(String, JSONValue)] = [("error", .string(message(error)))]
            if let sourceName { members.append(("file", .string(sourceName))) }
            members.append(("line", .int(location.line)))
            members.append(("column", .int(location.column)))
            if let hint = hint(error) { members.append(("hint", .string(hint))) }
            return JSONValue.object(members).rendered + "\n"
        }
        let errorLabel = color ? "\u{1B}[1;31merror:\u{1B}[0m" : "error:"
        var text = sourceName.map { "\($0):\(location): " } ?? ""
        text += "\(errorLabel) \(message(error))\n"
        if let sourceLine, location.column >= 1, location.column <= sourceLine.count + 1 {
            let (shownLine, column) = window(sourceLine, around: location.column)
            let length = min(highlightLength(error), shownLine.count + 1 - column)
            text += shownLine + "\n" + caretLine(shownLine, column: column, length: length) + "\n"
        }
        if let hint = hint(error) {
            text += (color ? "\u{1B}[1;36mhint:\u{1B}[0m" : "hint:") + " \(hint)\n"
        }
        return text
    }

    /// The widest source line shown under an error; a longer one is cut to this many characters
    /// around the error's column, with "…" where it was cut.
    static let widestSourceLine = 160

    /// `line`, cut to `widestSourceLine` characters around `column` when it is longer, and the
    /// column of the same character in what is shown.
    static func window(_ line: String, around column: Int) -> (line: String, column: Int) {
        let characters = Array(line)
        guard characters.count > widestSourceLine else { return (line, column) }
        let start = max(0, min(column - 1 - widestSourceLine / 2, characters.count - widestSourceLine))
        let end = min(characters.count, start + widestSourceLine)
        let before = start > 0 ? "…" : ""
        let after = end < characters.count ? "…" : ""
        return (before + String(characters[start..<end]) + after, column - start + before.count)
    }

    /// Spaces up to the column (tabs kept, so the caret lines up under a tab-indented line), then
    /// `^` and a `~` for every further character of the offending word.
    static func caretLine(_ sourceLine: String, column: Int, length: Int) -> String {
        let before = sourceLine.prefix(column - 1).map { $0 == "\t" ? "\t" : " " }.joined()
        return before + "^" + String(repeating: "~", count: max(0, length - 1))
    }

    /// How many characters the caret underlines: the offending word where the error names one.
    static func highlightLength(_ error: ScriptError) -> Int {
        switch error {
        case .unknownCommand(let word, _, _), .unknownSubcommand(let word, _, _, _, _),
             .unknownOption(let word, _, _, _, _), .unknownVariable(let word, _, _),
             .unknownFunction(let word, _, _), .unexpectedArgument(let word, _, _, _), .staleVariable(let word, _, _, _),
             .duplicateArgument(let word, _, _, _), .invalidValue(let word, _, _, _, _, _, _),
             .outOfRange(let word, _, _, _, _, _):
            return max(1, word.count)
        default:
            return 1
        }
    }

    /// The longest message printed whole; a longer one (a huge path inside an engine error) is cut.
    static let longestMessage = 1_000

    /// The one-line message, without location or hint: words from the input are shown through
    /// `quoted`, so a 1 MB word or a control character cannot make it long or break it in two.
    public static func message(_ error: ScriptError) -> String {
        // Control characters are escaped wherever they come from (a file's tensor name, a path), so
        // a message is one line and never drives the terminal.
        let oneLine = escapingControls(fullMessage(error))
        guard oneLine.count > longestMessage else { return oneLine }
        return String(oneLine.prefix(longestMessage)) + "… (\(oneLine.count) characters)"
    }

    /// The longest word from the input that a message quotes whole.
    static let longestQuotedWord = 60

    /// A word from the input as a message quotes it: control characters escaped (`\n`, `\u{1B}`),
    /// and cut after `longestQuotedWord` characters with its length.
    static func quoted(_ word: String) -> String {
        let escaped = escapingControls(word)
        guard escaped.count > longestQuotedWord else { return escaped }
        return String(escaped.prefix(longestQuotedWord)) + "… (\(word.count) characters)"
    }

    private static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static func fullMessage(_ error: ScriptError) -> String {
        switch error {
        case .incomplete(.unterminatedString(let quote), _):
            return "unterminated string: no closing \(quote) before the end of the input"
        case .incomplete(.lineContinuation, _):
            return "'\\' at the end of the input continues a command that never comes"
        case .syntax(let text, _):
            return text
        case .unknownCommand(let name, let suggestion, _):
            return "unknown command '\(quoted(name))'" + didYouMean(suggestion)
        case .unknownSubcommand(let word, let command, let choices, let suggestion, _):
            if word.isEmpty { return "'\(command)' needs one of: \(choices.joined(separator: ", "))" }
            return "unknown subcommand '\(quoted(word))' for '\(command)'" + didYouMean(suggestion)
        case .unknownOption(let option, let command, let suggestion, _, _):
            return "unknown option '\(quoted(option))' for '\(command)'" + didYouMean(suggestion)
        case .invalidValue(let value, let argument, let command, let expected, let suggestion, _, _):
            return "invalid value '\(quoted(value))' for '\(argument)' of '\(command)': expected \(expected)" + didYouMean(suggestion)
        case .outOfRange(let value, let argument, let command, let requirement, _, _):
            return "invalid value '\(quoted(value))' for '\(argument)' of '\(command)': must be \(requirement)"
        case .missingArgument(let argument, let command, _):
            return "missing required argument '\(argument)' for '\(command)'"
        case .unexpectedArgument(let word, let command, _, _):
            return "unexpected argument '\(quoted(word))' for '\(command)'"
        case .duplicateArgument(let argument, let command, _, _):
            return "'\(argument)' is given twice for '\(command)'"
        case .unknownVariable(let name, let suggestion, _):
            return "unknown variable '\(quoted(name))'" + didYouMean(suggestion)
        case .unknownFunction(let name, let suggestion, _):
            return "unknown function '\(quoted(name))'" + didYouMean(suggestion)
        case .staleVariable(_, let reason, _, _):
            return reason
        case .wrongArgumentCount(let function, let expected, let got, _):
            let noun = expected == "1" ? "argument" : "arguments"
            return "\(function) takes \(expected) \(noun), got \(got)"
        case .typeMismatch(let text, _), .domainError(let text, _):
            return text
        case .divisionByZero:
            return "division by zero"
        case .assertionFailed(let expression, let values, _):
            let shown = values.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
            return "assertion failed: \(expression)" + (shown.isEmpty ? "" : " (\(shown))")
        case .missingPrerequisite(let missing, let remedy, _):
            return "no \(missing) yet: \(remedy)"
        case .fileNotReadable(let path, let reason, _):
            return "cannot read '\(path)': \(reason)"
        case .sourceNestingTooDeep(let chain, let limit, _):
            // The start of the chain and its end say where it began and what repeats; the middle
            // of a runaway recursion is the same name over and over.
            let shown = chain.count <= 6 ? chain : chain.prefix(2) + ["… \(chain.count - 4) more …"] + chain.suffix(2)
            return "'source' nested more than \(limit) deep: " + shown.joined(separator: " → ")
        case .engine(let message, _, _), .commandFailed(let message, _, _):
            return message
        case .interrupted:
            return "interrupted"
        case .internalError(let text, _):
            return "internal error: \(text)"
        }
    }

    /// What to do about it, when there is something useful to say.
    public static func hint(_ error: ScriptError) -> String? {
        switch error {
        case .unknownCommand(_, nil, _):
            return "type 'help' for the list of commands"
        case .unknownOption(_, let command, nil, _, _), .unexpectedArgument(_, let command, _, _),
             .missingArgument(_, let command, _):
            return "type 'help \(command)' for its arguments"
        case .unknownVariable(let name, nil, _):
            return "'vars' lists the variables; 'let \(name) = …' sets one"
        case .unknownFunction(_, nil, _):
            return "the functions are " + ExpressionFunction.all.map(\.name).joined(separator: ", ")
        case .sourceNestingTooDeep:
            return "a script probably sources itself"
        case .engine(_, let hint, _), .commandFailed(_, let hint, _):
            return hint
        case .staleVariable(_, _, let remedy, _):
            return remedy
        case .internalError:
            return "this is a bug in vaesh, not in your script; please report it"
        default:
            return nil
        }
    }

    private static func didYouMean(_ suggestion: String?) -> String {
        suggestion.map { "; did you mean '\($0)'?" } ?? ""
    }
}
