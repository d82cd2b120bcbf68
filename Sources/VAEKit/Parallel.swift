/// How the engine uses more than one core: it splits each pass itself, into a fixed number of
/// parts with fixed boundaries, and runs OpenBLAS single-threaded inside each part.
///
/// Why not OpenBLAS's own threads: at this model's sizes (GEMMs of 40–80 MFLOP, a few hundred
/// microseconds) its threads gained little, and they busy-wait between calls, stealing the other
/// core from everything else in the step. The parts run on `WorkerPool`'s threads, which spin only
/// in the short gaps of a step (for some tens of microseconds) and then sleep.
///
/// Splitting ourselves lets independent work run side by side (a layer's dW and dInput products;
/// the elementwise likelihood with the GEMM that feeds it), keeps the split out of the BLAS
/// library's hands, and makes it deterministic: every part is a fixed slice computed in a fixed
/// order, so the same seed and thread count give the same bits on every run. Across thread counts
/// results agree to rounding (OpenBLAS may pick a different kernel for a half-size product), and
/// usually exactly.
enum Parallel {
    /// The engine's thread count, as `BLASThreads` sets it. Read once from OpenBLAS (which honours
    /// `OPENBLAS_NUM_THREADS` and otherwise counts the cores), after which OpenBLAS is kept at one
    /// thread per call.
    nonisolated(unsafe) static var configuredThreads: Int = BLASThreads.takeOverFromOpenBLAS()

    /// A thread count for the current task only, overriding the configured one (for tests that
    /// compare split and unsplit passes without disturbing others running at the same time).
    @TaskLocal static var threadsOverride: Int?

    /// The number of parts work is split into at most.
    static var threads: Int { threadsOverride ?? configuredThreads }

    /// Runs `body(part)` for every part in `0..<parts`, concurrently when `parts > 1`; returns when
    /// all have finished. Parts must write disjoint memory.
    @inline(__always)
    static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 {
            body(0)
        } else {
            WorkerPool.shared.run(parts, body)
        }
    }

    /// The `part`-th of `parts` contiguous near-equal slices of `range` (the first ones one longer).
    @inline(__always)
    static func slice(_ range: Range<Int>, part: Int, of parts: Int) -> Range<Int> {
        let count = range.count, base = count / parts, extra = count % parts
        let start = range.lowerBound + part * base + min(part, extra)
        return start..<start + base + (part < extra ? 1 : 0)
    }

    /// How many parts work of `flops` floating-point operations is worth splitting into: one below
    /// about 2 MFLOP (some 20 µs of work, where waking a thread would cost a good share of it).
    @inline(__always)
    static func parts(flops: Int, limit: Int = .max) -> Int {
        flops < 2_000_000 ? 1 : max(1, min(threads, limit))
    }
}
