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
    /// `widestSource` is the most characters of the source line shown: the terminal's width
    /// (less the two "…") at a terminal, so that the caret's line cannot wrap away from the line
    /// it points into.
    public static func render(_ error: ScriptError, sourceName: String?, sourceLine: String?,
                              json: Bool = false, color: Bool = false,
                              widestSource: Int = widestSourceLine) -> String {
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
            let (shownLine, column) = window(sourceLine, around: location.column, widest: widestSource)
            let length = min(highlightLength(error), shownLine.count + 1 - column)
            text += shownLine + "\n" + caretLine(shownLine, column: column, length: length) + "\n"
        }
        if let hint = hint(error) {
            text += (color ? "\u{1B}[1;36mhint:\u{1B}[0m" : "hint:") + " \(hint)\n"
        }
        return text
    }

    /// The widest source line shown under an error where no terminal sets the width (a pipe, a
    /// log); a longer one is cut to this many characters around the error's column, with "…"
    /// where it was cut.
    public static let widestSourceLine = 160

    /// `line`, cut to `widest` characters around `column` when it is longer, and the column of
    /// the same character in what is shown.
    static func window(_ line: String, around column: Int, widest: Int = widestSourceLine) -> (line: String, column: Int) {
        let widest = max(widest, 8)
        // No more bytes than that, no more characters: most lines are left as they are at once.
        guard line.utf8.count > widest else { return (line, column) }
        let count = line.count
        guard count > widest else { return (line, column) }
        let start = max(0, min(column - 1 - widest / 2, count - widest))
        let end = min(count, start + widest)
        let before = start > 0 ? "…" : ""
        let after = end < count ? "…" : ""
        let from = line.index(line.startIndex, offsetBy: start)
        let shown = line[from..<line.index(from, offsetBy: end - start)]
        return (before + String(shown) + after, column - start + before.count)
    }

    /// Spaces up to the column (tabs kept, so the caret lines up under a tab-indented line), then
    /// `^` and a `~` for every further character of the offending word.
    static func caretLine(_ sourceLine: String, column: Int, length: Int) -> String {
        var caret = ""
        // A tab is a character of its own, so a line without the byte has no tab to keep.
        if sourceLine.mayContainUTF8Byte(from: tab) {
            for character in sourceLine.prefix(column - 1) { caret.append(character == "\t" ? "\t" : " ") }
        } else {
            caret = String(repeating: " ", count: min(column - 1, sourceLine.count))
        }
        return caret + "^" + String(repeating: "~", count: max(0, length - 1))
    }

    /// How many characters the caret underlines: the offending word where the error names one.
    static func highlightLength(_ error: ScriptError) -> Int {
        offendingWord(error).map { max(1, $0.count) } ?? 1
    }

    /// The word of the input an error is about, when it is about one (an unknown name, a bad
    /// value); nil for an error about a whole command or an expression's value.
    static func offendingWord(_ error: ScriptError) -> String? {
        switch error {
        case .unknownCommand(let word, _, _), .unknownSubcommand(let word, _, _, _, _),
             .unknownOption(let word, _, _, _, _), .unknownVariable(let word, _, _),
             .unknownFunction(let word, _, _), .unexpectedArgument(let word, _, _, _), .staleVariable(let word, _, _, _),
             .duplicateArgument(let word, _, _, _), .invalidValue(let word, _, _, _, _, _, _),
             .outOfRange(let word, _, _, _, _, _):
            // `show` alone: no second word to point at.
            return word.isEmpty ? nil : word
        default:
            return nil
        }
    }

    /// Whether the source line and a caret say more than the message: not for an error about a
    /// whole command (a failure, a missing argument, an assertion) that sits alone on its line,
    /// where the caret could only point at the command's first letter.
    public static func caretHelps(_ error: ScriptError, commandAt command: SourceLocation, commandsOnLine: Int) -> Bool {
        error.location != command || offendingWord(error) != nil || commandsOnLine > 1
    }

    /// The longest message printed whole; a longer one (a huge path inside an engine error) is cut.
    static let longestMessage = 1_000

    /// The one-line message, without location or hint: words from the input are shown through
    /// `quoted`, so a 1 MB word or a control character cannot make it long or break it in two.
    public static func message(_ error: ScriptError) -> String {
        // Control characters are escaped wherever they come from (a file's tensor name, a path), so
        // a message is one line and never drives the terminal.
        let oneLine = escapingControls(fullMessage(error))
        guard oneLine.utf8.count > longestMessage, oneLine.count > longestMessage else { return oneLine }
        return String(oneLine.prefix(longestMessage)) + "… (\(oneLine.count) characters)"
    }

    /// The longest word from the input that a message quotes whole.
    static let longestQuotedWord = 60

    /// A word from the input as a message quotes it: control characters escaped (`\n`, `\u{1B}`),
    /// and cut after `longestQuotedWord` characters with its length.
    static func quoted(_ word: String) -> String {
        let escaped = escapingControls(word)
        guard escaped.utf8.count > longestQuotedWord, escaped.count > longestQuotedWord else { return escaped }
        return String(escaped.prefix(longestQuotedWord)) + "… (\(word.count) characters)"
    }

    private static func escapingControls(_ text: String) -> String {
        guard text.mayContainUTF8Byte(from: controlStarts), text.unicodeScalars.contains(where: isControl) else { return text }
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

    private static let tab: [CChar] = [0x09, 0]
    /// The bytes the UTF-8 of a control scalar (`isControl`) starts with: a text without them has none.
    private static let controlStarts: [CChar] = (1..<0x20).map { CChar($0) } + [0x7F, CChar(bitPattern: 0xC2), CChar(bitPattern: 0xE2), 0]

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
