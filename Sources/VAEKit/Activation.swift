import RealModule

/// The nonlinearity between the hidden layers of an MLP model (`VAEConfiguration`); each is one
/// of the activation layers below.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu, tanh, softplus

    /// The activation layer it stands for.
    public var layer: LayerSpec {
        switch self {
        case .relu: .relu
        case .tanh: .tanh
        case .softplus: .Softplus()
        }
    }
}

/// An elementwise nonlinearity, y = f(x), as PyTorch defines it (its class names and arguments),
/// with forward and backward side by side.
///
/// Most of these can write their output over their input (the layer then keeps no copy of the
/// pre-activation): their derivative is a function of the output alone. `derivativeFromOutput`
/// says which; the others (GELU, and LeakyReLU or ELU with a negative slope or α, where the output
/// no longer tells the sign of the input) read the input in backward.
public enum ActivationFunction: Sendable, Hashable, Codable {
    case relu
    case leakyReLU(negativeSlope: Double)
    case elu(alpha: Double)
    case tanh
    /// (1/β)·log(1 + e^(βx)), and x itself where βx > threshold.
    case softplus(beta: Double, threshold: Double)
    case sigmoid
    /// x·Φ(x) with the exact normal CDF (approximate='none').
    case gelu

    /// PyTorch's class name.
    public var name: String {
        switch self {
        case .relu: "ReLU"
        case .leakyReLU: "LeakyReLU"
        case .elu: "ELU"
        case .tanh: "Tanh"
        case .softplus: "Softplus"
        case .sigmoid: "Sigmoid"
        case .gelu: "GELU"
        }
    }

    /// The keyword arguments that differ from PyTorch's defaults.
    var callArguments: [LayerArgument] {
        switch self {
        case .leakyReLU(let slope): slope == 0.01 ? [] : [LayerArgument(.double(slope), name: "negative_slope")]
        case .elu(let alpha): alpha == 1 ? [] : [LayerArgument(.double(alpha), name: "alpha")]
        case .softplus(let beta, let threshold):
            (beta == 1 ? [] : [LayerArgument(.double(beta), name: "beta")])
                + (threshold == 20 ? [] : [LayerArgument(.double(threshold), name: "threshold")])
        case .relu, .tanh, .sigmoid, .gelu: []
        }
    }

    /// Whether f′ can be computed from y = f(x) alone, so the layer may run in place.
    var derivativeFromOutput: Bool {
        switch self {
        case .relu, .tanh, .sigmoid: true
        case .leakyReLU(let slope): slope >= 0  // then y > 0 exactly when x > 0
        case .elu(let alpha): alpha > 0          // likewise
        case .softplus(let beta, _): beta > 0    // y is increasing in x
        case .gelu: false                        // not monotone: y does not determine x
        }
    }

    /// y ← f(x) over `count` elements; `y` may be `x` (in place).
    func forward<T: VAEScalar>(_ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .relu:
            if x == UnsafePointer(y) {
                // In place through one pointer: the compiler vectorises this loop, not the one
                // below when x and y may overlap (its runtime overlap check fails for x = y).
                for i in 0..<count { y[i] = max(y[i], 0) }
            } else {
                for i in 0..<count { y[i] = max(x[i], 0) }
            }
        case .leakyReLU(let slope):
            let a = T(slope)
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : a * x[i] }
        case .elu(let alpha):
            let a = T(alpha)
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : a * T.expMinusOne(x[i]) }
        case .tanh:
            for i in 0..<count { y[i] = T.tanh(x[i]) }
        case .softplus(let beta, let threshold):
            // (1/β)·log(1 + e^(βx)) = (1/β)·(max(βx, 0) + log1p(e^−|βx|)): no overflow for large x.
            // PyTorch returns x itself where βx > threshold (20: the difference is below float32's).
            let b = T(beta), limit = T(threshold)
            for i in 0..<count {
                let a = b * x[i]
                y[i] = a > limit ? x[i] : (max(a, 0) + T.log(onePlus: T.exp(-abs(a)))) / b
            }
        case .sigmoid:
            // σ(x) = 1/(1 + e^−x), written with e^−|x| so neither side overflows.
            for i in 0..<count {
                let e = T.exp(-abs(x[i]))
                y[i] = x[i] >= 0 ? 1 / (1 + e) : e / (1 + e)
            }
        case .gelu:
            // x·Φ(x) = x·½(1 + erf(x/√2)).
            let inverseRootTwo = 1 / T.sqrt(2)
            for i in 0..<count { y[i] = x[i] * (1 + T.erf(x[i] * inverseRootTwo)) / 2 }
        }
    }

    /// dX ← dY ⊙ f′(x) in place over `count` elements, with f′ computed from the output `y`, or
    /// from the input `x` where `derivativeFromOutput` is false (then `x` must be given).
    func backward<T: VAEScalar>(_ gradient: UnsafeMutablePointer<T>, input x: UnsafePointer<T>?, output y: UnsafePointer<T>, count: Int) {
        switch self {
        case .relu:
            if T.self == Float.self {
                // The four-lane kernel (VectorMath.swift): a mask, not a branch on each sign.
                VectorMath.reluBackward(UnsafeMutableRawPointer(gradient).assumingMemoryBound(to: Float.self),
                                        output: UnsafeRawPointer(y).assumingMemoryBound(to: Float.self), count: count)
            } else {
                Self.reluBackwardReference(gradient, output: y, count: count)
            }
        case .leakyReLU(let slope):
            // f′ = 1 where x > 0, else the slope; with slope ≥ 0, y > 0 exactly where x > 0.
            let a = T(slope)
            if let x, slope < 0 {
                for i in 0..<count where !(x[i] > 0) { gradient[i] *= a }
            } else {
                for i in 0..<count where !(y[i] > 0) { gradient[i] *= a }
            }
        case .elu(let alpha):
            // f′ = 1 where x > 0, else α·eˣ = y + α.
            let a = T(alpha)
            if let x, alpha <= 0 {
                for i in 0..<count where !(x[i] > 0) { gradient[i] *= a * T.exp(x[i]) }
            } else {
                for i in 0..<count where !(y[i] > 0) { gradient[i] *= y[i] + a }
            }
        case .tanh:
            // tanh′(x) = 1 − tanh²(x)
            for i in 0..<count { gradient[i] *= 1 - y[i] * y[i] }
        case .softplus(let beta, let threshold):
            // f′ = σ(βx) = 1 − e^−βy, and 1 where βx > threshold (there y = x).
            let b = T(beta), limit = T(threshold)
            for i in 0..<count where !(b * y[i] > limit) { gradient[i] *= -T.expMinusOne(-b * y[i]) }
        case .sigmoid:
            // σ′ = σ(1 − σ)
            for i in 0..<count { gradient[i] *= y[i] * (1 - y[i]) }
        case .gelu:
            // (x·Φ(x))′ = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
            guard let x else { preconditionFailure("GELU backward needs its input") }
            let inverseRootTwo = 1 / T.sqrt(2), inverseRootTwoPi = 1 / T.sqrt(2 * T.pi)
            for i in 0..<count {
                let cdf = (1 + T.erf(x[i] * inverseRootTwo)) / 2
                let density = T.exp(-x[i] * x[i] / 2) * inverseRootTwoPi
                gradient[i] *= cdf + x[i] * density
            }
        }
    }

    /// The ReLU's backward one element at a time: dY ← 0 where y ≤ 0. The reference for
    /// `VectorMath.reluBackward`.
    static func reluBackwardReference<T: VAEScalar>(_ dY: UnsafeMutablePointer<T>, output y: UnsafePointer<T>, count: Int) {
        for i in 0..<count where y[i] <= 0 { dY[i] = 0 }
    }
}
