/// How a character of a word was written, which decides what it may mean later: only a bare `=`
/// splits `key=value`, and only a `{` that is neither escaped nor single-quoted starts an
/// interpolated expression in `echo`.
public enum Quoting: Equatable, Sendable {
    /// Written as is, outside quotes.
    case bare
    /// Written with a backslash (`\;`, or `\"` inside double quotes).
    case escaped
    /// Inside `"…"`.
    case doubleQuoted
    /// Inside `'…'`: taken literally.
    case singleQuoted
}

/// One character of the decoded text together with where it was written and how.
///
/// Later stages (the `key=value` split, `echo`'s `{expr}` and the expression lexer) work on these,
/// so their errors point at the right column even after quotes and escapes.
public struct LocatedCharacter: Equatable, Sendable {
    public var character: Character
    public var location: SourceLocation
    public var quoting: Quoting

    public init(_ character: Character, at location: SourceLocation, quoting: Quoting = .bare) {
        self.character = character
        self.location = location
        self.quoting = quoting
    }
}

/// A token of the command language: a word, or the end of a command (`;` or a new line).
public enum Token: Equatable, Sendable {
    case word(Word)
    case separator(SourceLocation)
}

/// A shell-style word: bare text, quoted parts and escapes joined, e.g. `out="my file.png"`.
public struct Word: Equatable, Sendable {
    /// The decoded characters, with where each was written.
    public var characters: [LocatedCharacter]
    /// Where the word starts in the source (its first character, or its opening quote).
    public var location: SourceLocation
    /// The word exactly as written, quotes and escapes included.
    public var raw: [LocatedCharacter]

    public init(characters: [LocatedCharacter], location: SourceLocation, raw: [LocatedCharacter]) {
        self.characters = characters
        self.location = location
        self.raw = raw
    }

    /// The decoded text: `"a b"` gives `a b`.
    public var text: String { Self.string(characters) }

    /// The source text as typed.
    public var rawText: String { Self.string(raw) }

    /// Appended one by one: a word is most often short enough to stay inside the string itself,
    /// where an array of its characters would need an allocation first.
    private static func string(_ characters: some Collection<LocatedCharacter>) -> String {
        var text = ""
        for located in characters { text.append(located.character) }
        return text
    }

    /// The `key` and `value` of a `key=value` word: the key must be a bare name
    /// (`[A-Za-z_][A-Za-z0-9_-]*`) followed by a bare `=`. `"a=b"` or `x\=y` are plain words.
    public var keyValue: (key: String, keyLocation: SourceLocation, value: [LocatedCharacter], valueLocation: SourceLocation)? {
        guard let equals = characters.firstIndex(where: { $0.character == "=" && $0.quoting == .bare }), equals > 0 else {
            return nil
        }
        let keyCharacters = characters[..<equals]
        guard keyCharacters.allSatisfy({ $0.quoting == .bare }) else { return nil }
        // Every character of a key is one of those ASCII bytes, so the key's bytes tell; asking
        // each character whether it is ASCII and a letter costs far more.
        var key = Self.string(keyCharacters)
        let isKey = key.withUTF8 { bytes in
            bytes.first.map { Self.startsAKey($0) } == true && bytes.allSatisfy { Self.startsAKey($0) || Self.isDigitOrDash($0) }
        }
        guard isKey else { return nil }
        let value = Array(characters[(equals + 1)...])
        // An empty value (`lr=`) still needs a location for its error: just after the `=`.
        let valueLocation = value.first?.location ?? characters[equals].location.advanced(by: 1)
        return (key, characters[0].location, value, valueLocation)
    }

    /// `[A-Za-z_]`
    private static func startsAKey(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26 || byte == UInt8(ascii: "_")
    }

    /// `[0-9-]`
    private static func isDigitOrDash(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: "-")
    }
}
