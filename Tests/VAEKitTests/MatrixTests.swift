import Testing
@testable import VAEKit

@Suite("Matrix products")
struct MatrixTests {
    /// Every transpose combination of the BLAS path against the naive triple loop.
    @Test(arguments: [false, true], [false, true])
    func blasMatchesNaive(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (7, 5, 3)
        let a = randomMatrix(transposeA ? k : m, transposeA ? m : k, low: -1, high: 1, seed: 1)
        let b = randomMatrix(transposeB ? n : k, transposeB ? k : n, low: -1, high: 1, seed: 2)
        let fast = randomMatrix(m, n, seed: 3), slow = fast.copy()
        Matrix.multiply(a, transposed: transposeA, b, transposed: transposeB, into: fast, alpha: 0.5, beta: 2)
        Matrix.multiplyNaive(a, transposed: transposeA, b, transposed: transposeB, into: slow, alpha: 0.5, beta: 2)
        for i in 0..<fast.count { #expect(abs(fast.pointer[i] - slow.pointer[i]) < 1e-13) }
    }

    @Test func floatPathMatchesToo() {
        let a = randomMatrix(64, 33, low: -1, high: 1, seed: 4).converted(to: Float.self)
        let b = randomMatrix(33, 17, low: -1, high: 1, seed: 5).converted(to: Float.self)
        let fast = Matrix<Float>(rows: 64, columns: 17), slow = Matrix<Float>(rows: 64, columns: 17)
        Matrix.multiply(a, b, into: fast)
        Matrix.multiplyNaive(a, b, into: slow)
        for i in 0..<fast.count { #expect(abs(fast.pointer[i] - slow.pointer[i]) < 1e-4) }
    }

    @Test func seededRandomIsReproducibleAndNormal() {
        var first = RandomSource(seed: 42), second = RandomSource(seed: 42)
        let a = (0..<1000).map { _ in first.normal() }, b = (0..<1000).map { _ in second.normal() }
        #expect(a == b)
        var random = RandomSource(seed: 1)
        let draws = (0..<100_000).map { _ in random.normal() }
        let mean = draws.reduce(0, +) / 100_000
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 99_999
        // Standard errors: 1/√n = 0.0032 for the mean, √(2/n) = 0.0045 for the variance; allow 4.
        #expect(abs(mean) < 0.013)
        #expect(abs(variance - 1) < 0.018)
        #expect(Set(random.permutation(50)) == Set(0..<50))
    }
}
