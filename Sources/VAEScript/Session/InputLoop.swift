/// How a run of the input loop ended. The shell turns it into the exit status:
/// 0, or 1 if `failures > 0`; `status` for `quit`; 130 for `aborted`.
public enum RunOutcome: Equatable, Sendable {
    /// The input ended. `failures` counts the commands (or lines) that failed.
    case finished(failures: Int)
    /// `quit N` or `exit`.
    case quit(status: Int32)
    /// Ctrl-C in a script.
    case aborted
}

/// Stage 4, and the one loop for every kind of input: the keyboard, script files, `-c` strings,
/// pipes, `source FILE` and tests (the sqlite shell's `process_input`).
///
/// For each line it:
/// 1. appends the line to the pending text and lexes it; an open quote or a trailing `\` throws
///    `incomplete`, so it reads another line with the continuation prompt;
/// 2. records the text in the history (top level only);
/// 3. validates every command of the text against the table, so a line with a bad command runs
///    none of its commands;
/// 4. runs them in order (printing each first with `--echo`). A failed command skips the rest
///    of its line.
///
/// Errors are printed through `Diagnostics`. A script (a non-interactive source) stops at its
/// first error unless `keepGoing`; the keyboard never stops. Ctrl-C (`Interrupt`) is checked
/// between commands (`session.interrupt`): interactively it just returns to the prompt; in a script it ends the run
/// with `.aborted`.
public struct InputLoop {
    /// Runs lines from `source` until its end or `quit`. `name` is the script name for diagnostics
    /// (`tour.vae`, a path for a file so that `source` finds files next to it), or nil interactively.
    public static func run(_ source: LineSource, name: String?, session: Session) -> RunOutcome {
        var loop = InputLoop(source: source, name: name, session: session)
        session.sourceStack.append(SourceFrame(name: name))
        defer { session.sourceStack.removeLast() }
        return loop.run()
    }

    private let source: LineSource
    private let name: String?
    private let session: Session
    private var failures = 0
    /// The lines of the command being read (more than one while a quote or `\` is open).
    private var pendingLines: [String] = []
    private var lineNumber = 0

    private var stopsAtFirstError: Bool { !source.isInteractive && !session.options.keepGoing }

    private init(source: LineSource, name: String?, session: Session) {
        self.source = source
        self.name = name
        self.session = session
    }

    /// What to do after a step.
    private enum Next {
        case proceed
        case finish(RunOutcome)
    }

    private mutating func run() -> RunOutcome {
        while true {
            if let outcome = checkInterrupt() { return outcome }
            let prompt = pendingLines.isEmpty ? session.prompt : session.continuationPrompt
            switch source.nextLine(prompt: prompt) {
            case .end:
                if !pendingLines.isEmpty {
                    // The input ended inside a quote or after a `\`: now it is an error.
                    let text = pendingLines.joined(separator: "\n")
                    do {
                        _ = try Lexer.tokenize(text, firstLine: firstPendingLine)
                    } catch {
                        report(error, lines: pendingLines, firstLine: firstPendingLine)
                        failures += 1
                    }
                }
                return .finished(failures: failures)
            case .interrupted:
                pendingLines.removeAll()
                session.interrupt.clear()
                if !source.isInteractive { return .aborted }
            case .line(let line):
                lineNumber += 1
                pendingLines.append(line)
                if case .finish(let outcome) = process() { return outcome }
            }
        }
    }

    private var firstPendingLine: Int { lineNumber - pendingLines.count + 1 }

    /// Lexes, validates and runs the pending text, unless it is incomplete.
    private mutating func process() -> Next {
        let text = pendingLines.joined(separator: "\n")
        // Inside an open quote, each line read would lex the whole pending text again: the scan
        // that builds no tokens says first whether this line closed it.
        if pendingLines.count > 1 && Lexer.isIncomplete(text) { return .proceed }
        let lines = pendingLines
        let firstLine = firstPendingLine
        let invocations: [Invocation]
        do {
            invocations = try Parser.parse(text, firstLine: firstLine)
        } catch {
            if case .incomplete = error { return .proceed }
            pendingLines.removeAll()
            recordHistory(text)
            return fail(error, lines: lines, firstLine: firstLine)
        }
        pendingLines.removeAll()
        guard !invocations.isEmpty else { return .proceed }  // blank or comment
        recordHistory(text)

        var commands: [BoundCommand] = []
        for invocation in invocations {
            do {
                commands.append(try session.commands.bind(invocation))
            } catch {
                let showsSource = Diagnostics.caretHelps(error, commandAt: invocation.location, commandsOnLine: invocations.count)
                return fail(error, lines: lines, firstLine: firstLine, showsSource: showsSource)
            }
        }

        for command in commands {
            if session.interrupt.isRequested { break }  // the loop's next check decides what that means
            if session.settings.echo {
                let echoed = "> " + command.invocation.sourceText + "\n"
                // Under --json, stdout carries only JSON objects.
                session.settings.json ? session.output.writeError(echoed) : session.output.write(echoed)
            }
            do {
                try command.spec.handler(CommandContext(session: session, arguments: command.arguments,
                                                        spec: command.spec, invocation: command.invocation))
            } catch {
                // A command that failed as a whole points at its own name; the caret under it says
                // something only when the line holds other commands too.
                let showsSource = Diagnostics.caretHelps(error, commandAt: command.invocation.location, commandsOnLine: commands.count)
                if !source.isInteractive && session.interrupt.isRequested {
                    report(error, lines: lines, firstLine: firstLine, showsSource: showsSource)
                    session.interrupt.clear()
                    return .finish(.aborted)
                }
                return fail(error, lines: lines, firstLine: firstLine, showsSource: showsSource)
            }
            if let outcome = session.pendingOutcome {
                session.pendingOutcome = nil
                switch outcome {
                case .quit:
                    return .finish(outcome)
                case .aborted:
                    if !source.isInteractive { return .finish(.aborted) }
                    session.interrupt.clear()
                    report(.interrupted(at: command.invocation.location), lines: lines, firstLine: firstLine, showsSource: commands.count > 1)
                    return .proceed
                case .finished(let nestedFailures):
                    // A sourced file reported its own errors; they count here too.
                    failures += nestedFailures
                    if nestedFailures > 0 { return stopsAtFirstError ? .finish(.finished(failures: failures)) : .proceed }
                }
            }
        }
        return .proceed
    }

    /// Reports an error, counts it, and stops a script unless it keeps going.
    private mutating func fail(_ error: ScriptError, lines: [String], firstLine: Int, showsSource: Bool = true) -> Next {
        report(error, lines: lines, firstLine: firstLine, showsSource: showsSource)
        failures += 1
        return stopsAtFirstError ? .finish(.finished(failures: failures)) : .proceed
    }

    /// Prints the error; with `showsSource`, under it the line and a caret at the column.
    private func report(_ error: ScriptError, lines: [String], firstLine: Int, showsSource: Bool = true) {
        let index = error.location.line - firstLine
        let sourceLine = showsSource && lines.indices.contains(index) ? lines[index] : nil
        session.emit(error, sourceName: name, sourceLine: sourceLine)
    }

    /// Ctrl-C between commands: back to the prompt interactively, the end of a script otherwise.
    private mutating func checkInterrupt() -> RunOutcome? {
        guard session.interrupt.isRequested else { return nil }
        session.interrupt.clear()
        pendingLines.removeAll()
        return source.isInteractive ? nil : .aborted
    }

    /// Only the top level is history: a sourced file's lines are not things the user typed.
    private func recordHistory(_ text: String) {
        if session.sourceStack.count == 1 { session.recordHistory(text) }
    }
}
