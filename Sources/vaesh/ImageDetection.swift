@preconcurrency import Glibc
import VAEScript

/// Asks the terminal which image protocol it speaks (kitty, iTerm2 or sixel), so that pictures
/// can be drawn as real images: the questions and how to read the answers are in
/// `ImageProtocol`; this file owns the terminal while it asks.
///
/// Only when both stdin and stdout are terminals that take escape sequences: a pipe, a file,
/// `TERM=dumb` and `--json` are never sent a byte of it. The terminal is put into non-canonical
/// mode without echo while it answers, so the answers are neither shown nor left for the line
/// editor, and restored afterwards. Keys typed ahead meanwhile (the question is asked while a
/// command runs) are read with the answers and handed back, to be the line editor's next input.
/// Only when the answers did not all come before the deadline is the rest of the input flushed:
/// a late answer would otherwise be read as typing.
enum ImageDetection {
    /// How long a terminal gets to answer. Terminals answer within a few milliseconds locally;
    /// over ssh a round trip can take a few hundred. Every terminal answers the last question
    /// (Primary Device Attributes), so the wait ends with that answer, not at the deadline.
    static let deadlineMilliseconds: Int32 = 500

    /// Writes `ImageProtocol.detectionQuery` and reads the answers until Primary Device Attributes
    /// has been answered or the deadline passes: the protocol they show, and the bytes the user
    /// typed meanwhile.
    static func ask() -> (protocol: ImageProtocol?, typed: [UInt8]) {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return (nil, []) }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        raw.c_cc.6 = 0  // VMIN: poll() does the waiting
        raw.c_cc.5 = 0  // VTIME
        guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return (nil, []) }
        var answer: [UInt8] = []
        defer {
            if !ImageProtocol.answerIsComplete(answer) { tcflush(STDIN_FILENO, TCIFLUSH) }
            var restore = saved
            tcsetattr(STDIN_FILENO, TCSANOW, &restore)
        }
        let query = Array(ImageProtocol.detectionQuery.utf8)
        guard query.withUnsafeBytes({ write(STDOUT_FILENO, $0.baseAddress, $0.count) }) == query.count else { return (nil, []) }
        var buffer = [UInt8](repeating: 0, count: 256)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while !ImageProtocol.answerIsComplete(answer) {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = Int32((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000)
            guard elapsed < deadlineMilliseconds else { break }
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, deadlineMilliseconds - elapsed)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        let (answers, typed) = ImageProtocol.separateTyping(answer)
        return (ImageProtocol.detect(answer: answers), typed)
    }
}
