import Synchronization

/// A Ctrl-C flag: a lock-free atomic, so a signal handler may set it and long commands may poll it
/// at safe points (e.g. the end of a batch) without locks.
///
/// - The shell's SIGINT handler calls `Interrupt.request()`, which sets `Interrupt.process`.
/// - A long command polls `context.isInterrupted` at a safe point, stops there keeping all state,
///   and returns (it does not clear the flag).
/// - The input loop clears it: interactively it then just shows the prompt again; in a script it
///   ends the run with `RunOutcome.aborted`.
///
/// Each session reads the flag it was given (`Interrupt.process` unless a test passes its own),
/// so tests that press Ctrl-C do not disturb tests running beside them.
public final class InterruptFlag: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public func request() { requested.store(true, ordering: .relaxed) }
    public func clear() { requested.store(false, ordering: .relaxed) }
    public var isRequested: Bool { requested.load(ordering: .relaxed) }
}

/// Ctrl-C for the whole process.
///
/// The shell should touch it once (e.g. `Interrupt.clear()`) before installing its SIGINT handler,
/// so that the global is initialised outside the handler; after that, `request()` is one atomic store.
public enum Interrupt {
    /// The flag the SIGINT handler sets and sessions read by default.
    public static let process = InterruptFlag()

    public static func request() { process.request() }
    public static func clear() { process.clear() }
    public static var isRequested: Bool { process.isRequested }
}
