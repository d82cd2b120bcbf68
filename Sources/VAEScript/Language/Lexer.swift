/// Stage 1: text → tokens, shell style.
///
/// - Words are separated by blanks; `;` or a new line ends a command.
/// - `"…"` decodes the escapes `\"` `\\` `\n` `\t` `\{` `\}`; `'…'` is taken literally.
/// - Outside quotes, `\x` is the character `x`, and `\` at the end of a line continues the command
///   on the next line (the two lines are one command, the break counts as a blank).
/// - An unquoted `#` starts a comment that runs to the end of the line.
///
/// Input that stops inside a quote or right after a continuing `\` throws the dedicated
/// `ScriptError.incomplete`: the input loop then reads another line (Lua's trick) instead of
/// reporting an error, unless the input has ended.
public enum Lexer {
    public static func tokenize(_ text: String, firstLine: Int = 1) throws(ScriptError) -> [Token] {
        var lexing = Lexing(text, firstLine: firstLine, buildsTokens: true)
        try lexing.run()
        return lexing.tokens
    }

    /// True when `tokenize` would throw `incomplete`: the same scan, building no tokens, so that
    /// asking after every line read costs little.
    static func isIncomplete(_ text: String) -> Bool {
        var lexing = Lexing(text, firstLine: 1, buildsTokens: false)
        do {
            try lexing.run()
            return false
        } catch {
            if case .incomplete = error { return true }
            return false
        }
    }

    /// `\r\n` is one `Character` in Swift, so a line break is either.
    static func isNewline(_ character: Character?) -> Bool {
        character == "\n" || character == "\r\n"
    }

    /// The escapes a double-quoted string understands, and what they stand for.
    static let stringEscapes: [Character: Character] = [
        "\"": "\"", "\\": "\\", "n": "\n", "t": "\t", "{": "{", "}": "}",
    ]
}

/// One run of the lexer over a text.
private struct Lexing {
    private var scanner: Scanner
    /// False for `isIncomplete`, which needs only to know how the scan ends.
    private let buildsTokens: Bool
    private(set) var tokens: [Token] = []
    /// The word being scanned: its decoded characters and its source characters. Reused from word
    /// to word and copied out at their exact size, where arrays grown one character at a time
    /// took a handful of allocations per word.
    private var characters: [LocatedCharacter] = []
    private var raw: [LocatedCharacter] = []

    init(_ text: String, firstLine: Int, buildsTokens: Bool) {
        scanner = Scanner(text, firstLine: firstLine)
        self.buildsTokens = buildsTokens
    }

    mutating func run() throws(ScriptError) {
        while let kind = scanner.kind() {
            switch kind {
            case .blank:
                scanner.advance(withinLine: scanner.run { $0 == .blank })
            case .newline, .semicolon:
                if buildsTokens { tokens.append(.separator(scanner.location)) }
                scanner.advance()
            case .hash:
                scanner.advance(withinLine: scanner.run { $0 != .newline })
            case .backslash where scanner.kind(offset: 1) == .newline:
                scanner.advance(2)
            case .backslash where scanner.kind(offset: 1) == nil:
                throw .incomplete(.lineContinuation, at: scanner.location)
            default:
                try scanWord()
            }
        }
    }

    private mutating func scanWord() throws(ScriptError) {
        let start = scanner.location
        // Most words are one run of plain characters, decoded as written: built at their size in
        // one go, and the decoded and raw characters share one array.
        let plain = scanner.run { $0 == .other }
        if plain > 0, scanner.kind(offset: plain).map(\.endsAWord) ?? true {
            if buildsTokens {
                let located = scanner.located(plain)
                tokens.append(.word(Word(characters: located, location: start, raw: located)))
            }
            scanner.advance(withinLine: plain)
            return
        }
        characters.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        wordLoop: while let kind = scanner.kind() {
            switch kind {
            case .blank, .newline, .semicolon, .hash:
                break wordLoop
            case .backslash:
                guard let escaped = scanner.peek(offset: 1) else {
                    throw .incomplete(.lineContinuation, at: scanner.location)
                }
                if scanner.kind(offset: 1) == .newline { break wordLoop }  // a continuation ends the word
                add(escaped, .escaped)
                take()
                take()
            case .doubleQuote:
                let quote = scanner.location
                take()
                while true {
                    guard let inside = scanner.kind() else {
                        throw .incomplete(.unterminatedString(quote: "\""), at: quote)
                    }
                    if inside == .doubleQuote {
                        take()
                        break
                    }
                    if inside == .backslash {
                        guard let escaped = scanner.peek(offset: 1) else {
                            throw .incomplete(.unterminatedString(quote: "\""), at: quote)
                        }
                        if scanner.kind(offset: 1) == .newline {  // a continued line inside a string adds nothing
                            take()
                            take()
                            continue
                        }
                        guard let decoded = Lexer.stringEscapes[escaped] else {
                            throw .syntax("unknown escape '\\\(escaped)' in a string; write '\\\\' for a backslash", at: scanner.location)
                        }
                        add(decoded, .escaped)
                        take()
                        take()
                        continue
                    }
                    takeRun(.doubleQuoted) { (kind: CharacterKind) in kind != .doubleQuote && kind != .backslash && kind != .newline }
                }
            case .singleQuote:
                let quote = scanner.location
                take()
                while true {
                    guard let inside = scanner.kind() else {
                        throw .incomplete(.unterminatedString(quote: "'"), at: quote)
                    }
                    if inside == .singleQuote {
                        take()
                        break
                    }
                    takeRun(.singleQuoted) { (kind: CharacterKind) in kind != .singleQuote && kind != .newline }
                }
            case .other:
                takeRun(.bare) { (kind: CharacterKind) in kind == .other }
            }
        }
        if buildsTokens {
            tokens.append(.word(Word(characters: characters.exactCopy, location: start, raw: raw.exactCopy)))
        }
    }

    /// Adds a decoded character, written at the current location.
    private mutating func add(_ character: Character, _ quoting: Quoting) {
        if buildsTokens { characters.append(LocatedCharacter(character, at: scanner.location, quoting: quoting)) }
    }

    /// Moves past the current character, keeping it as written.
    private mutating func take() {
        if buildsTokens, let character = scanner.peek() { raw.append(LocatedCharacter(character, at: scanner.location)) }
        scanner.advance()
    }

    /// Adds the current character as it is and moves past it, and so on for as long as the
    /// characters after it are of kinds `belongs` accepts: the bulk of a word in one go.
    private mutating func takeRun(_ quoting: Quoting, while belongs: (CharacterKind) -> Bool) {
        let run = scanner.run(while: belongs)
        // The current character may be a line break inside a string: a run of its own.
        let count = max(1, run)
        if buildsTokens {
            scanner.append(count, quoting: quoting, to: &characters)
            scanner.append(count, quoting: .bare, to: &raw)
        }
        if run > 0 { scanner.advance(withinLine: run) } else { scanner.advance() }
    }
}

/// What a character means to the lexer; every test the lexer makes of a character is one of these.
enum CharacterKind: UInt8 {
    /// A space, a tab or a lone `\r`.
    case blank
    /// `\n`, or `\r\n`.
    case newline
    case semicolon, hash, backslash, doubleQuote, singleQuote
    case other

    /// Decided from the character's UTF-8 bytes, which is what comparing characters would come to.
    init(_ character: Character) {
        let utf8 = character.utf8
        switch utf8.count {
        case 1:
            self = utf8.first.map(Self.ascii) ?? .other
        case 2:
            // `\r\n` is one character. And characters are equal when canonically equivalent: U+037E
            // GREEK QUESTION MARK (CD BE) is a ';' to Swift, so the lexer has always ended a command
            // there. Nothing else outside ASCII is equivalent to one of the characters above.
            switch (utf8.first, utf8.last) {
            case (0x0D?, 0x0A?): self = .newline
            case (0xCD?, 0xBE?): self = .semicolon
            default: self = .other
            }
        default:
            self = .other
        }
    }

    /// True for the kinds that end a word outside quotes (or start none).
    var endsAWord: Bool {
        switch self {
        case .blank, .newline, .semicolon, .hash: true
        case .backslash, .doubleQuote, .singleQuote, .other: false
        }
    }

    /// The kind of a character that is this one byte.
    static func ascii(_ byte: UInt8) -> CharacterKind {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): .blank
        case UInt8(ascii: "\n"): .newline
        case UInt8(ascii: ";"): .semicolon
        case UInt8(ascii: "#"): .hash
        case UInt8(ascii: "\\"): .backslash
        case UInt8(ascii: "\""): .doubleQuote
        case UInt8(ascii: "'"): .singleQuote
        default: .other
        }
    }
}

/// Walks characters while keeping the line and column of the current one.
///
/// The lexer looks at every character of a script, so the scanner splits the text into characters
/// itself, from its UTF-8 bytes: two ASCII bytes in a row always have a character boundary between
/// them (unless they are `\r\n`), as Swift breaks characters, so most of a script is split a byte
/// at a time with two table lookups; only the stretches around other bytes go through Swift's
/// character breaking. Iterating a `String` by characters costs some twenty times as much.
struct Scanner {
    private let characters: [Character]
    private let kinds: [CharacterKind]
    private var index = 0
    private(set) var location: SourceLocation

    init(_ text: String, firstLine: Int) {
        var text = text
        (characters, kinds) = text.withUTF8(Self.split)
        location = SourceLocation(line: firstLine, column: 1)
    }

    func peek(offset: Int = 0) -> Character? {
        let position = index + offset
        return position < characters.count ? characters[position] : nil
    }

    /// What `peek(offset:)` would return means to the lexer; nil past the end.
    func kind(offset: Int = 0) -> CharacterKind? {
        let position = index + offset
        return position < kinds.count ? kinds[position] : nil
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < characters.count {
            if kinds[index] == .newline {
                location = SourceLocation(line: location.line + 1, column: 1)
            } else {
                location.column += 1
            }
            index += 1
        }
    }

    /// `advance(count)` over characters known to be on the current line.
    mutating func advance(withinLine count: Int) {
        index += count
        location.column += count
    }

    /// How many characters from the current one on are of kinds that `belongs` accepts, which it
    /// must not for `.newline`: they all lie on the current line.
    func run(while belongs: (CharacterKind) -> Bool) -> Int {
        kinds.withUnsafeBufferPointer { kinds in
            var end = index
            while end < kinds.count, belongs(kinds[end]) { end += 1 }
            return end - index
        }
    }

    /// The next `count` characters (on the current line), bare, with their locations.
    func located(_ count: Int) -> [LocatedCharacter] {
        [LocatedCharacter](unsafeUninitializedCapacity: count) { buffer, initialized in
            for offset in 0..<count {
                buffer.initializeElement(at: offset, to: LocatedCharacter(characters[index + offset], at: location.advanced(by: offset)))
            }
            initialized = count
        }
    }

    /// Appends the next `count` characters (on the current line) with their locations; then `advance(count)`.
    func append(_ count: Int, quoting: Quoting, to located: inout [LocatedCharacter]) {
        for offset in 0..<count {
            located.append(LocatedCharacter(characters[index + offset], at: location.advanced(by: offset), quoting: quoting))
        }
    }

    // MARK: - Splitting the text

    private static let asciiCharacters = (0..<128).map { Character(Unicode.Scalar(UInt8($0))) }
    private static let asciiKinds = (0..<128).map { CharacterKind.ascii(UInt8($0)) }

    /// The characters of valid UTF-8 text and their kinds; a text has no more characters than bytes.
    private static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> ([Character], [CharacterKind]) {
        var characters: [Character] = []
        let kinds = [CharacterKind](unsafeUninitializedCapacity: bytes.count) { kinds, kindCount in
            characters = [Character](unsafeUninitializedCapacity: bytes.count) { characters, count in
                forEachCharacter(in: bytes) { character, kind, _ in
                    characters.initializeElement(at: count, to: character)
                    kinds.initializeElement(at: count, to: kind)
                    count += 1
                }
            }
            kindCount = characters.count
        }
        return (characters, kinds)
    }

    /// Calls `body` with every character of valid UTF-8 text, in order: the character, its kind
    /// and its length in bytes.
    static func forEachCharacter(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Character, CharacterKind, Int) -> Void) {
        asciiCharacters.withUnsafeBufferPointer { asciiCharacters in
            asciiKinds.withUnsafeBufferPointer { asciiKinds in
                var index = 0
                while index < bytes.count {
                    // Each byte of a plain stretch is a character, but the last one before a byte
                    // above 0x7F, which a combining mark may join.
                    let end = plainEnd(bytes, from: index)
                    let ownEnd = end < bytes.count && bytes[end] >= 0x80 ? max(index, end - 1) : end
                    for byte in UnsafeBufferPointer(rebasing: bytes[index..<ownEnd]) {
                        body(asciiCharacters[Int(byte)], asciiKinds[Int(byte)], 1)
                    }
                    index = ownEnd
                    guard index < bytes.count else { break }
                    if bytes[index] == UInt8(ascii: "\r") {
                        // A character of its own, or with the `\n` after it.
                        if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") {
                            body("\r\n", .newline, 2)
                            index += 2
                        } else {
                            body("\r", .blank, 1)
                            index += 1
                        }
                        continue
                    }
                    // Up to the next sure boundary, Swift decides.
                    var regionEnd = index + 1
                    while regionEnd < bytes.count, !isBoundary(bytes[regionEnd - 1], bytes[regionEnd]) { regionEnd += 1 }
                    for character in String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<regionEnd]), as: UTF8.self) {
                        body(character, CharacterKind(character), character.utf8.count)
                    }
                    index = regionEnd
                }
            }
        }
    }

    /// Where the plain stretch from `start` ends: at the first byte above 0x7F or `\r`, or the end.
    private static func plainEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        if let base = bytes.baseAddress {
            // Eight bytes at a time: a byte above 0x7F has its top bit set, and a `\r` xor 0x0D is a
            // zero byte, which the classic test finds (it never misses one; a false alarm only
            // hands over to the byte loop below).
            while index + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let returns = word ^ 0x0D0D_0D0D_0D0D_0D0D
                let zeroByte = (returns &- 0x0101_0101_0101_0101) & ~returns
                if (word | zeroByte) & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
        }
        while index < bytes.count, bytes[index] < 0x80, bytes[index] != UInt8(ascii: "\r") { index += 1 }
        return index
    }

    /// True when a character surely ends between these two bytes: both are ASCII and not `\r\n`.
    private static func isBoundary(_ before: UInt8, _ after: UInt8) -> Bool {
        before < 0x80 && after < 0x80 && !(before == UInt8(ascii: "\r") && after == UInt8(ascii: "\n"))
    }
}

private extension Array {
    /// A copy without spare capacity that shares no storage with `self`, so `self` can be reused.
    var exactCopy: [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: self)
        }
    }
}
