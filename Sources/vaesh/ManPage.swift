import Foundation
import VAEScript

/// `vaesh.1`, the manual page `scripts/install` puts under `share/man/man1`, written from what the
/// program already declares: the flags from ArgumentParser's description of `VaeshCommand` (its
/// `--experimental-dump-help` JSON), the commands from the command table. Nothing is said twice,
/// so the page cannot drift from `--help` or `help`.
enum ManPage {
    /// The page in roff (the `man` macros).
    static func render() -> String {
        let configuration = VaeshCommand.configuration
        var page = """
            .TH VAESH 1 "" "vaesh \(vaeshVersion)" "User Commands"
            .SH NAME
            vaesh \\- \(escaped(sentence(configuration.abstract)))
            .SH SYNOPSIS
            .B vaesh
            [\\fIoptions\\fR] [\\fIfile\\fR ...] [\\fB\\-\\fR]

            """
        page += ".SH DESCRIPTION\n" + paragraphs(configuration.discussion)
        page += ".SH OPTIONS\n"
        for flag in flags() {
            page += ".TP\n\(flag.names)\n\(escaped(flag.help))\n"
        }
        page += ".SH COMMANDS\n"
        page += paragraphs("Inside vaesh, 'help' lists the commands below and 'help COMMAND' describes one; "
                           + "docs/COMMANDS.md in the source is the full reference.")
        let table = CommandTable.standard
        for topic in CommandTopic.allCases {
            let commands = table.commands.filter { $0.topic == topic }
            guard !commands.isEmpty else { continue }
            page += ".SS \(escaped(topic.rawValue))\n"
            for command in commands {
                page += ".TP\n.B \(escaped(command.usage))\n\(escaped(sentence(command.abstract)))\n"
            }
        }
        page += """
            .SH ENVIRONMENT
            .TP
            .B VAESH_DATA
            The folder 'load mnist' reads full MNIST from (default: $XDG_DATA_HOME/vaesh/mnist, else ~/.local/share/vaesh/mnist).
            .TP
            .B VAESH_HISTORY
            The line editor's history file (default ~/.vaesh_history); empty turns history off.
            .TP
            .B NO_COLOR
            When set and not empty, no colours: pictures are drawn in ASCII shades.
            .TP
            .B TERM
            dumb (or unset) means no escape sequences at all: no colour, ASCII pictures, a progress line redrawn with carriage returns.
            .TP
            .B COLUMNS
            The width when the terminal does not say; output that is not a terminal is laid out for 80 columns (see \\-\\-width).
            .SH FILES
            .TP
            .I ~/.vaeshrc
            Commands run before anything else, unless \\-\\-no\\-rc.
            .TP
            .I ~/.vaesh_history
            The commands typed at the prompt.
            .SH EXIT STATUS
            0 on success, 1 if a command failed, 2 for a usage error, N for 'quit N', 130 when interrupted.

            """
        return page
    }

    /// One flag: its names as roff (`\fB\-c\fR, \fB\-\-command\fR \fIcommands\fR`) and its help.
    struct Flag {
        var names: String
        var help: String
    }

    /// The displayed options of `VaeshCommand`, from ArgumentParser's own description of them.
    static func flags() -> [Flag] {
        guard let data = VaeshCommand._dumpHelp().data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let command = root["command"] as? [String: Any],
              let arguments = command["arguments"] as? [[String: Any]] else { return [] }
        return arguments.compactMap { argument -> Flag? in
            guard argument["shouldDisplay"] as? Bool ?? true, argument["kind"] as? String != "positional",
                  let names = argument["names"] as? [[String: Any]] else { return nil }
            let spelled = names.compactMap { name -> String? in
                guard let text = name["name"] as? String else { return nil }
                return "\\fB" + escaped((name["kind"] as? String == "short" ? "-" : "--") + text) + "\\fR"
            }
            let value = (argument["kind"] as? String == "option") ? (argument["valueName"] as? String).map { " \\fI\(escaped($0))\\fR" } ?? "" : ""
            let help = [argument["abstract"] as? String, argument["discussion"] as? String].compactMap { $0 }.joined(separator: " ")
            return Flag(names: spelled.joined(separator: ", ") + value, help: help)
        }
    }

    /// Paragraphs (blank-line separated) as `.PP` blocks.
    private static func paragraphs(_ text: String) -> String {
        text.components(separatedBy: "\n\n").map { ".PP\n" + escaped($0.replacingOccurrences(of: "\n", with: " ")) + "\n" }.joined()
    }

    private static func sentence(_ text: String) -> String {
        text.hasSuffix(".") ? text : text + "."
    }

    /// Text safe in roff: backslashes and hyphens escaped, and no line starting with a control
    /// character ('.' or ''').
    static func escaped(_ text: String) -> String {
        var result = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        if result.hasPrefix(".") || result.hasPrefix("'") { result = "\\&" + result }
        return result
    }
}
