import Glibc
import Synchronization
import VAEScript

/// What Ctrl-C means, decided by where the shell is when it arrives.
///
/// - At the interactive prompt it clears the line. The handler raises a flag and writes a byte to
///   a pipe (the self-pipe trick); `EditLineSource` waits on that pipe beside the keyboard, so
///   `readline()` ends at once wherever libedit happens to be, and the flag tells this NULL from
///   Ctrl-D's.
/// - While a command runs it asks the command to stop at its next safe point
///   (`Interrupt.request()`); the session keeps its state.
/// - A second Ctrl-C within a second while a command runs means the command is not reaching a safe
///   point: the process leaves at once with status 130.
/// - While a batch source waits for input (a pipe), there is nothing to stop: leave with 130.
///
/// The handler touches only lock-free atomics, `write`, `clock_gettime` and `_exit`, all safe in a
/// signal handler. `_exit(130)` there is the one exit outside `main.swift`: a handler cannot hand
/// control back to `main`, and a command stuck away from its safe points is what it exists for.
enum SignalHandling {
    /// Where the shell is; sources set it around their reads.
    enum Phase: Int32 {
        case running = 0
        case prompt = 1
        case reading = 2
    }

    /// Installs the SIGINT handler, with `SA_RESTART` so that the reads and writes of a running
    /// command are resumed rather than failed by a Ctrl-C (without it, libedit's `readline()` spins
    /// on the interrupted `read`).
    static func install() {
        var descriptors: [Int32] = [-1, -1]
        if pipe(&descriptors) == 0 {
            for descriptor in descriptors {
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            }
            wakeReader.store(descriptors[0], ordering: .relaxed)
            wakeWriter.store(descriptors[1], ordering: .relaxed)
        }
        // Touch every global the handler uses, so none is lazily initialised inside it.
        phase.store(Phase.running.rawValue, ordering: .relaxed)
        promptInterrupted.store(false, ordering: .relaxed)
        lastInterruptNanoseconds.store(0, ordering: .relaxed)
        Interrupt.clear()

        // A SIGINT ignored at start (a background job of a script, `nohup`) stays ignored.
        var current = sigaction()
        sigaction(SIGINT, nil, &current)
        if isIgnored(current) { return }

        var action = sigaction()
        action.__sigaction_handler.sa_handler = handleInterrupt
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
    }

    /// True when `action` ignores its signal (`SIG_IGN`).
    static func isIgnored(_ action: sigaction) -> Bool {
        guard let handler = action.__sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: UInt.self) == unsafeBitCast(SIG_IGN, to: UInt.self)
    }

    /// Marks the start (`.prompt`, `.reading`) or end (`.running`) of a read from a source.
    static func enter(_ newPhase: Phase) {
        if newPhase == .prompt {
            drainWakeUps()
            promptInterrupted.store(false, ordering: .relaxed)
            lastInterruptNanoseconds.store(0, ordering: .relaxed)
        }
        phase.store(newPhase.rawValue, ordering: .relaxed)
    }

    /// True once if Ctrl-C arrived while the prompt was showing; clears the flag.
    static func takePromptInterrupt() -> Bool {
        promptInterrupted.exchange(false, ordering: .relaxed)
    }

    /// The descriptor that becomes readable when Ctrl-C is pressed at the prompt (-1 if the pipe
    /// could not be made; Ctrl-C then still interrupts libedit's `read`, just not every time).
    static var wakeDescriptor: Int32 { wakeReader.load(ordering: .relaxed) }

    /// Empties the wake-up pipe.
    static func drainWakeUps() {
        let descriptor = wakeDescriptor
        guard descriptor >= 0 else { return }
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(descriptor, &bytes, bytes.count) > 0 {}
    }
}

// MARK: - The handler and its state (globals: a C signal handler cannot capture context)

private let phase = Atomic<Int32>(SignalHandling.Phase.running.rawValue)
private let promptInterrupted = Atomic<Bool>(false)
private let lastInterruptNanoseconds = Atomic<Int64>(0)
private let wakeReader = Atomic<Int32>(-1)
private let wakeWriter = Atomic<Int32>(-1)

private func handleInterrupt(_: Int32) {
    let savedErrno = errno
    defer { errno = savedErrno }
    switch phase.load(ordering: .relaxed) {
    case SignalHandling.Phase.prompt.rawValue:
        promptInterrupted.store(true, ordering: .relaxed)
        var byte: UInt8 = 3
        _ = write(wakeWriter.load(ordering: .relaxed), &byte, 1)
    case SignalHandling.Phase.reading.rawValue:
        abortFromHandler()
    default:
        let now = monotonicNanoseconds()
        let previous = lastInterruptNanoseconds.exchange(now, ordering: .relaxed)
        if previous != 0 && now - previous < 1_000_000_000 {
            abortFromHandler()
        }
        Interrupt.request()
    }
}

private func abortFromHandler() -> Never {
    let message: StaticString = "\nvaesh: interrupted\n"
    _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
    _exit(130)
}

private func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
