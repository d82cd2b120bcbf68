import CBLAS
import RealModule


/// A floating-point type the engine can compute in: `Float` for training, `Double` for gradient checks.
///
/// The engine is generic over it so that the very code that trains is the code whose gradients are
/// checked against finite differences. Each conformance supplies the one BLAS routine it needs.
public protocol VAEScalar: Real, BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// C ← α·op(A)·op(B) + β·C on row-major storage, where op transposes when asked.
    /// - Parameters: `m`×`k` is op(A), `k`×`n` is op(B), `m`×`n` is C; `lda`, `ldb`, `ldc` are row strides.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

@inline(__always)
private func blasTranspose(_ transpose: Bool) -> CBLAS_TRANSPOSE {
    transpose ? CblasTrans : CblasNoTrans
}

extension Float: VAEScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, blasTranspose(transposeA), blasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

extension Double: VAEScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, blasTranspose(transposeA), blasTranspose(transposeB),
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

/// How many threads the engine uses for its passes.
///
/// VAEKit splits the work of a pass (training step, evaluation, importance sampling) into this
/// many parts itself and runs OpenBLAS single-threaded inside each part (see `Parallel`). It
/// starts at OpenBLAS's own setting, so `OPENBLAS_NUM_THREADS=1` gives a single-threaded engine
/// and the default is one thread per core. Set it before starting work, not during a pass.
public enum BLASThreads {
    /// The number of threads a pass uses.
    public static var count: Int { Parallel.configuredThreads }
    /// Sets the number of threads a pass uses; values below 1 are raised to 1.
    public static func set(_ threads: Int) {
        _ = Parallel.configuredThreads  // the first read also sets OpenBLAS to one thread per call
        Parallel.configuredThreads = max(1, threads)
    }

    /// OpenBLAS's own setting (from `OPENBLAS_NUM_THREADS`, else the core count), after which
    /// OpenBLAS is set to run each call on the calling thread only. Called once, by `Parallel`.
    static func takeOverFromOpenBLAS() -> Int {
        let configured = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return max(1, configured)
    }
}
