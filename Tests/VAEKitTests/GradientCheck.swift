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

/// Each parameter tensor's worst gradient error (`worstError`) for the objective `weights` on the
/// first `rows` examples of `x`, S = `samples`: the backward pass against central differences, both
/// at the same ε (replayed from `seed`), BatchNorm in training mode with its statistics left alone.
func gradientErrors(_ model: VAE<Double>, _ x: Matrix<Double>, rows: Int, samples: Int, weights: ObjectiveWeights,
                    seed: UInt64) -> [(slot: String, error: Double)] {
    let noise = RandomSource(seed: seed)
    var draw = noise
    model.computeGradients(x, rows: rows, samples: samples, weights: weights, random: &draw, updateRunningStatistics: false)
    let analytic = model.parameters.gradients.elements
    return model.parameters.slots.map { slot in
        let numeric = numericalGradient(model, slot: slot) {
            var replay = noise
            return model.objective(x, rows: rows, samples: samples, weights: weights, random: &replay)
        }
        return (slot.name, worstError(Array(analytic[slot.offset..<slot.offset + slot.count]), numeric))
    }
}
