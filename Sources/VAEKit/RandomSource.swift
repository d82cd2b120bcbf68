import RealModule

/// A seeded pseudo-random generator: xoshiro256** seeded through SplitMix64.
///
/// Every random draw in the engine (initialisation, ε in the reparameterisation, shuffling,
/// binarisation) takes one of these explicitly, so the same seed gives bit-identical results.
/// It is a value type: copying it forks the stream, which is how a caller replays the same ε.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// The second normal of the last Box–Muller pair, not yet handed out.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform draw from [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform draw from [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// A standard normal draw (Box–Muller, both values of each pair used).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let radius = (-2 * Double.log(1 - uniform())).squareRoot()
        let angle = 2 * Double.pi * uniform()
        spareNormal = radius * Double.sin(angle)
        return radius * Double.cos(angle)
    }

    /// Fills `buffer` with standard normal draws.
    public mutating func fillNormal<T: VAEScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
        for i in buffer.indices { buffer[i] = T(normal()) }
    }

    /// Fills `buffer` with uniform draws from [low, high).
    public mutating func fillUniform<T: VAEScalar>(_ buffer: UnsafeMutableBufferPointer<T>, low: Double, high: Double) {
        for i in buffer.indices { buffer[i] = T(uniform(low, high)) }
    }

    /// A random permutation of 0..<count (Fisher–Yates, driven by this generator only).
    public mutating func permutation(_ count: Int) -> [Int] {
        var result = Array(0..<count)
        if count < 2 { return result }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            result.swapAt(i, j)
        }
        return result
    }
}

// MARK: - Independent streams

/// The independent streams a session draws from, each derived from the one seed by hashing, so no
/// stream replays another's numbers (the weights' initialisation used to be the first numbers the
/// trainer drew again).
public enum RandomStreamKind: UInt64, Sendable, CaseIterable {
    /// The initial weights of a new model.
    case initialisation = 1
    /// Shuffling and ε in training steps.
    case training = 2
    /// ε when evaluating the terms and log p(x) (common random numbers, see `Draws`).
    case evaluation = 3
    /// Bernoulli binarisation of the data.
    case binarisation = 4
    /// Draws from the prior for pictures.
    case pictures = 5
    /// The batch and ε of a measured step (`step`, `show-sign`).
    case measurement = 6
}

extension RandomSource {
    /// The seed of stream `kind` derived from `seed`, further keyed by `parts` (a model version,
    /// a split, an epoch): SplitMix64's finaliser chained over all of them, so each output bit
    /// depends on every input bit.
    public static func derivedSeed(_ seed: UInt64, _ kind: RandomStreamKind, _ parts: UInt64...) -> UInt64 {
        derive(seed, kind, parts)
    }

    /// `derivedSeed(seed, kind, first, second)`, the same value, without the variadic array:
    /// common random numbers derive one seed per (example, draw) and need no allocation for it.
    @inline(__always)
    public static func derivedSeed(_ seed: UInt64, _ kind: RandomStreamKind, _ first: UInt64, _ second: UInt64) -> UInt64 {
        mix64(mix64(mix64(mix64(seed) ^ kind.rawValue) ^ first) ^ second)
    }

    /// The stream `kind` of `seed`, keyed by `parts` (see `derivedSeed`).
    public init(seed: UInt64, stream kind: RandomStreamKind, _ parts: UInt64...) {
        self.init(seed: Self.derive(seed, kind, parts))
    }

    private static func derive(_ seed: UInt64, _ kind: RandomStreamKind, _ parts: [UInt64]) -> UInt64 {
        parts.reduce(mix64(mix64(seed) ^ kind.rawValue)) { mix64($0 ^ $1) }
    }
}

/// SplitMix64's finaliser: a bijection on 64 bits whose output bits each depend on every input bit.
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
