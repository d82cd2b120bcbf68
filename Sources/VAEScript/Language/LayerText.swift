import VAEKit

/// One layer as the user wrote it inside `encoder="…"` or `decoder="…"`: the engine's layer, the
/// text as typed and where it starts, so that a shape error found later (when the data's shape is
/// known) still points at the layer's own text.
public struct LayerCall: Equatable, Sendable {
    public var spec: LayerSpec
    /// The layer as written, e.g. `Conv2d(1,32,3,stride=2)`.
    public var text: String
    /// Where its name starts in the script.
    public var location: SourceLocation
}

/// The architecture language: a stack of layers written with PyTorch's class names and argument
/// order, as `nn.Sequential(…)` lists them.
///
/// ```
/// layers   := layer (separator layer)*      separator: blanks or new lines, a ',' or both
/// layer    := ['nn.' | 'torch.nn.'] NAME ['(' [argument (',' argument)* [',']] ')']
/// argument := [NAME '='] value
/// value    := INT | FLOAT | True | False | 'text' | "text" | '(' value, … ')' | '[' value, … ']'
/// ```
/// `ReLU` and `ReLU()` are the same layer. Binding follows Python (`LayerSpec.make`): positional
/// arguments in the constructor's order, then keywords. Every error is one line located at the
/// character it is about (a layer's name, an argument, an unclosed parenthesis).
public enum LayerText {
    /// Parses and binds `characters` (the decoded value of the argument, each with where it was
    /// written); `end` locates errors at the end of an empty or truncated text.
    public static func parse(_ characters: [LocatedCharacter], end: SourceLocation) throws(ScriptError) -> [LayerCall] {
        var parser = LayerParser(characters: characters, end: end)
        return try parser.layers()
    }

    /// The layers' canonical text (PyTorch's constructor calls) joined by blanks, which `parse` reads back.
    public static func canonical(_ specs: [LayerSpec]) -> String {
        specs.map(\.description).joined(separator: " ")
    }

    /// Keras's names for the layers people transcribe from the Keras and TensorFlow tutorials,
    /// with what to write instead.
    static let kerasNames: [String: String] = [
        "Dense": "Linear(in_features, out_features)",
        "Conv2D": "Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)",
        "Conv2DTranspose": "ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0)",
        "Reshape": "Unflatten(C, H, W), which reads the values in PyTorch's C×H×W order",
        "BatchNormalization": "BatchNorm1d(num_features) or BatchNorm2d(num_features)",
        "InputLayer": "nothing: the input's shape comes from the loaded data",
        "Input": "nothing: the input's shape comes from the loaded data",
    ]

    /// `Conv2d(in_channels, out_channels, kernel_size, stride=1, …)`: a layer's signature for hints.
    static func signature(_ name: String) -> String {
        let parameters = LayerSpec.signatures[name] ?? []
        return "\(name)(" + parameters.map { parameter in
            parameter.defaultText.map { "\(parameter.name)=\($0)" } ?? parameter.name
        }.joined(separator: ", ") + ")"
    }
}

// MARK: - The parser

/// A value written in a call, with where it starts.
private struct WrittenArgument {
    var argument: LayerArgument
    var location: SourceLocation
}

private struct LayerParser {
    let characters: [LocatedCharacter]
    let end: SourceLocation
    var position = 0
    /// Tuples inside tuples, now: `value` calls itself once per level, so a line of a million
    /// '(' would overflow the stack (FuzzArchitecture found it with 3,600). PyTorch's arguments
    /// nest one level (`kernel_size=(3, 5)`); the cap is the expression parser's.
    var nesting = 0
    static let maximumNesting = ExpressionParser.maximumNesting

    private var current: Character? { position < characters.count ? characters[position].character : nil }
    private var location: SourceLocation { position < characters.count ? characters[position].location : endLocation }
    /// Just past the last character (or `end` for an empty text).
    private var endLocation: SourceLocation { characters.last.map { $0.location.advanced(by: 1) } ?? end }

    private func error(_ message: String, hint: String? = nil, at location: SourceLocation) -> ScriptError {
        .commandFailed(message: message, hint: hint, at: location)
    }

    private mutating func skipBlanks() {
        while let character = current, character.isWhitespace { position += 1 }
    }

    mutating func layers() throws(ScriptError) -> [LayerCall] {
        var result: [LayerCall] = []
        skipBlanks()
        guard current != nil else {
            throw error("no layers: write them as PyTorch names them, e.g. \"Linear(784,400) ReLU\"", at: end)
        }
        while current != nil {
            result.append(try layer())
            skipBlanks()
            if current == "," {
                position += 1
                skipBlanks()
            }
        }
        return result
    }

    private mutating func layer() throws(ScriptError) -> LayerCall {
        let start = position
        let nameLocation = location
        var name = try identifier(what: "a layer name such as Linear or Conv2d")
        // `nn.Conv2d` and `torch.nn.Conv2d`, as they are written in a module.
        while current == ".", name == "nn" || name == "torch" {
            position += 1
            name = try identifier(what: "a layer name after '\(name).'")
        }
        var written: [WrittenArgument] = []
        skipBlanks()
        if current == "(" {
            let open = location
            position += 1
            written = try arguments(layer: name, open: open)
        }
        let text = String(characters[start..<position].map(\.character))
        guard LayerSpec.signatures[name] != nil else {
            if let keras = LayerText.kerasNames[name] {
                throw error("unknown layer '\(name)': that is Keras's name", hint: "in PyTorch's names write \(keras)", at: nameLocation)
            }
            let suggestion = Suggestions.closest(to: name, in: LayerSpec.names)
                ?? LayerSpec.names.first { $0.lowercased() == name.lowercased() }
            throw error("unknown layer '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                        hint: "the layers are " + LayerSpec.names.joined(separator: ", "), at: nameLocation)
        }
        do {
            let spec = try LayerSpec.make(name, written.map(\.argument))
            return LayerCall(spec: spec, text: text, location: nameLocation)
        } catch {
            let at = error.argument.flatMap { $0 < written.count ? written[$0].location : nil } ?? nameLocation
            var message = error.message
            if case .unknownArgument(let candidates) = error.kind, let index = error.argument, index < written.count,
               let keyword = written[index].argument.name, let suggestion = Suggestions.closest(to: keyword, in: candidates) {
                message += "; did you mean '\(suggestion)'?"
            }
            throw self.error(message, hint: LayerText.signature(name), at: at)
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`
    private mutating func identifier(what: String) throws(ScriptError) -> String {
        guard let first = current, first.isASCII, first.isLetter || first == "_" else {
            let found = current.map { "'\($0)'" } ?? "the end of the text"
            throw error("expected \(what), found \(found)", at: location)
        }
        var name = ""
        while let character = current, character.isASCII, character.isLetter || character.isNumber || character == "_" {
            name.append(character)
            position += 1
        }
        return name
    }

    /// The arguments after `(`, through the closing `)`.
    private mutating func arguments(layer: String, open: SourceLocation) throws(ScriptError) -> [WrittenArgument] {
        var result: [WrittenArgument] = []
        while true {
            skipBlanks()
            if current == ")" {
                position += 1
                return result
            }
            guard current != nil else {
                throw error("'(' after \(layer) is never closed", hint: "close the call with ')'", at: open)
            }
            let argumentLocation = location
            var keyword: String?
            if let first = current, first.isLetter || first == "_" {
                // A keyword, or a bare word value (True, False).
                let save = position
                let word = try identifier(what: "an argument")
                skipBlanks()
                if current == "=" {
                    position += 1
                    skipBlanks()
                    keyword = word
                } else {
                    position = save
                }
            }
            let value = try self.value()
            result.append(WrittenArgument(argument: LayerArgument(value, name: keyword), location: argumentLocation))
            skipBlanks()
            switch current {
            case ",": position += 1
            case ")": continue
            case nil: throw error("'(' after \(layer) is never closed", hint: "close the call with ')'", at: open)
            case let other?: throw error("expected ',' or ')' in the arguments of \(layer), found '\(other)'", at: location)
            }
        }
    }

    private mutating func value() throws(ScriptError) -> LayerArgumentValue {
        let start = location
        guard let first = current else { throw error("expected a value, found the end of the text", at: start) }
        switch first {
        case "(", "[":
            let close: Character = first == "(" ? ")" : "]"
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Self.maximumNesting else {
                throw error("a value nested too deeply: at most \(Self.maximumNesting) levels", hint: "a layer's argument is a number, a word or a tuple such as (3, 5)", at: start)
            }
            position += 1
            var items: [LayerArgumentValue] = []
            while true {
                skipBlanks()
                if current == close {
                    position += 1
                    return .tuple(items)
                }
                guard current != nil else { throw error("'\(first)' is never closed", hint: "close it with '\(close)'", at: start) }
                items.append(try value())
                skipBlanks()
                if current == "," { position += 1 } else if current != close {
                    guard let other = current else { throw error("'\(first)' is never closed", hint: "close it with '\(close)'", at: start) }
                    throw error("expected ',' or '\(close)', found '\(other)'", at: location)
                }
            }
        case "'", "\"":
            position += 1
            var text = ""
            while let character = current, character != first {
                text.append(character)
                position += 1
            }
            guard current == first else { throw error("the string is never closed", hint: "close it with \(first)", at: start) }
            position += 1
            return .string(text)
        case let character where character.isLetter:
            let word = try identifier(what: "a value")
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": throw error("None is not supported here", hint: "leave the argument out for its default", at: start)
            default:
                throw error("expected a value, found '\(word)'", hint: "numbers, True, False, 'text' or (a, b); a keyword is written name=value", at: start)
            }
        default:
            var text = ""
            while let character = current, character.isNumber || "+-.eE_".contains(character) {
                if character != "_" { text.append(character) }
                position += 1
            }
            if let integer = Int(text) { return .int(integer) }
            if let number = Double(text), number.isFinite, text.contains(where: \.isNumber) { return .double(number) }
            let shown = text.isEmpty ? String(first) : text
            throw error("expected a value, found '\(shown)'", hint: "numbers, True, False, 'text' or (a, b)", at: start)
        }
    }
}
