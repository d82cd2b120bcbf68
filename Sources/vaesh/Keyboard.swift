@preconcurrency import Glibc
import VAEScript

/// The terminal on standard input: the one place that waits for the user's keys.
///
/// libedit's key reader (`EditLineSource`) and the `pause` and `--step` prompts (`KeyboardPause`)
/// read through it. Every wait watches the Ctrl-C wake-up pipe (`SignalHandling`) beside the
/// keyboard, so Ctrl-C ends it at once, whatever mode the terminal is in. Made only when standard
/// input is a terminal.
final class Keyboard {
    /// What one key press at a `pause` or `--step` prompt was.
    enum KeyPress: Equatable {
        /// Enter (a carriage return or a newline).
        case enter
        /// One of the keys the prompt asked for (`readKey`'s `answers`).
        case character(Unicode.Scalar)
        /// Ctrl-D, or the terminal went away.
        case endOfInput
        /// Ctrl-C.
        case interrupted
    }

    /// The terminal opened a second time, non-blocking; stdin if that failed.
    ///
    /// A blocking `read()` could hang: Ctrl-C flushes the terminal's input, so a key that `poll()`
    /// reported can be gone by the time `read()` runs, and then `read()` waits for the next key
    /// (or, in line mode, the next line) with the Ctrl-C already handled. A separate open file,
    /// rather than `O_NONBLOCK` on stdin, leaves the flags of the file the parent shell shares
    /// untouched.
    private let descriptor: Int32
    /// The Ctrl-C flag a command sets; a Ctrl-C seen there as a wait begins was meant for the wait.
    private let interrupt: InterruptFlag
    /// Bytes typed ahead that another reader took from the terminal (`unread`), read first.
    private var pending: ArraySlice<UInt8> = []

    init(interrupt: InterruptFlag) {
        self.interrupt = interrupt
        let name = ttyname(STDIN_FILENO)
        let reopened = name.map { open($0, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) } ?? -1
        descriptor = reopened >= 0 ? reopened : STDIN_FILENO
    }

    deinit {
        if descriptor != STDIN_FILENO { close(descriptor) }
    }

    // MARK: - Waiting for the user

    /// Runs `read` as a wait for the user: a Ctrl-C meanwhile wakes the read (through the pipe)
    /// instead of asking a command to stop.
    ///
    /// Returns nil, without reading, when Ctrl-C came just before: as the last command ended,
    /// after the input loop's own check, so it was meant for what is on screen now. Otherwise
    /// `read`'s result, and whether a Ctrl-C ended the read or raced with its last key.
    func attending<Result>(_ read: () -> Result) -> (result: Result, interrupted: Bool)? {
        // Into the prompt phase before the prompt shows, so that a Ctrl-C pressed as soon as it
        // shows wakes the read.
        SignalHandling.enter(.prompt)
        defer { SignalHandling.enter(.running) }
        if interrupt.isRequested { return nil }
        let result = read()
        return (result, SignalHandling.takePromptInterrupt())
    }

    // MARK: - Characters, for the line editor

    /// The next character typed, decoded from UTF-8 (U+FFFD for bytes that are not UTF-8); nil at
    /// end of input, on an error, or when Ctrl-C woke the wait. libedit sets the terminal's mode.
    func readCharacter() -> Unicode.Scalar? {
        guard case .byte(let lead) = nextByte() else { return nil }
        return character(startingWith: lead)
    }

    /// The character whose first UTF-8 byte is `lead`, reading the bytes that follow it.
    private func character(startingWith lead: UInt8) -> Unicode.Scalar? {
        let length: Int
        switch lead {
        case 0x00..<0x80: return Unicode.Scalar(lead)
        case 0xC2..<0xE0: length = 2
        case 0xE0..<0xF0: length = 3
        case 0xF0..<0xF5: length = 4
        default: return Self.replacementCharacter
        }
        var bytes = [lead]
        for _ in 1..<length {
            guard case .byte(let next) = nextByte() else { return nil }
            bytes.append(next)
        }
        return String(validating: bytes, as: UTF8.self)?.unicodeScalars.first ?? Self.replacementCharacter
    }

    private static let replacementCharacter: Unicode.Scalar = "\u{FFFD}"

    // MARK: - One key, for pause and --step

    /// Shows `prompt` on stderr and waits for one key press, the terminal out of line mode so that
    /// no Enter is needed; the terminal's mode is back as it was when this returns.
    ///
    /// Enter, Ctrl-D and Ctrl-C always answer; of the other keys only `answers` do, and the rest
    /// are ignored, so that a stray key (or an arrow's escape sequence) answers nothing. Keys typed
    /// before the prompt showed are discarded: they were pressed while a command ran, not in reply
    /// to this prompt. Ctrl-C and Ctrl-Z keep their meanings (`SingleKeyMode`). A terminal whose
    /// mode cannot be changed is read a line at a time (`readLineAsKey`).
    func readKey(prompt: String, answers: Set<Unicode.Scalar>) -> KeyPress {
        guard let mode = SingleKeyMode(descriptor) else {
            show(prompt)
            return readLineAsKey(answers: answers)
        }
        defer { mode.restore() }
        show(prompt)
        while true {
            switch nextByte() {
            case .interrupted: return .interrupted
            case .end, .byte(Self.controlD): return .endOfInput
            case .byte(UInt8(ascii: "\n")), .byte(UInt8(ascii: "\r")): return .enter
            case .byte(Self.escape):
                // The rest of an escape sequence arrives with its ESC: drop it, so that its letters
                // (the C of an arrow's ESC [ C) are not taken for keys.
                discardWaitingBytes()
            case .byte(let lead):
                // nil: the input ended, or Ctrl-C came, inside a character (the caller sees which).
                guard let key = character(startingWith: lead) else { return .endOfInput }
                if answers.contains(key) { return .character(key) }
            }
        }
    }

    /// Ctrl-D and ESC: out of line mode they arrive as bytes.
    private static let controlD: UInt8 = 0x04
    private static let escape: UInt8 = 0x1B

    private func show(_ prompt: String) {
        fputs(prompt, stderr)
        fflush(stderr)
    }

    /// `readKey` in line mode: a line whose first character (after blanks) is one of `answers`
    /// gives that key; any other line counts as Enter, since the user has pressed it.
    private func readLineAsKey(answers: Set<Unicode.Scalar>) -> KeyPress {
        var first: Unicode.Scalar?
        while true {
            switch nextByte() {
            case .interrupted: return .interrupted
            case .end where first == nil: return .endOfInput
            case .end, .byte(UInt8(ascii: "\n")):
                guard let first, answers.contains(first) else { return .enter }
                return .character(first)
            case .byte(UInt8(ascii: " ")), .byte(UInt8(ascii: "\t")), .byte(UInt8(ascii: "\r")):
                continue
            case .byte(let lead):
                guard let character = character(startingWith: lead) else { return .endOfInput }
                if first == nil { first = character }
            }
        }
    }

    /// Reads and drops what has already arrived, without waiting.
    private func discardWaitingBytes() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(descriptor, &bytes, bytes.count) > 0 {}
    }

    // MARK: - Bytes

    /// Gives back `bytes` typed ahead that were read from the terminal by someone else (the image
    /// protocol question): the next reads return them first, in order.
    func unread(_ bytes: [UInt8]) {
        pending += bytes
    }

    /// What a wait for one byte ended with.
    private enum Input {
        case byte(UInt8)
        /// End of input, or an error reading.
        case end
        /// Ctrl-C woke the wait.
        case interrupted
    }

    /// One byte typed, waiting on the keyboard and on the Ctrl-C wake-up pipe together.
    ///
    /// Left to itself, libedit misses a Ctrl-C that lands outside its `read()` (its handler then
    /// leaves the terminal in line mode and the next `read()` waits for a whole line), and in line
    /// mode Ctrl-C is only ever a signal. The pipe ends the wait in every case.
    private func nextByte() -> Input {
        if let byte = pending.popFirst() { return .byte(byte) }
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: SignalHandling.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            if poll(&descriptors, nfds_t(descriptors.count), -1) < 0 {
                if errno == EINTR { continue }
                return .end
            }
            if descriptors[1].revents != 0 {
                SignalHandling.drainWakeUps()
                return .interrupted
            }
            guard descriptors[0].revents != 0 else { continue }
            var byte: UInt8 = 0
            let count = read(descriptor, &byte, 1)
            if count == 1 { return .byte(byte) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return .end
        }
    }
}
