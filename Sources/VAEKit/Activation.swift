import RealModule

/// The nonlinearity between hidden layers.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu, tanh, softplus

    /// y ← f(y) in place, over `count` elements. The pre-activation is not kept: each derivative
    /// below is written in terms of the output.
    func forward<T: VAEScalar>(_ y: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count { y[i] = max(y[i], 0) }
        case .tanh:
            for i in 0..<count { y[i] = T.tanh(y[i]) }
        case .softplus:
            // log(1 + eᵃ) = max(a, 0) + log1p(e^−|a|): no overflow for large a.
            for i in 0..<count {
                let a = y[i]
                y[i] = max(a, 0) + T.log(onePlus: T.exp(-abs(a)))
            }
        }
    }

    /// The ReLU's backward one element at a time: dY ← 0 where y ≤ 0. The reference for
    /// `VectorMath.reluBackward`.
    static func reluBackwardReference<T: VAEScalar>(_ dY: UnsafeMutablePointer<T>, output y: UnsafePointer<T>, count: Int) {
        for i in 0..<count where y[i] <= 0 { dY[i] = 0 }
    }

    /// dY ← dY ⊙ f′, with f′ computed from the output y = f(a).
    func backward<T: VAEScalar>(_ dY: UnsafeMutablePointer<T>, output y: UnsafePointer<T>, count: Int) {
        switch self {
        case .relu:
            if T.self == Float.self {
                // The four-lane kernel (VectorMath.swift): a mask, not a branch on each sign.
                VectorMath.reluBackward(UnsafeMutableRawPointer(dY).assumingMemoryBound(to: Float.self),
                                        output: UnsafeRawPointer(y).assumingMemoryBound(to: Float.self), count: count)
            } else {
                Self.reluBackwardReference(dY, output: y, count: count)
            }
        case .tanh:
            // tanh′(a) = 1 − tanh²(a)
            for i in 0..<count { dY[i] *= 1 - y[i] * y[i] }
        case .softplus:
            // softplus′(a) = σ(a) = 1 − e^−softplus(a)
            for i in 0..<count { dY[i] *= -T.expMinusOne(-y[i]) }
        }
    }
}
