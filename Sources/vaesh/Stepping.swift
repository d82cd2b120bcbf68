@preconcurrency import Glibc
import VAEScript

/// Waiting for the user at the terminal: the `PauseHost` behind `pause` and `--step`.
///
/// Installed only when standard input is a terminal. It prints its prompt on stderr (stdout stays
/// the results, pure JSON under --json) and reads one line from the terminal: Enter goes on, `c`
/// goes on without stopping again, `q` (or Ctrl-D) stops, Ctrl-C interrupts. Ctrl-C is seen
/// through the same self-pipe as at the prompt, so it ends the wait at once.
final class KeyboardPause: PauseHost {
    /// True once the user answered `c`: later waits return at once.
    private(set) var runsToEnd = false
    /// The terminal opened a second time, non-blocking (see `EditLineSource`): a blocking read
    /// could outlive a Ctrl-C that flushed the line it was woken for.
    private var keyboard: Int32 = -1

    init() {
        if let name = ttyname(STDIN_FILENO) {
            keyboard = open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        }
    }

    deinit {
        if keyboard >= 0 { close(keyboard) }
    }

    func waitForUser(prompt: String) -> PauseAnswer {
        if runsToEnd { return .proceed }
        // Into the prompt phase before the prompt shows, so a Ctrl-C pressed as soon as it shows
        // wakes the read; one pressed before (while the command ran) counts too.
        SignalHandling.enter(.prompt)
        if Interrupt.isRequested {
            SignalHandling.enter(.running)
            return .interrupted
        }
        fputs(prompt, stderr)
        fflush(stderr)
        let line = readLine()
        let interrupted = SignalHandling.takePromptInterrupt()
        SignalHandling.enter(.running)
        if interrupted {
            fputs("^C\n", stderr)
            return .interrupted
        }
        guard let line else {
            fputs("\n", stderr)
            return .stop
        }
        switch line.filter({ $0 != " " && $0 != "\t" && $0 != "\r" }).lowercased() {
        case "c", "continue":
            runsToEnd = true
            return .runToEnd
        case "q", "quit":
            return .stop
        default:
            return .proceed
        }
    }

    /// One line typed (without its newline); nil at end of input or when Ctrl-C woke us.
    private func readLine() -> String? {
        let descriptor = keyboard >= 0 ? keyboard : STDIN_FILENO
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: SignalHandling.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        var bytes: [UInt8] = []
        while true {
            if poll(&descriptors, nfds_t(descriptors.count), -1) < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if descriptors[1].revents != 0 {
                SignalHandling.drainWakeUps()
                return nil
            }
            guard descriptors[0].revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 256)
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            for byte in chunk[0..<count] {
                if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
    }
}

/// `vaesh --step FILE`: hands the input loop one command at a time, showing each first and
/// waiting for Enter (a teacher walking a class through a saved script).
///
/// A wrapper around the script's own source, so the input loop is the same as for any script.
/// It reads ahead to the end of a command (a quote or `\` can continue it over lines), shows
/// the command on stderr and waits; then it hands over the command's lines. Blank lines,
/// comments, `echo` (narration, which prints itself) and `pause` (which waits itself) go through
/// without a stop.
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

    /// False for what runs without a stop: blank lines and comments, `echo` and `pause` only,
    /// or everything once the user answered `c`.
    private func needsStop(_ text: String) -> Bool {
        if keyboard.runsToEnd { return false }
        guard let invocations = try? Parser.parse(text) else { return true }  // the loop reports the error
        return invocations.contains { invocation in
            let name = invocation.words.first?.rawText ?? ""
            return name != "echo" && name != "pause"
        }
    }
}

extension String {
    /// Continued lines shown on one line, joined by ⏎.
    fileprivate func replacingNewlines() -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ⏎ ")
    }
}
