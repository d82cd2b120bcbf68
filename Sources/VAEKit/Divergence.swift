import RealModule

/// KL(q(z|x) ‖ p(z)) for a diagonal Gaussian q = N(μ, diag σ²) and the prior p = N(0, I).
///
/// Closed form (Kingma & Welling, appendix B):  KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),
/// always ≥ 0, and 0 exactly at μ = 0, log σ² = 0.
/// Monte-Carlo form at a draw z = μ + σ⊙ε:  log q(z|x) − log p(z) = ½ Σ_j (z_j² − ε_j² − log σ_j²),
/// whose expectation is the closed form but which can be negative for a single draw.
public enum Divergence {
    /// The closed-form KL of one example, from its μ (Z) and log σ² (Z).
    @inline(__always)
    public static func klAnalytic<T: VAEScalar>(mean: UnsafePointer<T>, logVariance: UnsafePointer<T>, latent: Int) -> T {
        var sum: T = 0
        for j in 0..<latent {
            sum += mean[j] * mean[j] + T.exp(logVariance[j]) - 1 - logVariance[j]
        }
        return sum / 2
    }

    /// Each latent dimension's share of the closed-form KL of one example.
    public static func klPerDimension<T: VAEScalar>(mean: [T], logVariance: [T]) -> [T] {
        zip(mean, logVariance).map { m, v in (m * m + T.exp(v) - 1 - v) / 2 }
    }

    /// Accumulates ∂KL/∂μ = μ and ∂KL/∂log σ² = ½(σ² − 1), times `scale`.
    @inline(__always)
    static func klAnalyticBackward<T: VAEScalar>(
        mean: UnsafePointer<T>, logVariance: UnsafePointer<T>, latent: Int,
        dMean: UnsafeMutablePointer<T>, dLogVariance: UnsafeMutablePointer<T>, scale: T
    ) {
        for j in 0..<latent {
            dMean[j] += scale * mean[j]
            dLogVariance[j] += scale * T.expMinusOne(logVariance[j]) / 2
        }
    }

    /// log q(z|x) − log p(z) at one draw: ½ Σ_j (z_j² − ε_j² − log σ_j²).
    @inline(__always)
    public static func klMonteCarlo<T: VAEScalar>(z: UnsafePointer<T>, epsilon: UnsafePointer<T>, logVariance: UnsafePointer<T>, latent: Int) -> T {
        var sum: T = 0
        for j in 0..<latent { sum += z[j] * z[j] - epsilon[j] * epsilon[j] - logVariance[j] }
        return sum / 2
    }
}
