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
        + latentCommands

    /// The table the shell uses.
    public static let standard = CommandTable(all)

    public let commands: [CommandSpec]
    /// Name or alias → command. First one wins on a clash; a test forbids clashes.
    private let lookup: [String: CommandSpec]

    // The lists below are derived once here: every unknown word of a script asks for them, and
    // rebuilding them each time was most of the cost of an error (a fuzzer's typical input).

    /// Every name and alias, in table order.
    public let allNames: [String]
    /// Family → its second words in table order (`"show"` → `["settings"]`).
    private let families: [String: [String]]
    /// What an unknown command is compared with for "did you mean": the one-word names in table
    /// order, then the first word of every name, sorted.
    let commandWords: [String]

    public init(_ commands: [CommandSpec]) {
        self.commands = commands
        var lookup: [String: CommandSpec] = [:]
        for command in commands {
            for name in [command.name] + command.aliases where lookup[name] == nil {
                lookup[name] = command
            }
        }
        self.lookup = lookup
        allNames = commands.flatMap { [$0.name] + $0.aliases }
        var families: [String: [String]] = [:]
        for name in allNames {
            let parts = name.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { families[String(parts[0]), default: []].append(String(parts[1])) }
        }
        self.families = families
        commandWords = allNames.filter { !$0.contains(" ") }
            + Set(allNames.compactMap { $0.split(separator: " ").first.map(String.init) }).sorted()
    }

    /// The command with this name or alias (`"show settings"` for two-word commands).
    public func command(named name: String) -> CommandSpec? { lookup[name] }

    /// The second words of a family: `subcommands(of: "show")` is `["settings"]`.
    public func subcommands(of family: String) -> [String] { families[family] ?? [] }

    /// The markdown reference of the standard table (`docs/COMMANDS.md`).
    public static func markdownReference() -> String { standard.markdownReference() }
}
