/// `help`, `help COMMAND` and the markdown reference, all generated from the table.
extension CommandTable {
    /// Commands grouped by topic, each with its abstract, laid out for `width` columns (an
    /// abstract that does not fit wraps under itself).
    public func helpOverview(width: Int = TextLayout.unlimited) -> String {
        var text = "Commands (type 'help COMMAND' for details):\n"
        // The widths of all topics together, so the abstracts line up from topic to topic.
        var all = TextTable(indent: "  ")
        for command in commands { all.append([command.name, command.abstract]) }
        let widths = all.columnWidths(fitting: width)
        for topic in CommandTopic.allCases {
            var table = TextTable(indent: "  ")
            for command in commands where command.topic == topic { table.append([command.name, command.abstract]) }
            guard !table.rows.isEmpty else { continue }
            text += "\n\(topic.rawValue)\n" + table.render(columnWidths: widths)
        }
        return text
    }

    /// Usage, abstract, arguments, discussion, examples and aliases of one command, laid out for
    /// `width` columns: paragraphs wrapped at blanks, the arguments' table shortened.
    public func help(for command: CommandSpec, width: Int = TextLayout.unlimited) -> String {
        func paragraph(_ text: String) -> String {
            TextLayout.wrap(text, width: width, hangingIndent: 0).joined(separator: "\n") + "\n"
        }
        var text = paragraph("usage: \(command.usage)") + "\n" + paragraph(Self.sentence(command.abstract))
        if !command.arguments.isEmpty {
            text += "\nArguments:\n" + Self.argumentsText(command.arguments.map { (Self.argumentForm($0), Self.argumentDescription($0)) },
                                                          width: width)
        }
        text += "\n" + paragraph(command.discussion)
        if !command.examples.isEmpty {
            text += "\nExamples:\n" + command.examples.map { "  \($0)\n" }.joined()
        }
        if !command.aliases.isEmpty {
            text += "\nAliases: " + command.aliases.joined(separator: ", ") + "\n"
        }
        return text
    }

    /// The forms in a column and the descriptions beside them, wrapped. When that does not fit
    /// the width, the form column is at most 24 characters and a longer form (likelihood=bernoulli|
    /// gaussian|gaussian-learned) takes a line of its own with its description under it, as
    /// argparse does, so that one long form does not squeeze every description into a strip.
    static func argumentsText(_ rows: [(form: String, description: String)], width: Int) -> String {
        var table = TextTable(indent: "  ")
        for row in rows { table.append([row.form, row.description]) }
        let natural = table.columnWidths(fitting: TextLayout.unlimited)
        let formColumn = 24
        guard let formWidth = natural.first, let descriptionWidth = natural.last,
              formWidth > formColumn, 2 + formWidth + 2 + descriptionWidth > width else { return table.render(width: width) }
        let margin = String(repeating: " ", count: 2 + formColumn + 2)
        var text = ""
        for row in rows {
            let lines = TextLayout.wrapCell(row.description, width: max(20, width - margin.count))
            let beside = row.form.count <= formColumn
            text += "  " + row.form + (beside ? String(repeating: " ", count: formColumn - row.form.count + 2) : "\n" + margin)
            text += lines.map { $0 + "\n" }.joined(separator: margin)
        }
        return text
    }

    /// `docs/COMMANDS.md`. A test keeps the file equal to this; see `Sources/VAEScript/README.md`.
    public func markdownReference() -> String {
        var text = """
        # vaesh command reference

        <!-- Generated from CommandTable (Sources/VAEScript). Do not edit by hand: after changing a
             command, run `VAESH_UPDATE_DOCS=1 scripts/test --filter CommandTableTests` to rewrite it. -->

        Every command, grouped by topic. `[x]` is optional; `key=value` arguments go in any order;
        positional arguments may also be written `name=value`.

        """
        for topic in CommandTopic.allCases {
            let inTopic = commands.filter { $0.topic == topic }
            guard !inTopic.isEmpty else { continue }
            text += "\n## \(topic.rawValue)\n"
            for command in inTopic {
                text += "\n### `\(command.name)`\n\n\(Self.sentence(command.abstract))\n\n```\n\(command.usage)\n```\n"
                if !command.arguments.isEmpty {
                    text += "\n| argument | type | default | allowed | meaning |\n|---|---|---|---|---|\n"
                    for argument in command.arguments {
                        let cells = [
                            "`\(Self.argumentForm(argument))`",
                            Self.typeName(argument.type),
                            argument.defaultValue.map { "`\($0.displayText)`" } ?? (argument.isRequired ? "required" : "—"),
                            Self.allowed(argument) ?? "",
                            argument.abstract,
                        ]
                        text += "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
                    }
                }
                text += "\n\(command.discussion)\n"
                if !command.examples.isEmpty {
                    text += "\nExamples:\n\n```\n" + command.examples.joined(separator: "\n") + "\n```\n"
                }
                if !command.aliases.isEmpty {
                    text += "\nAliases: " + command.aliases.map { "`\($0)`" }.joined(separator: ", ") + ".\n"
                }
            }
        }
        return text
    }

    // MARK: - Pieces

    /// `epochs=INT`, `FILE`, `EXPR`.
    static func argumentForm(_ argument: ArgumentSpec) -> String {
        switch argument.kind {
        case .option: "\(argument.name)=\(argument.type.placeholder)"
        case .positional, .rest: argument.type == .assignment ? argument.type.placeholder : argument.name.uppercased()
        }
    }

    /// `passes over the training set (default 1; ≥ 1)`.
    static func argumentDescription(_ argument: ArgumentSpec) -> String {
        var notes: [String] = []
        if let defaultValue = argument.defaultValue { notes.append("default \(defaultValue.displayText)") }
        if argument.isRequired { notes.append("required") }
        if let allowed = allowed(argument) { notes.append(allowed) }
        return argument.abstract + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")
    }

    static func allowed(_ argument: ArgumentSpec) -> String? {
        switch argument.type {
        case .choice(let values): return values.joined(separator: ", ")
        case .list(.choice(let values)): return "each of " + values.joined(separator: ", ")
        default: return argument.range?.description
        }
    }

    static func typeName(_ type: ArgumentType) -> String {
        switch type {
        case .int: "integer"
        case .double: "number"
        case .bool: "boolean"
        case .string: "text"
        case .path: "path"
        case .choice: "choice"
        case .list(let element): "list of \(typeName(element))"
        case .expression: "expression"
        case .template: "text with {expr}"
        case .assignment: "NAME = EXPR"
        case .commandName: "command"
        case .layers: "layers"
        }
    }

    /// The abstract as a sentence: capitalised, with a final period.
    static func sentence(_ abstract: String) -> String {
        guard let first = abstract.first else { return abstract }
        return first.uppercased() + abstract.dropFirst() + (abstract.hasSuffix(".") ? "" : ".")
    }
}
