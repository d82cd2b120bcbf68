@preconcurrency import Glibc
import VAEScript

/// Waiting for the user at the terminal: the `PauseHost` behind `pause` and `--step`.
///
/// Installed only when standard input is a terminal. It prints its prompt on stderr (stdout stays
/// the results, pure JSON under --json) and acts on one key press: Enter goes on, `c` goes on
/// without stopping again, `q` (or Ctrl-D) stops, Ctrl-C interrupts; other keys are ignored, so
/// a stray key does not skip a stop. The answer is echoed after the prompt, for the record.
final class KeyboardPause: PauseHost {
    /// True once the user answered `c`: later waits return at once.
    private(set) var runsToEnd = false
    private let keyboard: Keyboard

    init(keyboard: Keyboard) {
        self.keyboard = keyboard
    }

    func waitForUser(prompt: String) -> PauseAnswer {
        if runsToEnd { return .proceed }
        let read = keyboard.attending { keyboard.readKey(prompt: prompt, answers: ["c", "C", "q", "Q"]) }
        guard let (key, interrupted) = read else { return .interrupted }
        // What was pressed goes after the prompt: the terminal's echo is off while it waits.
        if interrupted {
            fputs("^C\n", stderr)
            return .interrupted
        }
        switch key {
        case .enter:
            fputs("\n", stderr)
            return .proceed
        case .character("c"), .character("C"):
            fputs("c\n", stderr)
            runsToEnd = true
            return .runToEnd
        case .character:
            fputs("q\n", stderr)
            return .stop
        case .endOfInput, .interrupted:
            // A Ctrl-C always sets `interrupted` too: this is Ctrl-D, or the terminal went away.
            fputs("\n", stderr)
            return .stop
        }
    }
}

/// `vaesh --step FILE`: hands the input loop one command at a time, showing each command that
/// prints results first and waiting for a key (a teacher walking a class through a saved script).
///
/// A wrapper around the script's own source, so the input loop is the same as for any script.
/// It reads ahead to the end of a command (a quote or `\` can continue it over lines), shows
/// the command on stderr and waits; then it hands over the command's lines. Blank lines,
/// comments and commands whose spec says they print no results (`CommandSpec.printsResults`:
/// `let`, `set`, `echo`, `pause`, `assert`, …) go through without a stop.
final class SteppingLineSource: LineSource {
    private let inner: LineSource
    private let session: Session
    private let keyboard: KeyboardPause
    /// The lines of the command the user agreed to, handed out one per call.
    private var queued: [LineInput] = []
    /// True once the user answered `q`: the rest of the script (and the scripts after it) do not run.
    private(set) var stopped = false

    init(_ inner: LineSource, session: Session, keyboard: KeyboardPause) {
        self.inner = inner
        self.session = session
        self.keyboard = keyboard
    }

    var isInteractive: Bool { inner.isInteractive }

    func nextLine(prompt: String) -> LineInput {
        if !queued.isEmpty { return queued.removeFirst() }
        if stopped { return .end }

        var lines: [String] = []
        var ending: LineInput?
        while true {
            let input = inner.nextLine(prompt: lines.isEmpty ? prompt : session.continuationPrompt)
            guard case .line(let line) = input else {
                ending = input
                break
            }
            lines.append(line)
            if !session.isIncomplete(lines.joined(separator: "\n")) { break }
        }
        if lines.isEmpty { return ending ?? .end }
        queued = lines.map { .line($0) } + (ending.map { [$0] } ?? [])

        let text = lines.joined(separator: "\n")
        guard needsStop(text) else { return queued.removeFirst() }
        fputs("\u{25B8} " + text.replacingNewlines() + "\n", stderr)
        switch keyboard.waitForUser(prompt: "[Enter: run · c: run the rest · q: stop] ") {
        case .proceed, .runToEnd:
            return queued.removeFirst()
        case .stop:
            stopped = true
            queued.removeAll()
            return .end
        case .interrupted:
            queued.removeAll()
            return .interrupted
        }
    }

    /// False for what runs without a stop: blank lines, comments and commands that print no
    /// results, or everything once the user answered `c`.
    private func needsStop(_ text: String) -> Bool {
        if keyboard.runsToEnd { return false }
        // What does not parse or bind stops, and the input loop then reports the error.
        guard let invocations = try? Parser.parse(text) else { return true }
        return invocations.contains { invocation in
            (try? session.commands.bind(invocation))?.spec.printsResults ?? true
        }
    }
}

extension String {
    /// Continued lines shown on one line, joined by ⏎.
    fileprivate func replacingNewlines() -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ⏎ ")
    }
}
