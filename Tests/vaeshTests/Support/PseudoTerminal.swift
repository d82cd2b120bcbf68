import Foundation
import Glibc

/// `vaesh` running in a real pseudo-terminal, driven like a user at a keyboard.
///
/// Every wait has a deadline; a failed wait throws with the screen output so far, and `close()`
/// (also run on deinit) kills the child, so a broken shell fails a test instead of hanging CI.
final class PseudoTerminal {
    /// Keys, as the bytes a terminal sends.
    enum Key {
        static let enter = "\r"
        static let tab = "\t"
        static let interrupt = "\u{03}"  // Ctrl-C
        static let endOfFile = "\u{04}"  // Ctrl-D
        static let previousHistory = "\u{10}"  // Ctrl-P, the same in emacs and vi insert bindings
    }

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    let child: ChildProcess
    private var master: Int32
    private var output: [UInt8] = []
    /// Where the next `expect` starts looking, so each one matches new output only.
    private var searchStart = 0

    /// Output so far, with carriage returns removed (libedit redraws with them).
    var transcript: String { String(decoding: output.filter { $0 != UInt8(ascii: "\r") }, as: UTF8.self) }

    /// `columns`: the terminal's width (0: a terminal that does not say, as some serial lines).
    init(arguments: [String] = [], environment: [String: String], columns: UInt16 = 100) throws {
        let binary = try ShellBinary.require()
        // posix_openpt, without the feature macro Swift lacks; devpts needs no grantpt.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var name = [CChar](repeating: 0, count: 128)
        guard master >= 0,
              let unlock = libc("unlockpt", as: UnlockTerminal.self), unlock(master) == 0,
              let terminalName = libc("ptsname_r", as: TerminalName.self), terminalName(master, &name, name.count) == 0
        else {
            if master >= 0 { Glibc.close(master) }
            throw ChildProcess.SpawnError(description: "no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        Self.setSize(of: master, columns: columns)
        let terminalPath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            child = try ChildProcess.spawn(binary, arguments: arguments, environment: environment, newSession: true) { actions in
                // Opened after setsid, so it becomes the child's controlling terminal.
                posix_spawn_file_actions_addopen(&actions, 0, terminalPath, O_RDWR, 0)
                posix_spawn_file_actions_adddup2(&actions, 0, 1)
                posix_spawn_file_actions_adddup2(&actions, 0, 2)
            }
        } catch {
            Glibc.close(master)
            throw error
        }
    }

    deinit { close() }

    /// Types `keys` at the prompt: first waits until the line editor has the terminal.
    ///
    /// libedit prints the prompt a moment before it switches the terminal out of line mode; keys
    /// arriving in between are handled by the terminal itself (a Ctrl-D there is not an end of
    /// file to libedit). A user is never that fast; a test is. The pseudo-terminal's settings,
    /// visible from our side, tell when libedit is reading key by key.
    func type(_ keys: String) throws {
        let deadline = Date().addingTimeInterval(15)
        var settings = termios()
        while tcgetattr(master, &settings) == 0 && (settings.c_lflag & tcflag_t(ICANON)) != 0 {
            guard Date() < deadline else {
                throw Timeout(description: "the line editor never took the terminal; it showed:\n\(transcript)")
            }
            usleep(2_000)
        }
        send(keys)
    }

    /// Makes the window `columns` wide, as dragging its edge does: the shell gets SIGWINCH.
    func resize(columns: UInt16) {
        Self.setSize(of: master, columns: columns)
    }

    private static func setSize(of master: Int32, columns: UInt16) {
        var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// True while the terminal is in line mode with echo, as a shell leaves it for the next
    /// program; false while a program reads key by key (libedit, a single-key prompt).
    var isInLineMode: Bool {
        var settings = termios()
        guard tcgetattr(master, &settings) == 0 else { return false }
        let lineMode = tcflag_t(ICANON | ECHO)
        return settings.c_lflag & lineMode == lineMode
    }

    /// Sends `keys` as they are, whatever the terminal's mode (Ctrl-C while a command runs).
    func send(_ keys: String) {
        let bytes = Array(keys.utf8)
        var sent = 0
        while sent < bytes.count && master >= 0 {
            let count = bytes[sent...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            sent += count
        }
    }

    /// Waits until `text` appears in new output (carriage returns ignored); returns the output
    /// before it.
    @discardableResult
    func expect(_ text: String, timeout: Double = 15) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let screen = transcript
            let unseen = screen.dropFirst(searchStart)
            if let range = unseen.range(of: text) {
                let before = String(unseen[..<range.lowerBound])
                searchStart = screen.distance(from: screen.startIndex, to: range.upperBound)
                return before
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, readSome(milliseconds: Int32(min(remaining, 0.2) * 1000)) else {
                if remaining > 0 { continue }
                throw Timeout(description: "expected \(text.debugDescription) within \(timeout) s; the terminal showed:\n\(screen)\nraw: \(String(decoding: output, as: UTF8.self).debugDescription)")
            }
        }
    }

    /// Waits for the shell to exit, reading (and discarding) what it prints meanwhile.
    func waitForExit(timeout: Double = 15) throws -> ChildProcess.Termination {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let ended = child.wait(timeout: 0) {
                // What the shell wrote just before it exited may still be in the terminal's
                // buffer: read it all (the read fails with EIO once it is drained).
                while readSome(milliseconds: 50) {}
                return ended
            }
            _ = readSome(milliseconds: 50)
        }
        throw Timeout(description: "the shell did not exit within \(timeout) s; the terminal showed:\n\(transcript)")
    }

    /// Closes our end of the terminal: the shell sees a hang-up (SIGHUP), as when a terminal
    /// window is closed.
    func hangUp() {
        if master >= 0 {
            Glibc.close(master)
            master = -1
        }
    }

    /// Hangs up and makes sure the child is gone.
    func close() {
        hangUp()
        if child.wait(timeout: 2) == nil { child.kill() }
    }

    /// Reads what is available within `milliseconds`; false when nothing came.
    private func readSome(milliseconds: Int32) -> Bool {
        guard master >= 0 else {
            usleep(UInt32(milliseconds) * 1000)
            return false
        }
        var request = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&request, 1, milliseconds) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
        guard count > 0 else {
            // EIO: the shell closed the terminal (it exited). Don't spin on it.
            usleep(UInt32(milliseconds) * 1000)
            return false
        }
        output += chunk[0..<count]
        return true
    }
}
