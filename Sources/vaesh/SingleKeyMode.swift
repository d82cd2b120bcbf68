@preconcurrency import Glibc
import Synchronization

/// The terminal out of line mode for one key press: no waiting for Enter, no echo. Ctrl-C,
/// Ctrl-Z and Ctrl-\ still send their signals.
///
/// `restore()` puts the terminal's mode back. A signal that ended or stopped the process first
/// (a hang-up, `kill`, Ctrl-\, Ctrl-Z) would leave the user's shell without echo, so while the
/// mode is on, each of those that is not ignored gets a handler that puts the mode back and then
/// lets the signal do what it did before: its default action, or the handler that was there (the
/// Swift runtime's backtracer takes SIGQUIT). After Ctrl-Z and `fg` the mode comes back. Ctrl-C
/// is not among them: it wakes the read (`SignalHandling`), whose caller restores.
///
/// One at a time: the handlers share one saved mode.
struct SingleKeyMode {
    /// The signals a user or a terminal sends that end or stop the process.
    private static let signals: [Int32] = [SIGHUP, SIGTERM, SIGQUIT, SIGTSTP]

    private let descriptor: Int32
    /// The signals handled while the mode is on: those not ignored.
    private let handledSignals: [Int32]

    /// Takes the terminal out of line mode, discarding keys typed before; nil, with the terminal
    /// untouched, when its mode cannot be read or changed.
    init?(_ descriptor: Int32) {
        guard tcgetattr(descriptor, lineMode) == 0 else { return nil }
        singleKeyMode.pointee = lineMode.pointee
        singleKeyMode.pointee.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &singleKeyMode.pointee.c_cc) { characters in
            characters[Int(VMIN)] = 1
            characters[Int(VTIME)] = 0
        }
        self.descriptor = descriptor
        modeDescriptor.store(descriptor, ordering: .sequentiallyConsistent)
        modeIsOn.store(true, ordering: .sequentiallyConsistent)
        // The handlers go in first, so that no moment has the mode on and a signal unhandled.
        handledSignals = Self.signals.filter { signal in
            sigaction(signal, nil, previousActions + Int(signal))
            return !SignalHandling.isIgnored(previousActions[Int(signal)])
        }
        for signal in handledSignals { handle(signal) }
        if tcsetattr(descriptor, TCSAFLUSH, singleKeyMode) != 0 {
            restore()
            return nil
        }
    }

    /// Puts the terminal's mode back and the signals' actions as they were.
    func restore() {
        // Off first: a handler that sees it on after `fg` takes the terminal again, then looks once
        // more (see `restoreLineModeAndResignal`).
        modeIsOn.store(false, ordering: .sequentiallyConsistent)
        _ = tcsetattr(descriptor, TCSANOW, lineMode)
        for signal in handledSignals { sigaction(signal, previousActions + Int(signal), nil) }
    }
}

// MARK: - The handler and its state (globals: a C signal handler cannot capture context)

/// The terminal's mode before, the single-key mode, and each signal's action before (indexed by
/// signal number): allocated once, never freed, so the handler reads them without Swift's
/// exclusivity checks or lazy initialisation.
nonisolated(unsafe) private let lineMode = UnsafeMutablePointer<termios>.allocate(capacity: 1)
nonisolated(unsafe) private let singleKeyMode = UnsafeMutablePointer<termios>.allocate(capacity: 1)
nonisolated(unsafe) private let previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)
private let modeDescriptor = Atomic<Int32>(-1)
private let modeIsOn = Atomic<Bool>(false)

/// Puts line mode back, then hands `signal` to the action it had before: the process ends, or
/// stops until `fg`, after which the mode and this handler come back unless the wait ended
/// meanwhile.
///
/// Only `tcsetattr`, `sigaction`, `raise` and atomics: all safe in a signal handler.
private func restoreLineModeAndResignal(_ signal: Int32) {
    let savedErrno = errno
    defer { errno = savedErrno }
    let descriptor = modeDescriptor.load(ordering: .sequentiallyConsistent)
    _ = tcsetattr(descriptor, TCSANOW, lineMode)
    sigaction(signal, previousActions + Int(signal), nil)
    // With SA_NODEFER the signal is taken inside `raise`; only a stop, or a handler that
    // returns, comes back.
    raise(signal)
    guard modeIsOn.load(ordering: .sequentiallyConsistent) else { return }
    handle(signal)
    _ = tcsetattr(descriptor, TCSANOW, singleKeyMode)
    // `restore()` may have run between the look above and now: undo what this handler redid.
    if !modeIsOn.load(ordering: .sequentiallyConsistent) {
        _ = tcsetattr(descriptor, TCSANOW, lineMode)
        sigaction(signal, previousActions + Int(signal), nil)
    }
}

/// Installs `restoreLineModeAndResignal` for `signal`.
private func handle(_ signal: Int32) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = restoreLineModeAndResignal
    sigemptyset(&action.sa_mask)
    // SA_NODEFER: the handler's own `raise` must act at once, not after the handler returns.
    action.sa_flags = SA_NODEFER | SA_RESTART
    sigaction(signal, &action, nil)
}
