/// Where the draws of ε in z = μ + σ ⊙ ε come from when a model is evaluated.
///
/// With common random numbers, two commands on the same examples see the same z, so their numbers
/// agree exactly (`recon − kl` is `elbo` whichever command printed them) and a difference between
/// two models is the models', not the noise's. Training draws fresh noise from its own stream.
public enum Draws: Sendable {
    /// Common random numbers: ε of example `i` (its index in the data source) and draw `s` is a
    /// fixed function of (seed, i, s), whatever else is evaluated with it, in whatever chunks,
    /// order or number of threads. Draw s of `logLikelihood` is draw s of `evaluate`.
    case common(seed: UInt64)
    /// The next numbers of a stream, in (example, draw, dimension) order.
    case fresh(RandomSource)
}

/// Fills the ε of a pass: the one place a forward pass gets its noise.
struct NoiseFiller {
    private var draws: Draws
    /// ε handed in whole, used in order (tests against another framework's numbers).
    private var given: (values: [Double], next: Int)?

    init(_ draws: Draws) { self.draws = draws }

    /// ε taken in order from `values`, (example, draw, dimension) after one another across passes:
    /// what a test needs to reproduce another framework's draws.
    static func given(_ values: [Double]) -> NoiseFiller {
        var filler = NoiseFiller(.fresh(RandomSource(seed: 0)))
        filler.given = (values, 0)
        return filler
    }

    /// The stream, advanced by what was drawn (for callers that hand in an `inout` stream).
    var stream: RandomSource? {
        if case .fresh(let random) = draws { return random }
        return nil
    }

    /// ε for draws `firstDraw ..< firstDraw + samples` of each example in `examples` (their
    /// indices in the data source; nil for a training batch, whose rows have no stable identity),
    /// written (examples.count · samples, Z) row by row into `epsilon`.
    mutating func fill<T: VAEScalar>(_ epsilon: UnsafeMutablePointer<T>, rows: Int, samples: Int, latent: Int,
                                     examples: ArraySlice<Int>?, firstDraw: Int) {
        if let (values, next) = given {
            precondition(next + rows * samples * latent <= values.count, "NoiseFiller: \(values.count) given values run out")
            for i in 0..<rows * samples * latent { epsilon[i] = T(values[next + i]) }
            given = (values, next + rows * samples * latent)
            return
        }
        switch draws {
        case .fresh(var random):
            random.fillNormal(UnsafeMutableBufferPointer(start: epsilon, count: rows * samples * latent))
            draws = .fresh(random)
        case .common(let seed):
            precondition(examples?.count == rows, "common draws need the examples' indices")
            for (n, example) in (examples ?? []).enumerated() {
                for s in 0..<samples {
                    var random = RandomSource(seed: RandomSource.derivedSeed(seed, .evaluation, UInt64(example), UInt64(firstDraw + s)))
                    random.fillNormal(UnsafeMutableBufferPointer(start: epsilon + (n * samples + s) * latent, count: latent))
                }
            }
        }
    }
}
