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

    /// dY ← dY ⊙ f′, with f′ computed from the output y = f(a).
    func backward<T: VAEScalar>(_ dY: UnsafeMutablePointer<T>, output y: UnsafePointer<T>, count: Int) {
        switch self {
        case .relu:
            // A select, not a branch, so the loop vectorises.
            for i in 0..<count {
                let d = dY[i]
                dY[i] = y[i] <= 0 ? 0 : d
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
