/// Every command, in one table.
///
/// Each help topic declares its commands in an extension, in its own file
/// (`Commands+Session.swift`: `extension CommandTable { static let sessionCommands: [CommandSpec] }`:
/// the spec list first, the named handlers below it), and `all` concatenates them. Adding a topic
/// is one case of `CommandTopic`, one new file and one term in `all`.
public struct CommandTable: Sendable {
    /// The order of `all` is the order of `help` within each topic.
    public static let all: [CommandSpec] = dataCommands + modelCommands + termCommands + teachingCommands
        + trainingCommands + pictureCommands + variableCommands + sessionCommands

    /// The table the shell uses.
    public static let standard = CommandTable(all)

    public let commands: [CommandSpec]
    /// Name or alias → command. First one wins on a clash; a test forbids clashes.
    private let lookup: [String: CommandSpec]

    public init(_ commands: [CommandSpec]) {
        self.commands = commands
        var lookup: [String: CommandSpec] = [:]
        for command in commands {
            for name in [command.name] + command.aliases where lookup[name] == nil {
                lookup[name] = command
            }
        }
        self.lookup = lookup
    }

    /// The command with this name or alias (`"show settings"` for two-word commands).
    public func command(named name: String) -> CommandSpec? { lookup[name] }

    /// Every name and alias, in table order.
    public var allNames: [String] { commands.flatMap { [$0.name] + $0.aliases } }

    /// The second words of a family: `subcommands(of: "show")` is `["settings"]`.
    public func subcommands(of family: String) -> [String] {
        allNames.compactMap { name in
            let parts = name.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0] == family ? String(parts[1]) : nil
        }
    }

    /// The markdown reference of the standard table (`docs/COMMANDS.md`).
    public static func markdownReference() -> String { standard.markdownReference() }
}
