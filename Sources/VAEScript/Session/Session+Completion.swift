import Foundation
import VAEKit

/// Tab completion, derived from the command table like everything else.
///
/// Candidates are whole words: they replace the word under the cursor, which starts at
/// `completionWordStart(line:cursor:)` (after the last unquoted blank or `;` before the cursor).
/// Offsets count UTF-8 bytes, as libedit's `LineInfo` does.
extension Session {
    /// Candidates for the word under the cursor, sorted: command names for the first word; the
    /// options of the command being typed (as `key=`) and its next positional value; the values
    /// after `key=` (`split=train`, `split=test`); files for path arguments; variables and
    /// functions in expressions.
    public func completions(line: String, cursor: Int) -> [String] {
        let context = CompletionContext(line: line, cursor: cursor)
        if let layers = layerCandidates(context) { return Array(Set(layers)).sorted() }
        guard !context.partial.contains("\""), !context.partial.contains("'") else { return [] }
        return Array(Set(candidates(context))).sorted()
    }

    /// Where the word under the cursor starts, in UTF-8 bytes from the start of `line`.
    public func completionWordStart(line: String, cursor: Int) -> Int {
        CompletionContext(line: line, cursor: cursor).wordStart
    }

    /// What `help` says about the command the cursor is in (a notebook's Shift-Tab): the command
    /// its first words name, or the one `help NAME` names; nil outside a known command. `cursor`
    /// counts UTF-8 bytes, anywhere in the command (`lo|ad mnist` is `load mnist`).
    public func helpText(line: String, cursor: Int) -> String? {
        let bytes = Array(line.utf8)
        var end = max(0, min(cursor, bytes.count))
        while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
        let context = CompletionContext(line: line, cursor: end)
        var words = context.completedWords + (context.partial.isEmpty ? [] : [context.partial])
        if let first = words.first, commands.command(named: first)?.name == "help", words.count > 1 { words.removeFirst() }
        guard let first = words.first else { return nil }
        let named = words.count > 1 ? commands.command(named: first + " " + words[1]) : nil
        guard let spec = named ?? commands.command(named: first) else { return nil }
        return commands.help(for: spec)
    }

    private func candidates(_ context: CompletionContext) -> [String] {
        let partial = context.partial
        let words = context.completedWords
        guard let first = words.first else {
            let firstWords = commands.allNames.map { String($0.split(separator: " ").first ?? "") }
            return firstWords.filter { $0.hasPrefix(partial) }
        }
        let spec: CommandSpec
        let arguments: ArraySlice<String>
        if words.count >= 2, let twoWords = commands.command(named: first + " " + words[1]) {
            spec = twoWords
            arguments = words.dropFirst(2)
        } else if let oneWord = commands.command(named: first) {
            spec = oneWord
            arguments = words.dropFirst(1)
        } else if words.count == 1 {
            return commands.subcommands(of: first).filter { $0.hasPrefix(partial) }
        } else {
            return []
        }

        if let rest = spec.restArgument {
            switch rest.type {
            case .commandName:
                if arguments.isEmpty { return candidates(CompletionContext(completedWords: [], partial: partial)) }
                if arguments.count == 1 { return commands.subcommands(of: arguments[arguments.startIndex]).filter { $0.hasPrefix(partial) } }
                return []
            default:
                return expressionCandidates(partial)
            }
        }

        if let equals = partial.firstIndex(of: "=") {
            let key = String(partial[..<equals])
            guard let argument = spec.argument(named: key) else { return [] }
            let valuePrefix = String(partial[partial.index(after: equals)...])
            return valueCandidates(argument.type, prefix: valuePrefix).map { key + "=" + $0 }
        }

        let givenKeys = Set(arguments.compactMap { word in word.firstIndex(of: "=").map { String(word[..<$0]) } })
        let positionalCount = arguments.filter { !$0.contains("=") }.count
        var result = spec.arguments
            .filter { $0.kind != .rest && !givenKeys.contains($0.name) && $0.name.hasPrefix(partial) }
            .map { $0.name + "=" }
        let openPositionals = spec.arguments.filter { $0.kind == .positional && !givenKeys.contains($0.name) }
        if positionalCount < openPositionals.count {
            result += valueCandidates(openPositionals[positionalCount].type, prefix: partial)
        }
        return result
    }

    private func valueCandidates(_ type: ArgumentType, prefix: String) -> [String] {
        switch type {
        case .choice(let values):
            return values.filter { $0.hasPrefix(prefix) }
        case .bool:
            return ["true", "false"].filter { $0.hasPrefix(prefix) }
        case .path:
            return Self.pathCandidates(prefix)
        case .list(let element):
            // Complete the element after the last comma, keeping the ones before.
            let head = prefix.lastIndex(of: ",").map { String(prefix[...$0]) } ?? ""
            return valueCandidates(element, prefix: String(prefix.dropFirst(head.count))).map { head + $0 }
        case .commandName:
            return commands.allNames.filter { !$0.contains(" ") && $0.hasPrefix(prefix) }
        default:
            return []
        }
    }

    /// Inside a quoted `.layers` value (`encoder="Conv2d(1,32,3) Re`): layer names where a layer
    /// starts, the layer's keywords (`stride=`) inside its parentheses. Nil when the word under the
    /// cursor is no such value.
    private func layerCandidates(_ context: CompletionContext) -> [String]? {
        let partial = context.partial
        guard let equals = partial.firstIndex(of: "="), let first = context.completedWords.first else { return nil }
        let key = String(partial[..<equals])
        let value = partial[partial.index(after: equals)...]
        guard let quote = value.first, quote == "\"" || quote == "'" else { return nil }
        let words = context.completedWords
        let twoWords = words.count >= 2 ? commands.command(named: first + " " + words[1]) : nil
        guard let spec = twoWords ?? commands.command(named: first), spec.argument(named: key)?.type == .layers else { return nil }
        let name = String(value.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
        let head = String(partial.dropLast(name.count))
        // The innermost open call decides: inside one, its keywords; outside, layer names.
        var depth = 0, layer = "", current = ""
        for character in value.dropFirst().dropLast(name.count) {
            if character.isLetter || character.isNumber || character == "_" { current.append(character); continue }
            if character == "(" { depth += 1; if depth == 1 { layer = current } }
            if character == ")" { depth = max(0, depth - 1) }
            current = ""
        }
        if depth > 0 {
            let keywords = (LayerSpec.signatures[layer] ?? []).map { $0.name + "=" }
            return keywords.filter { $0.hasPrefix(name) }.map { head + $0 }
        }
        return LayerSpec.names.filter { $0.hasPrefix(name) }.map { head + $0 }
    }

    /// Variables and functions for the name being typed at the end of `partial` (`kl>=el` → `kl>=elbo`).
    private func expressionCandidates(_ partial: String) -> [String] {
        let name = String(partial.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
        guard !name.isEmpty, let first = name.first, !first.isNumber else { return [] }
        let head = String(partial.dropLast(name.count))
        let names = variables.keys.map { $0 } + ExpressionFunction.all.map { $0.name + "(" }
        return names.filter { $0.hasPrefix(name) }.map { head + $0 }
    }

    /// Files and directories (with a trailing `/`) that start with `prefix`; hidden ones only when
    /// the prefix asks for them. `~/` is expanded for the lookup but kept in the candidates.
    static func pathCandidates(_ prefix: String) -> [String] {
        let directoryPart = prefix.lastIndex(of: "/").map { String(prefix[...$0]) } ?? ""
        let namePrefix = String(prefix.dropFirst(directoryPart.count))
        let lookup = directoryPart.isEmpty ? "." : ArgumentParsing.expandingTilde(directoryPart)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: lookup) else { return [] }
        return entries
            .filter { $0.hasPrefix(namePrefix) && (!$0.hasPrefix(".") || namePrefix.hasPrefix(".")) }
            .map { entry in
                var isDirectory: ObjCBool = false
                let full = (lookup as NSString).appendingPathComponent(entry)
                let suffix = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) && isDirectory.boolValue ? "/" : ""
                return directoryPart + entry + suffix
            }
    }
}

/// The command being typed, up to the cursor: the words before the cursor and the partial word under it.
struct CompletionContext {
    var completedWords: [String]
    var partial: String
    var wordStart = 0

    init(completedWords: [String], partial: String) {
        self.completedWords = completedWords
        self.partial = partial
    }

    init(line: String, cursor: Int) {
        let bytes = Array(line.utf8)
        var end = max(0, min(cursor, bytes.count))
        // Back up to a character boundary if the cursor splits a multi-byte character.
        while end > 0 && end < bytes.count && (bytes[end] & 0b1100_0000) == 0b1000_0000 { end -= 1 }
        // A word is the bytes from where it starts up to a blank or `;`, quotes included, so it is
        // kept as where it starts; the characters come from the lexer's walk, with their kinds.
        var words: [String] = []
        var currentStart: Int?
        var quote: CharacterKind?
        var offset = 0
        (partial, wordStart) = bytes.withUnsafeBufferPointer { bytes in
            let text = UnsafeBufferPointer(rebasing: bytes[..<end])
            func word(from start: Int, to end: Int) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: text[start..<end]), as: UTF8.self)
            }
            Scanner.forEachCharacter(in: text) { _, kind, width in
                defer { offset += width }
                if let open = quote {
                    if kind == open { quote = nil }
                    return
                }
                switch kind {
                case .doubleQuote, .singleQuote:
                    if currentStart == nil { currentStart = offset }
                    quote = kind
                case .semicolon:
                    words = []
                    currentStart = nil
                case .blank where text[offset] != UInt8(ascii: "\r"):
                    if let start = currentStart { words.append(word(from: start, to: offset)) }
                    currentStart = nil
                default:
                    if currentStart == nil { currentStart = offset }
                }
            }
            return currentStart.map { (word(from: $0, to: end), $0) } ?? ("", end)
        }
        completedWords = words
    }
}
