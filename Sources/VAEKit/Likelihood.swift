import RealModule

/// The decoder's distribution p(x|z) over each pixel.
public enum Likelihood: Sendable, Hashable, Codable {
    /// Bernoulli with the decoder emitting logits. Targets may be grey levels in [0, 1], as in
    /// the PyTorch example (its binary cross-entropy on grey levels is exactly this).
    case bernoulli
    /// Gaussian with the decoder emitting the mean and a fixed standard deviation σ.
    case gaussian(sigma: Double)
    /// Gaussian with the decoder emitting the mean and a learned per-pixel log-variance `logvar_x`.
    case gaussianLearned

    /// "bernoulli", "gaussian(σ=0.1)", "gaussian(learned σ)".
    public var summary: String {
        switch self {
        case .bernoulli: "bernoulli"
        case .gaussian(let sigma): "gaussian(σ=\(sigma))"
        case .gaussianLearned: "gaussian(learned σ)"
        }
    }

    /// Whether log p(x|z) can be positive. A Bernoulli probability is at most 1, so its log is
    /// ≤ 0; a Gaussian *density* exceeds 1 wherever σ < 1/√(2π) ≈ 0.399 and the mean is close.
    public var logLikelihoodCanBePositive: Bool { self != .bernoulli }

    /// The per-pixel constant −½·log(2πσ²) of a fixed-σ Gaussian's log-density (0 for Bernoulli).
    public var logDensityConstant: Double {
        switch self {
        case .bernoulli, .gaussianLearned: 0
        case .gaussian(let sigma): -0.5 * Double.log(2 * Double.pi * sigma * sigma)
        }
    }
}

extension Likelihood {
    /// log p(x|out) = Σ_d log p(x_d | out_d) for one row of D pixels. When `dOutput` is given, the
    /// same pass writes dOutput_d = scale · ∂log p/∂out_d (the fused loss-and-gradient the training
    /// step uses); for the learned variance it also accumulates scale · ∂log p/∂logvar_x into
    /// `dLogVariance`.
    ///
    /// - Parameters: `output` (D) logits or means; `target` (D) x; `logVariance` (D) `logvar_x`
    ///   for `.gaussianLearned`, otherwise unused.
    @inline(__always)
    func logLikelihood<T: VAEScalar>(
        output: UnsafePointer<T>, target: UnsafePointer<T>, dimension: Int,
        logVariance: UnsafePointer<T>?,
        dOutput: UnsafeMutablePointer<T>?, dLogVariance: UnsafeMutablePointer<T>?, scale: T
    ) -> T {
        var sum: T = 0
        switch self {
        case .bernoulli:
            if T.self == Float.self {
                // The four-lane kernel (VectorMath.swift); Double, used by the gradient checks,
                // keeps the reference below.
                let result = VectorMath.bernoulli(
                    logits: UnsafeRawPointer(output).assumingMemoryBound(to: Float.self),
                    targets: UnsafeRawPointer(target).assumingMemoryBound(to: Float.self), dimension: dimension,
                    dOutput: dOutput.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) },
                    scale: unsafeBitCast(scale, to: Float.self))
                return unsafeBitCast(result, to: T.self)
            }
            sum = Self.bernoulliReference(output: output, target: target, dimension: dimension, dOutput: dOutput, scale: scale)
        case .gaussian(let sigma):
            // log N(x; μ, σ²) = −½·log(2πσ²) − (x − μ)²/(2σ²);  ∂/∂μ = (x − μ)/σ²
            let inverseVariance = T(1 / (sigma * sigma))
            var squares: T = 0
            for d in 0..<dimension {
                let r = target[d] - output[d]
                squares += r * r
                if let dOutput { dOutput[d] = scale * r * inverseVariance }
            }
            sum = T(logDensityConstant) * T(dimension) - squares * inverseVariance / 2
        case .gaussianLearned:
            // log N = −½(log 2π + v) − (x − μ)²·e^−v / 2;  ∂/∂μ = (x − μ)e^−v;  ∂/∂v = −½ + ½(x − μ)²e^−v
            guard let logVariance else { preconditionFailure("gaussianLearned needs logvar_x") }
            let halfLogTwoPi = T(0.5 * Double.log(2 * Double.pi))
            for d in 0..<dimension {
                let r = target[d] - output[d]
                let inverseVariance = T.exp(-logVariance[d])
                sum += -halfLogTwoPi - logVariance[d] / 2 - r * r * inverseVariance / 2
                if let dOutput { dOutput[d] = scale * r * inverseVariance }
                if let dLogVariance { dLogVariance[d] += scale * (r * r * inverseVariance - 1) / 2 }
            }
        }
        return sum
    }

    /// The Bernoulli case of `logLikelihood`, one pixel at a time with libm's exp and log1p: the
    /// reference the Float kernel `VectorMath.bernoulli` is tested against.
    ///
    /// log p = x·l − softplus(l), with softplus(l) = max(l, 0) + log1p(e^−|l|) (stable at ±100).
    /// ∂/∂l = x − σ(l), and σ(l) shares e^−|l| with the softplus.
    static func bernoulliReference<T: VAEScalar>(
        output: UnsafePointer<T>, target: UnsafePointer<T>, dimension: Int,
        dOutput: UnsafeMutablePointer<T>?, scale: T
    ) -> T {
        var sum: T = 0
        for d in 0..<dimension {
            let l = output[d], x = target[d]
            let e = T.exp(-abs(l))
            sum += x * l - max(l, 0) - T.log(onePlus: e)
            if let dOutput {
                let sigmoid = l >= 0 ? 1 / (1 + e) : e / (1 + e)
                dOutput[d] = scale * (x - sigmoid)
            }
        }
        return sum
    }

    /// The decoder output as a picture in pixel space: σ(logits) for Bernoulli, the mean for Gaussians.
    func mean<T: VAEScalar>(_ output: UnsafeMutablePointer<T>, count: Int) {
        guard self == .bernoulli else { return }
        for i in 0..<count { output[i] = 1 / (1 + T.exp(-output[i])) }
    }
}
