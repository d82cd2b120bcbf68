/// Matrix products, through BLAS, with a naive reference beside them for the tests.
extension Matrix {
    /// C ← α·op(A)·op(B) + β·C, where op transposes without copying (BLAS's transpose flags).
    /// Shapes: op(A) (M, K), op(B) (K, N), C (M, N).
    public static func multiply(
        _ a: Matrix<T>, transposed transposeA: Bool = false,
        _ b: Matrix<T>, transposed transposeB: Bool = false,
        into c: Matrix<T>, alpha: T = 1, beta: T = 0
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kB = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kB && c.rows == m && c.columns == n,
                     "multiply: op(A) \(m)×\(k), op(B) \(kB)×\(n), C \(c.rows)×\(c.columns)")
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             alpha: alpha, a: a.pointer, lda: a.columns, b: b.pointer, ldb: b.columns,
             beta: beta, c: c.pointer, ldc: c.columns)
    }

    /// The same contract as `multiply`, as three plain loops. The reference BLAS is tested against.
    public static func multiplyNaive(
        _ a: Matrix<T>, transposed transposeA: Bool = false,
        _ b: Matrix<T>, transposed transposeB: Bool = false,
        into c: Matrix<T>, alpha: T = 1, beta: T = 0
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        precondition(c.rows == m && c.columns == n, "multiplyNaive: shape mismatch")
        for i in 0..<m {
            for j in 0..<n {
                var sum: T = 0
                for p in 0..<k {
                    let aValue = transposeA ? a[p, i] : a[i, p]
                    let bValue = transposeB ? b[j, p] : b[p, j]
                    sum += aValue * bValue
                }
                c[i, j] = alpha * sum + (beta == 0 ? 0 : beta * c[i, j])
            }
        }
    }
}

/// C ← α·op(A)·op(B) + β·C on raw row-major storage; the engine's one door to BLAS.
/// Shapes: op(A) (m, k), op(B) (k, n), C (m, n); `lda`, `ldb`, `ldc` are row strides.
@inline(__always)
func gemm<T: VAEScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    _ = Parallel.configuredThreads  // OpenBLAS runs single-threaded once the engine has taken over (see `Parallel`)
    if k == 0 {
        // BLAS leaves C untouched when k = 0 only for β = 1; make every β behave.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
           alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}
