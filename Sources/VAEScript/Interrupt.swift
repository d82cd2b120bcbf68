import Synchronization

/// The one flag Ctrl-C sets. A lock-free atomic in a global `let`, so the shell's SIGINT handler
/// may set it (async-signal-safe), and long commands poll it at safe points (e.g. the end of a
/// batch) without locks.
private let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C, as seen by the language.
///
/// - The shell's SIGINT handler calls `request()`.
/// - A long command polls `isRequested` at a safe point, stops there keeping all state, and
///   returns (it does not clear the flag).
/// - The input loop clears it: interactively it then just shows the prompt again; in a script it
///   ends the run with `RunOutcome.aborted`.
public enum Interrupt {
    public static func request() { interruptRequested.store(true, ordering: .relaxed) }
    public static func clear() { interruptRequested.store(false, ordering: .relaxed) }
    public static var isRequested: Bool { interruptRequested.load(ordering: .relaxed) }
}
