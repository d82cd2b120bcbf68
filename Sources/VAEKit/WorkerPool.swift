import Dispatch
import Foundation
import Synchronization

/// The threads that run parts 1… of `Parallel.run` (the caller runs part 0). Between jobs each
/// waits by spinning for some tens of microseconds, then sleeps on a semaphore until the next job.
///
/// Why not `DispatchQueue.concurrentPerform`: it hands work to libdispatch's worker threads,
/// which took 40–50 µs to pick up a part here (a pair of 50 µs halves ran no faster than one
/// after the other), and a training step has seven parallel regions. A thread that is already
/// spinning picks a part up within a microsecond; the spin is bounded, so an idle shell sleeps.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Bumped once per job; a worker runs a part when it sees a new value.
    private let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current job.
    private let unfinished = Atomic<Int>(0)
    /// Bit w set: worker w is asleep (or about to be) and needs its semaphore signalled.
    private let sleepers = Atomic<Int>(0)
    /// Held by the thread running a job; anyone else (a nested call, another thread) runs serially.
    private let busy = Atomic<Bool>(false)
    private var semaphores: [DispatchSemaphore] = []
    // The current job: written before `generation` is bumped (release), read after (acquire).
    private var job: ((Int) -> Void)?
    private var parts = 0

    /// How long a worker spins before sleeping, in polls of `generation` (15–50 µs here).
    private static let spinPolls = 50_000
    /// At most 63 workers: `sleepers` is one machine word.
    private static let maximumWorkers = 63

    /// Runs `body(part)` for `part` in 0..<parts, part 0 on the calling thread, and returns when
    /// all are done. Runs them one after another when the pool is already in use (nested or
    /// concurrent calls), which gives the same results: parts write disjoint memory.
    func run(_ parts: Int, _ body: (Int) -> Void) {
        let workersNeeded = min(parts - 1, Self.maximumWorkers)
        guard workersNeeded > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<parts { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while semaphores.count < workersNeeded { startWorker(semaphores.count) }
        withoutActuallyEscaping(body) { body in
            job = body
            self.parts = parts
            unfinished.store(semaphores.count, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            let asleep = sleepers.exchange(0, ordering: .sequentiallyConsistent)
            if asleep != 0 {
                for worker in semaphores.indices where asleep & (1 << worker) != 0 { semaphores[worker].signal() }
            }
            body(0)
            // Parts past the workers' count (more parts than threads) run here too.
            for part in (semaphores.count + 1)..<max(parts, semaphores.count + 1) { body(part) }
            // The other parts are about as long as ours, so this wait is short; if a worker lost its
            // core (a loaded machine), give ours up rather than spin against it.
            var polls = 0
            while unfinished.load(ordering: .acquiring) > 0 {
                polls += 1
                if polls > Self.spinPolls { sched_yield() }
            }
            job = nil
        }
    }

    /// Not inlined so that its retain and release of the job end before the worker reports the
    /// part done: `run` checks, as it returns, that no one still holds its non-escaping closure.
    @inline(never)
    private func runPart(_ part: Int) {
        job?(part)
    }

    private func startWorker(_ index: Int) {
        let semaphore = DispatchSemaphore(value: 0)
        semaphores.append(semaphore)
        let seen = generation.load(ordering: .acquiring)
        let thread = Thread { [unowned self] in self.work(index, semaphore: semaphore, seen: seen) }
        thread.start()
    }

    private func work(_ index: Int, semaphore: DispatchSemaphore, seen initial: Int) {
        let bit = 1 << index
        var seen = initial
        while true {
            var polls = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                polls += 1
                if polls < Self.spinPolls {
                    current = generation.load(ordering: .acquiring)
                    continue
                }
                // Announce the sleep, then look once more: a job posted in between either saw
                // the bit (and will signal, so wait for that) or did not (so do not sleep).
                sleepers.bitwiseOr(bit, ordering: .sequentiallyConsistent)
                current = generation.load(ordering: .sequentiallyConsistent)
                if current != seen {
                    let before = sleepers.bitwiseAnd(~bit, ordering: .sequentiallyConsistent).oldValue
                    if before & bit == 0 { semaphore.wait() }
                    break
                }
                semaphore.wait()
                polls = 0
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if index + 1 < parts { runPart(index + 1) }
            unfinished.subtract(1, ordering: .releasing)
        }
    }
}
