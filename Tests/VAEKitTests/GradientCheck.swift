@testable import VAEKit

/// Central finite differences of `objective` with respect to every element of `slot`.
/// Double precision and h = 1e-5: truncation error O(h²·f‴) ≈ 1e-10 and rounding error
/// O(ε·|f|/h) ≈ 1e-16·10/1e-5 = 1e-10, both far under the tolerance the tests use.
func numericalGradient(_ model: VAE<Double>, slot: ParameterSlot, step h: Double = 1e-5,
                       objective: () -> Double) -> [Double] {
    centralDifferences(model.parameters.values(of: slot), step: h, objective)
}

/// Central differences of `objective` with respect to each element of `values` (restored after).
func centralDifferences(_ values: UnsafeMutableBufferPointer<Double>, step h: Double = 1e-5, _ objective: () -> Double) -> [Double] {
    (0..<values.count).map { i in
        let original = values[i]
        values[i] = original + h
        let plus = objective()
        values[i] = original - h
        let minus = objective()
        values[i] = original
        return (plus - minus) / (2 * h)
    }
}

/// The largest |analytic − numeric| / max(1, |numeric|) over a tensor: an absolute error for
/// small gradients, a relative one for large.
func worstError(_ analytic: [Double], _ numeric: [Double]) -> Double {
    zip(analytic, numeric).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}

/// A matrix of `rows`×`columns` uniform draws in [low, high).
func randomMatrix(_ rows: Int, _ columns: Int, low: Double = 0, high: Double = 1, seed: UInt64) -> Matrix<Double> {
    var random = RandomSource(seed: seed)
    let matrix = Matrix<Double>(rows: rows, columns: columns)
    random.fillUniform(matrix.buffer, low: low, high: high)
    return matrix
}
