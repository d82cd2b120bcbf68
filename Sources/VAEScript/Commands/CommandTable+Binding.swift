import Foundation

/// An invocation matched to its command, with validated arguments: ready to run.
public struct BoundCommand: Sendable {
    public let spec: CommandSpec
    public let arguments: ArgumentValues
    public let invocation: Invocation
}

/// Stage 3: validation. Everything that can be checked without running is checked here, before
/// any handler of the line runs: the command exists, every option is known, every value has its
/// type and range, required arguments are there, expressions parse.
extension CommandTable {
    public func bind(_ invocation: Invocation) throws(ScriptError) -> BoundCommand {
        let words = invocation.words
        guard let first = words.first else {
            throw .internalError("empty invocation", at: invocation.location)
        }
        let (spec, argumentStart) = try resolveCommand(words)
        var values = ArgumentValues(spec: spec, location: first.location)
        let arguments = Array(words[argumentStart...])

        if let rest = spec.restArgument {
            try bindRest(rest, spec: spec, invocation: invocation, from: argumentStart, into: &values)
        } else {
            try bindWords(arguments, spec: spec, into: &values)
        }

        for argument in spec.arguments where values.values[argument.name] == nil {
            if let defaultValue = argument.defaultValue {
                values.set(argument.name, defaultValue, at: nil, given: false)
            } else if argument.isRequired {
                throw .missingArgument(argument.name, command: spec.name, at: first.location)
            }
        }
        return BoundCommand(spec: spec, arguments: values, invocation: invocation)
    }

    /// Finds the command: two words (`show settings`) before one, then a family with an unknown
    /// second word, then "unknown command" with a suggestion.
    private func resolveCommand(_ words: [Word]) throws(ScriptError) -> (CommandSpec, Int) {
        let name = words[0].text
        if words.count > 1, let spec = command(named: name + " " + words[1].text) {
            return (spec, 2)
        }
        if let spec = command(named: name) {
            return (spec, 1)
        }
        let family = subcommands(of: name)
        if !family.isEmpty {
            guard words.count > 1 else {
                throw .unknownSubcommand("", command: name, choices: family, suggestion: nil, at: words[0].location)
            }
            let word = words[1].text
            // `show sign` for `show-sign`: the two words joined make a command.
            let joined = command(named: name + "-" + word).map(\.name)
            throw .unknownSubcommand(word, command: name, choices: family,
                                     suggestion: joined ?? Suggestions.closest(to: word, in: family), at: words[1].location)
        }
        throw .unknownCommand(name, suggestion: Suggestions.closest(to: name, in: commandWords), at: words[0].location)
    }

    private func bindRest(_ rest: ArgumentSpec, spec: CommandSpec, invocation: Invocation, from start: Int,
                          into values: inout ArgumentValues) throws(ScriptError) {
        let words = Array(invocation.words.dropFirst(start))
        guard let first = words.first else { return }  // absent: default or "missing" below
        let raw = invocation.rawCharacters(from: start)
        let end = raw.last.map { $0.location.advanced(by: 1) } ?? first.location
        let value: ArgumentValue
        switch rest.type {
        case .expression:
            value = .expression(try ExpressionParser.parseExpression(raw, end: end), text: String(raw.map(\.character)))
        case .assignment:
            let assignment = try ExpressionParser.parseAssignment(raw, end: end)
            value = .assignment(name: assignment.name, value: assignment.value)
        case .template:
            value = .template(try Template.parse(words))
        case .commandName:
            let name = words.map(\.text).joined(separator: " ")
            guard command(named: name) != nil else {
                let suggestion = Suggestions.closest(to: name, in: allNames)
                throw .unknownCommand(name, suggestion: suggestion, at: first.location)
            }
            value = .string(name)
        default:
            value = .string(words.map(\.text).joined(separator: " "))
        }
        values.set(rest.name, value, at: first.location, given: true)
    }

    /// `key=value` words go to the option of that name; other words fill the positional
    /// arguments in order.
    private func bindWords(_ words: [Word], spec: CommandSpec, into values: inout ArgumentValues) throws(ScriptError) {
        var positionals = spec.arguments.filter { $0.kind == .positional }
        for (index, word) in words.enumerated() {
            let argument: ArgumentSpec
            let valueCharacters: [LocatedCharacter]
            let valueLocation: SourceLocation
            if let keyValue = word.keyValue {
                guard let named = spec.argument(named: keyValue.key) else {
                    throw .unknownOption(keyValue.key, command: spec.name,
                                         suggestion: Suggestions.closest(to: keyValue.key, in: spec.arguments.map(\.name)),
                                         at: keyValue.keyLocation, argumentIndex: index)
                }
                argument = named
                valueCharacters = keyValue.value
                valueLocation = keyValue.valueLocation
            } else {
                guard let next = positionals.first(where: { !values.isGiven($0.name) }) else {
                    throw .unexpectedArgument(word.text, command: spec.name, at: word.location, argumentIndex: index)
                }
                argument = next
                valueCharacters = word.characters
                valueLocation = word.location
            }
            guard !values.isGiven(argument.name) else {
                throw .duplicateArgument(argument.name, command: spec.name, at: word.location, argumentIndex: index)
            }
            positionals.removeAll { $0.name == argument.name }
            let value = try convert(valueCharacters, at: valueLocation, for: argument, command: spec.name, index: index)
            values.set(argument.name, value, at: valueLocation, given: true)
        }
    }

    /// Text → typed value, with the range checked.
    func convert(_ characters: [LocatedCharacter], at location: SourceLocation, for argument: ArgumentSpec,
                 command: String, index: Int) throws(ScriptError) -> ArgumentValue {
        let text = String(characters.map(\.character))
        func invalid(_ type: ArgumentType, _ value: String, suggestion: String? = nil, at location: SourceLocation) -> ScriptError {
            .invalidValue(value, argument: argument.name, command: command, expected: type.expectation,
                          suggestion: suggestion, at: location, argumentIndex: index)
        }
        func checkRange(_ number: Double, _ value: String, at location: SourceLocation) throws(ScriptError) {
            if let range = argument.range, !range.contains(number) {
                throw .outOfRange(value, argument: argument.name, command: command, requirement: range.description,
                                  at: location, argumentIndex: index)
            }
        }
        func scalar(_ type: ArgumentType, _ text: String, at location: SourceLocation) throws(ScriptError) -> ArgumentValue {
            switch type {
            case .int:
                guard let number = ArgumentParsing.integer(text) else { throw invalid(type, text, at: location) }
                try checkRange(Double(number), text, at: location)
                return .int(number)
            case .double:
                guard let number = ArgumentParsing.number(text) else { throw invalid(type, text, at: location) }
                try checkRange(number, text, at: location)
                return .double(number)
            case .bool:
                guard let truth = ArgumentParsing.boolean(text) else { throw invalid(type, text, at: location) }
                return .bool(truth)
            case .choice(let choices):
                guard choices.contains(text) else {
                    throw invalid(type, text, suggestion: Suggestions.closest(to: text, in: choices), at: location)
                }
                return .string(text)
            case .path:
                guard !text.isEmpty else { throw invalid(type, text, at: location) }
                return .string(ArgumentParsing.expandingTilde(text))
            case .expression:
                return .expression(try ExpressionParser.parseExpression(characters, end: location), text: text)
            case .commandName:
                guard self.command(named: text) != nil else {
                    throw .unknownCommand(text, suggestion: Suggestions.closest(to: text, in: allNames), at: location)
                }
                return .string(text)
            case .string, .template, .assignment, .list, .layers:
                return .string(text)
            }
        }

        if argument.type == .layers {
            // Widths (`decoder=400,200`) keep the MLP form; anything else is a stack of layers.
            guard text.contains(where: { !$0.isNumber && $0 != "," }) || text.isEmpty else {
                var widths = argument
                widths.type = .list(.int)
                return try convert(characters, at: location, for: widths, command: command, index: index)
            }
            return .layers(try LayerText.parse(characters, end: location))
        }
        guard case .list(let elementType) = argument.type else {
            return try scalar(argument.type, text, at: location)
        }
        // Split at commas, keeping each element's location for its own error.
        var elements: [(String, SourceLocation)] = []
        var current = ""
        var currentLocation = location
        for character in characters {
            if character.character == "," {
                elements.append((current, currentLocation))
                current = ""
                currentLocation = character.location.advanced(by: 1)
            } else {
                if current.isEmpty { currentLocation = character.location }
                current.append(character.character)
            }
        }
        elements.append((current, currentLocation))
        var integers: [Int] = []
        var numbers: [Double] = []
        for (element, elementLocation) in elements {
            switch try scalar(elementType, element, at: elementLocation) {
            case .int(let number): integers.append(number); numbers.append(Double(number))
            case .double(let number): numbers.append(number)
            default: throw invalid(argument.type, text, at: location)
            }
        }
        return elementType == .int ? .intList(integers) : .doubleList(numbers)
    }
}

/// How words read as numbers and truth values, shared by validation and `set`.
enum ArgumentParsing {
    /// `42`, `-2`, and integral floating forms such as `1e4` (handy for `limit=1e4`).
    static func integer(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        guard let number = number(text), number == number.rounded(), abs(number) < 9e15 else { return nil }
        return Int(number)
    }

    /// Finite decimal numbers: `1e-3`, `-2`, `.5`. Not `nan`, `inf` or hexadecimal.
    static func number(_ text: String) -> Double? {
        let allowed = Set("0123456789+-.eE")
        guard !text.isEmpty, text.allSatisfy({ allowed.contains($0) }), let value = Double(text), value.isFinite else {
            return nil
        }
        return value
    }

    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }
}
