@preconcurrency import CEditLine
@preconcurrency import Glibc
import VAEScript

/// The keyboard, through libedit's readline interface: line editing, history and completion.
///
/// This is the only file that imports `CEditLine` (the sqlite shell's "single block" for
/// readline/editline). Everything it knows about the language it asks the `Session`:
/// the prompt arrives from the input loop, completions come from `Session.completions`.
///
/// - libedit asks the `Keyboard` for each key (`readKey`). Ctrl-C at the
///   prompt wakes that wait, and libedit's `readline()` returns NULL as it does for Ctrl-D; the
///   keyboard tells them apart: Ctrl-C gives `.interrupted`, Ctrl-D `.end`.
/// - History: each line is added to libedit's list and appended to the history file as soon as it
///   is entered, before its command runs, so nothing typed is lost to a crash or a hang-up.
///   Continued lines are stored one physical line each, like the sqlite shell does.
final class EditLineSource: LineSource {
    let isInteractive = true

    private let keyboard: Keyboard
    private let history: HistoryFile?
    private var lastEntry: String?
    private var reportedHistoryError = false

    init(session: Session, keyboard: Keyboard, history: HistoryFile?) {
        self.keyboard = keyboard
        self.history = history
        EditLineSource.completingSession = session
        EditLineSource.keyboard = keyboard
        Self.configureLibedit()
        if let history {
            for entry in history.load() where entry != lastEntry {
                add_history(entry)
                lastEntry = entry
            }
        }
    }

    func nextLine(prompt: String) -> LineInput {
        fflush(stdout)
        guard let (raw, interrupted) = keyboard.attending({ readline(prompt) }) else {
            // Ctrl-C came as the last command ended: it was meant for the prompt, which it clears
            // before it shows. (The terminal has already echoed ^C.)
            fputs("\n", stdout)
            fflush(stdout)
            return .interrupted
        }
        guard let raw else {
            // Finish the line libedit left the cursor on, so the next prompt (or the user's own
            // shell after Ctrl-D) starts on a fresh line.
            fputs(interrupted ? "^C\n" : "\n", stdout)
            fflush(stdout)
            return interrupted ? .interrupted : .end
        }
        defer { free(raw) }
        // libedit hands back the bytes typed; in a UTF-8 locale they are UTF-8, and anything else
        // is repaired rather than refused: the user can see and retype it.
        let line = String(cString: raw)
        if interrupted {
            // Ctrl-C raced with Enter: the user asked for the line to go away.
            return .interrupted
        }
        remember(line)
        return .line(line)
    }

    private func remember(_ line: String) {
        guard line.contains(where: { !$0.isWhitespace }), line != lastEntry else { return }
        lastEntry = line
        add_history(line)
        guard let history, let reason = history.append(line) else { return }
        if !reportedHistoryError {
            reportedHistoryError = true
            fputs("vaesh: cannot save history to '\(history.path)': \(reason)\n", stderr)
        }
    }

    // MARK: - libedit set-up

    /// The session completion asks, and the keyboard `readKey` reads: C callbacks cannot capture
    /// them. Set once, on the main thread, before the first `readline()`.
    nonisolated(unsafe) fileprivate static var completingSession: Session?
    nonisolated(unsafe) fileprivate static var keyboard: Keyboard?

    /// Word boundaries for completion, the session's own (`Session.completionWordStart`):
    /// whitespace and `;`. Not `=`: the session completes `split=te` as one word. Allocated once
    /// because libedit keeps the pointer.
    nonisolated(unsafe) private static let wordBreaks = strdup(" \t\n;")

    private static func configureLibedit() {
        // libedit reads multibyte characters only in a UTF-8 locale; without one, typing `é` shows
        // octal escapes. Use the user's locale, or C.UTF-8 when it is the plain C locale.
        let locale = setlocale(LC_CTYPE, "").map { String(cString: $0) } ?? "C"
        if locale == "C" || locale == "POSIX" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        rl_readline_name = UnsafePointer(strdup("vaesh"))
        rl_attempted_completion_function = completeWord
        rl_basic_word_break_characters = UnsafePointer(wordBreaks)
        rl_completer_word_break_characters = wordBreaks
        rl_getc_function = readKey
        // libedit's signal handling stays on: it puts the terminal back on Ctrl-Z, `fg`, a kill
        // or a hang-up, and follows resizes. For SIGINT it restores the terminal and passes the
        // signal on to our handler, whose wake-up then ends `readKey`.
        rl_catch_signals = 1
        rl_initialize()
        // After rl_initialize, not before: libedit's history calls initialise it themselves when it
        // has not been, and a second rl_initialize ends the first editor with a TCSAFLUSH, which
        // threw away the lines typed ahead while vaesh started.
        stifle_history(Int32(HistoryFile.capacity))
    }
}

// MARK: - Keys

/// libedit's input function: the next key typed, as a Unicode scalar value (libedit takes it as
/// one wide character), or -1 for end of input and for Ctrl-C.
private func readKey(_: UnsafeMutablePointer<FILE>?) -> Int32 {
    EditLineSource.keyboard?.readCharacter().map { Int32($0.value) } ?? -1
}

// MARK: - Completion

/// libedit's completion callback: `text` is the word before the cursor, the whole line is in
/// `rl_line_buffer` and the cursor (a byte offset) in `rl_point`.
///
/// Returns a malloc'd, NULL-terminated array that libedit frees: the text to put in place of the
/// word (the candidates' longest common prefix) followed by the candidates to list.
private func completeWord(
    _ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32
) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    // Never fall back to libedit's own filename completion: the session knows which arguments are
    // paths and completes those itself.
    rl_attempted_completion_over = 1
    guard let session = EditLineSource.completingSession, let text, let buffer = rl_line_buffer else {
        return nil
    }
    let word = String(cString: text)
    // The session counts the cursor in UTF-8 bytes, as libedit's `rl_point` does.
    let line = String(cString: buffer)
    let cursor = min(max(Int(rl_point), 0), line.utf8.count)
    // Candidates replace the word under the cursor, whose bounds libedit and the session agree
    // on; one that does not extend it would corrupt the line, so it is dropped.
    // Inside quotes (a layer in `encoder="Conv2d(1,8,3) Re`) libedit's word is the part after
    // the last blank, while the session's starts at `encoder=`: drop the part libedit keeps.
    let bytes = Array(line.utf8)
    let start = min(session.completionWordStart(line: line, cursor: cursor), cursor)
    let sessionWord = String(decoding: bytes[start..<cursor], as: UTF8.self)
    let kept = sessionWord.hasSuffix(word) ? sessionWord.count - word.count : 0
    let candidates = session.completions(line: line, cursor: cursor)
        .map { $0.hasPrefix(sessionWord) ? String($0.dropFirst(kept)) : $0 }
        .filter { $0.hasPrefix(word) }
    guard !candidates.isEmpty else { return nil }

    // A finished word gets a space after it; an option awaiting its value (`epochs=`) or a
    // directory awaiting its file (`data/`) does not.
    let awaitsMore = candidates.count == 1 && (candidates[0].hasSuffix("=") || candidates[0].hasSuffix("/"))
    rl_completion_append_character = awaitsMore ? 0 : Int32(UInt8(ascii: " "))

    // libedit reads entry [2] before [1]: a single match goes in twice ("multiple identical
    // matches" to libedit), so that the array is never read past its end.
    let entries = candidates.count == 1
        ? [candidates[0], candidates[0]]
        : [commonPrefix(candidates)] + candidates
    // malloc, not Swift's allocator: libedit frees the array and its strings with free().
    let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (entries.count + 1)
    guard let memory = malloc(size) else { return nil }
    let matches = memory.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1)
    for (index, entry) in entries.enumerated() {
        matches[index] = strdup(entry)
    }
    matches[entries.count] = nil
    return matches
}

/// The longest prefix shared by all of `words`, whole characters only.
private func commonPrefix(_ words: [String]) -> String {
    guard var prefix = words.first else { return "" }
    for word in words.dropFirst() {
        while !word.hasPrefix(prefix) { prefix.removeLast() }
    }
    return prefix
}
