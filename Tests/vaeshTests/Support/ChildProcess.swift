import Foundation
import Glibc

/// A child process started with `posix_spawn`, waited for with a deadline.
///
/// Foundation's `Process` is not used: the pseudo-terminal tests need the child in a new session
/// with the terminal as its controlling terminal (so Ctrl-C becomes SIGINT), and every child
/// closes all inherited descriptors above 2, so tests running in parallel never hold each
/// other's pipes or terminals open.
final class ChildProcess {
    let pid: pid_t
    /// Set once the child has been reaped; its pid may then belong to another process.
    private(set) var termination: Termination?

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// How a child ended.
    enum Termination: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable` with descriptors 0, 1, 2 set up by `setUpDescriptors`.
    /// With `newSession`, the child leads a new session, so the first terminal it opens becomes
    /// its controlling terminal.
    static func spawn(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        newSession: Bool = false,
        setUpDescriptors: (inout posix_spawn_file_actions_t) -> Void
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        setUpDescriptors(&actions)
        if let closeFrom = libc("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self) {
            _ = closeFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default signal actions and an empty mask: the test runner's own settings must not leak
        // into the shell (an ignored SIGINT would make the Ctrl-C tests pass for the wrong reason).
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        let setSession: Int32 = newSession ? 0x80 : 0  // POSIX_SPAWN_SETSID (a GNU extension Swift doesn't import)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | setSession))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvStart = argvBuffer.baseAddress, let envpStart = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, executable, &actions, &attributes, argvStart, envpStart)
            }
        }
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Waits up to `timeout` seconds; nil if the child is still running then.
    func wait(timeout: Double) -> Termination? {
        if let termination { return termination }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
                let signal = status & 0x7f
                termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
                return termination
            }
            if result < 0 && errno != EINTR { return nil }
            if Date() > deadline { return nil }
            usleep(10_000)
        }
    }

    /// Sends `signal` while the child runs (never to a reaped pid, which may have been reused).
    func signal(_ signal: Int32) {
        if termination == nil { _ = Glibc.kill(pid, signal) }
    }

    /// Kills the child and reaps it, so no test leaves a process behind.
    func kill() {
        guard termination == nil else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = wait(timeout: 10)
    }
}

// MARK: - C functions Swift's Glibc module does not import

/// A libc function looked up by name: GNU and X/Open extensions (`unlockpt`, `ptsname_r`,
/// `posix_spawn_file_actions_addclosefrom_np`) are hidden from Swift by feature macros.
func libc<Function>(_ name: String, as type: Function.Type) -> Function? {
    guard let symbol = dlsym(nil, name) else { return nil }  // nil handle: RTLD_DEFAULT
    return unsafeBitCast(symbol, to: type)
}

typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
typealias UnlockTerminal = @convention(c) (Int32) -> Int32
typealias TerminalName = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32
