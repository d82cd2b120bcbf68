import Foundation

/// `set`, `show settings`, `source`, `history`, `help`, `quit`: the session itself.
extension CommandTable {
    static let sessionCommands: [CommandSpec] = [
        CommandSpec(
            "set", topic: .session,
            arguments: Settings.table.map(\.argument),
            abstract: "change settings",
            discussion: """
            Sets one or more settings, each written KEY=VALUE and validated like any argument; \
            either all of them change or none does. Prints nothing. Engine commands use the \
            settings as defaults: train and step use batch and lr, the term commands use samples, \
            logpx uses k, and every random draw starts from seed. 'show settings' lists them.
            """,
            examples: ["set seed=42", "set lr=1e-4 batch=64", "set json=on"],
            printsResults: false,
            handler: setSettings
        ),

        CommandSpec(
            "show settings", topic: .session,
            abstract: "list the settings with their values",
            discussion: """
            Lists every setting with its value, its allowed values and what it is for. \
            Under --json it prints {"command":"show settings","seed":0,…}.
            """,
            examples: ["show settings"],
            handler: showSettings
        ),

        CommandSpec(
            "source", topic: .session,
            arguments: [.positional("file", .path, required: true, abstract: "the script to run")],
            abstract: "run the commands of a script file",
            discussion: """
            Runs the file through the same input loop as the keyboard, in this session: its \
            variables and settings stay afterwards. A relative path is relative to the directory \
            of the script that says 'source' (or to the working directory interactively). Inside \
            the file the first error stops it unless --keep-going; its errors name the file. \
            'quit' inside it quits vaesh. Scripts may source scripts up to a depth of 16.
            """,
            examples: ["source scripts/tour.vae", "source common.vae"],
            handler: sourceScript
        ),

        CommandSpec(
            "history", topic: .session,
            arguments: [.positional("count", .int, range: .atLeast(1), abstract: "show only the last COUNT commands")],
            abstract: "list the commands entered so far",
            discussion: """
            Lists the commands entered at the top level of this session (not those of sourced \
            files), numbered from 1, continued lines joined; the last 1000 are kept. The shell's line editor keeps its own \
            history across sessions in ~/.vaesh_history. Under --json it prints \
            {"command":"history","lines":[…]}.
            """,
            examples: ["history", "history 10"],
            handler: showHistory
        ),

        CommandSpec(
            "help", aliases: ["?"], topic: .session,
            arguments: [.rest("command", .commandName, abstract: "the command to describe")],
            abstract: "list the commands, or describe one",
            discussion: """
            Without an argument, lists every command by topic with a one-line summary. With a \
            command name, shows its usage, its arguments with their types, defaults and allowed \
            values, what it does, and examples. Under --json it prints {"command":"help","text":…}.
            """,
            examples: ["help", "help assert", "help show settings"],
            handler: showHelp
        ),

        CommandSpec(
            "quit", aliases: ["exit"], topic: .session,
            arguments: [.positional("status", .int, default: 0, range: .between(0, 255), abstract: "the exit status")],
            abstract: "leave vaesh",
            discussion: """
            Ends the session, and vaesh exits with the given status. Inside a sourced file it ends \
            the whole session, not just the file. At the keyboard, Ctrl-D on an empty line does \
            the same with status 0.
            """,
            examples: ["quit", "quit 3", "exit"],
            printsResults: false,
            handler: quitSession
        ),
    ]

    // MARK: - Handlers

    private static func setSettings(_ context: CommandContext) throws(ScriptError) {
        let given = context.arguments.givenNames
        guard !given.isEmpty else {
            throw context.failure("nothing to set", hint: "write 'set KEY=VALUE', e.g. 'set lr=1e-4'; 'show settings' lists the keys")
        }
        var settings = context.session.settings
        for setting in Settings.table where given.contains(setting.name) {
            if let value = try context.arguments.value(setting.name) {
                setting.write(&settings, value)
            }
        }
        context.session.settings = settings
    }

    private static func showSettings(_ context: CommandContext) throws(ScriptError) {
        let settings = context.session.settings
        var report = Report(command: "show settings")
        var table = TextTable()
        table.append(["setting", "value", "allowed", "meaning"])
        for setting in Settings.table {
            let value = setting.read(settings)
            let valueText = value.displayText + (setting.unit.isEmpty ? "" : " " + setting.unit)
            let allowed = setting.argument.range?.description ?? (setting.argument.type == .bool ? "true/false" : setting.argument.type.expectation)
            table.append([setting.name, valueText, allowed, setting.argument.abstract])
            switch value {
            case .int(let number): report.addField(setting.name, .int(number))
            case .double(let number): report.addField(setting.name, .number(number))
            case .bool(let truth): report.addField(setting.name, .bool(truth))
            default: report.addField(setting.name, .string(value.displayText))
            }
        }
        report.addTable(table)
        context.session.emit(report)
    }

    private static func sourceScript(_ context: CommandContext) throws(ScriptError) {
        let session = context.session
        var path = try context.arguments.path("file")
        if !path.hasPrefix("/"), let directory = session.currentDirectory, !directory.isEmpty {
            path = directory + "/" + path
        }
        let nesting = session.sourceStack.count - 1  // the top-level script is not nested
        guard nesting < Session.sourceNestingLimit else {
            let chain = session.sourceStack.map { $0.name ?? "(input)" } + [path]
            throw .sourceNestingTooDeep(chain: chain, limit: Session.sourceNestingLimit, at: context.location)
        }
        let contents = try readScript(path, at: context.arguments.location(of: "file") ?? context.location)
        let outcome = InputLoop.run(StringLineSource(contents), name: path, session: session)
        session.pendingOutcome = outcome
    }

    private static func showHistory(_ context: CommandContext) throws(ScriptError) {
        let history = context.session.commandHistory
        let count = try context.arguments.optionalInt("count") ?? history.count
        let first = max(0, history.count - count)
        let dropped = context.session.commandHistoryDropped
        var table = TextTable(alignments: [.right, .left])
        for (index, line) in history.enumerated().dropFirst(first) {
            table.append([String(dropped + index + 1), line.replacingOccurrences(of: "\n", with: "\n      ")])
        }
        var report = Report(command: "history")
        report.addTable(table)
        report.addField("lines", .array(history.dropFirst(first).map { .string($0) }))
        context.session.emit(report)
    }

    private static func showHelp(_ context: CommandContext) throws(ScriptError) {
        let table = context.session.commands
        let text: String
        if let name = try context.arguments.optionalString("command"), let command = table.command(named: name) {
            text = table.help(for: command)
        } else {
            text = table.helpOverview()
        }
        var report = Report(command: "help")
        report.addText(text)
        report.addField("text", .string(text))
        context.session.emit(report)
    }

    private static func quitSession(_ context: CommandContext) throws(ScriptError) {
        context.session.pendingOutcome = .quit(status: Int32(try context.arguments.int("status")))
    }

    /// The text of a script, or an error that says why not: the same rules as the shell's own
    /// script files (`ScriptText`: no NUL byte, valid UTF-8, a byte-order mark dropped).
    static func readScript(_ path: String, at location: SourceLocation) throws(ScriptError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotReadable(path: path, reason: "no such file", at: location)
        }
        guard !isDirectory.boolValue else {
            throw .fileNotReadable(path: path, reason: "it is a directory", at: location)
        }
        do {
            return try ScriptText.read(path: path)
        } catch {
            throw .fileNotReadable(path: path, reason: error.reason, at: location)
        }
    }
}
