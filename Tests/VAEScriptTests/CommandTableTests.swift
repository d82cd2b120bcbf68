import Foundation
import Testing
@testable import VAEScript

@Suite("Command table")
struct CommandTableTests {
    static let table = CommandTable.standard

    @Test func namesAndAliasesAreUnique() {
        let names = Self.table.allNames
        let duplicates = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(duplicates.isEmpty, "used twice: \(duplicates)")
    }

    @Test func everyCommandIsDocumented() {
        for command in Self.table.commands {
            #expect(!command.abstract.isEmpty, "\(command.name) has no abstract")
            #expect(!command.abstract.hasSuffix("."), "\(command.name): the abstract is a phrase, without a final period")
            #expect(command.discussion.count >= 40, "\(command.name) has no real discussion")
            #expect(!command.examples.isEmpty, "\(command.name) has no example")
            for argument in command.arguments {
                #expect(!argument.abstract.isEmpty, "\(command.name) \(argument.name) has no abstract")
            }
        }
    }

    /// `vaesh --step` reads this field; the list is the rule of `CommandSpec.printsResults` applied.
    @Test func commandsThatPrintNoResults() {
        let silent = Self.table.commands.filter { !$0.printsResults }.map(\.name).sorted()
        #expect(silent == ["assert", "echo", "let", "pause", "quit", "set"])
    }

    @Test func everyExampleIsValid() throws {
        for command in Self.table.commands {
            for example in command.examples {
                let invocations = try Parser.parse(example)
                #expect(invocations.count == 1, "\(example)")
                for invocation in invocations {
                    #expect(throws: Never.self, "example of \(command.name): \(example)") {
                        let bound = try Self.table.bind(invocation)
                        #expect(bound.spec.name == command.name, "\(example) runs \(bound.spec.name)")
                    }
                }
            }
        }
    }

    @Test func argumentsAreWellFormed() {
        for command in Self.table.commands {
            let names = command.arguments.map(\.name)
            #expect(Set(names).count == names.count, "\(command.name) declares an argument twice")
            if command.arguments.contains(where: { $0.kind == .rest }) {
                #expect(command.arguments.count == 1, "\(command.name): a rest argument must be the only one")
            }
            for argument in command.arguments {
                #expect(!(argument.isRequired && argument.defaultValue != nil), "\(command.name) \(argument.name) is required and has a default")
                if let defaultValue = argument.defaultValue {
                    #expect(Self.matches(defaultValue, argument), "\(command.name) \(argument.name): default \(defaultValue.displayText) does not fit")
                }
            }
            #expect(command.name.split(separator: " ").count <= 2, "\(command.name): at most two words")
        }
    }

    @Test func settingsAreSetsOptions() {
        #expect(Self.table.command(named: "set")?.arguments.map(\.name) == Settings.table.map(\.name))
    }

    /// docs/COMMANDS.md is generated from the table. To update it after changing a command:
    /// `VAESH_UPDATE_DOCS=1 scripts/test --filter CommandTableTests`.
    @Test func referenceIsInSyncWithTheTable() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = repository.appendingPathComponent("docs/COMMANDS.md")
        let expected = CommandTable.markdownReference()
        if ProcessInfo.processInfo.environment["VAESH_UPDATE_DOCS"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try expected.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let actual = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if actual != expected {
            let generated = FileManager.default.temporaryDirectory.appendingPathComponent("COMMANDS.md")
            try? expected.write(to: generated, atomically: true, encoding: .utf8)
            Issue.record("""
            docs/COMMANDS.md is out of date with the command table. Regenerate it with
              VAESH_UPDATE_DOCS=1 scripts/test --filter CommandTableTests
            (the expected file was written to \(generated.path))
            """)
        }
    }

    @Test func helpListsEveryCommandUnderItsTopic() {
        let overview = Self.table.helpOverview()
        for command in Self.table.commands {
            #expect(overview.contains("  \(command.name)  "), "\(command.name) missing from help")
        }
        #expect(overview.contains("\nVariables and checks\n"))
        #expect(overview.contains("\nSession\n"))
    }

    @Test func helpForACommand() throws {
        let quit = try #require(Self.table.command(named: "quit"))
        #expect(Self.table.help(for: quit) == """
        usage: quit [STATUS]

        Leave vaesh.

        Arguments:
          STATUS  the exit status (default 0; in [0, 255])

        \(quit.discussion)

        Examples:
          quit
          quit 3
          exit

        Aliases: exit

        """)
    }

    @Test func aLongArgumentFormTakesALineOfItsOwn() throws {
        let rows = [(form: "k=INT", description: "importance samples per example for logpx (default 1000)"),
                    (form: "likelihood=bernoulli|gaussian|gaussian-learned", description: "p(x|z): Bernoulli on logits")]
        // Wide enough: one table, as before.
        #expect(CommandTable.argumentsText(rows, width: 200).hasPrefix("  k=INT                                           importance"))
        // Too narrow: the descriptions start at column 28 and the long form stands alone.
        #expect(CommandTable.argumentsText(rows, width: 60) == """
              k=INT                     importance samples per example
                                        for logpx (default 1000)
              likelihood=bernoulli|gaussian|gaussian-learned
                                        p(x|z): Bernoulli on logits

            """)
        // Only the examples may be wider: a command line is not broken.
        let model = try #require(Self.table.command(named: "model"))
        let help = Self.table.help(for: model, width: 80)
        for line in help.split(separator: "\n") where !line.hasPrefix("  model ") {
            #expect(line.count <= 80, "\(line)")
        }
        #expect(help.contains("\n  likelihood=bernoulli|gaussian|gaussian-learned\n                            p(x|z)"))
    }

    @Test func usageLines() {
        let train = tableWithFakes.command(named: "train")
        #expect(train?.usage == "train [epochs=1] [batch=128] [lr=0.001] [optimizer=adam]")
        #expect(tableWithFakes.command(named: "load idx")?.usage == "load idx images=PATH [labels=PATH]")
        #expect(Self.table.command(named: "assert")?.usage == "assert CONDITION")
        #expect(Self.table.command(named: "echo")?.usage == "echo [TEXT]")
    }

    static func matches(_ value: ArgumentValue, _ argument: ArgumentSpec) -> Bool {
        func inRange(_ number: Double) -> Bool { argument.range?.contains(number) ?? true }
        switch (argument.type, value) {
        case (.int, .int(let number)): return inRange(Double(number))
        case (.double, .double(let number)): return inRange(number)
        case (.double, .int(let number)): return inRange(Double(number))
        case (.bool, .bool): return true
        case (.string, .string), (.path, .string): return true
        case (.choice(let choices), .string(let choice)): return choices.contains(choice)
        case (.list(.int), .intList(let numbers)): return numbers.allSatisfy { inRange(Double($0)) }
        case (.list(.double), .doubleList(let numbers)): return numbers.allSatisfy(inRange)
        default: return false
        }
    }
}
