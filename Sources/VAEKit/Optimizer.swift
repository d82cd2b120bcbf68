import RealModule

/// Which update rule an `Optimizer` applies.
public enum OptimizerKind: Sendable, Equatable, Codable {
    /// Adam with PyTorch's defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, no weight decay.
    case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
    /// Plain SGD, with optional momentum as PyTorch defines it (buffer = μ·buffer + g).
    case sgd(momentum: Double = 0)

    public static let adamDefaults = OptimizerKind.adam()
    public var name: String {
        switch self {
        case .adam: "adam"
        case .sgd: "sgd"
        }
    }
}

/// Adam or SGD over a model's flat parameter block: each step is one loop over every parameter.
///
/// The update reads the current values and moments and writes the new ones into a second buffer,
/// which then becomes current. That costs no extra memory traffic and keeps the state from before
/// the last step, so `rollBack()` restores it exactly (the trainer does this when a step diverges).
public final class Optimizer<T: VAEScalar>: @unchecked Sendable {
    public let kind: OptimizerKind
    public var learningRate: Double
    /// Steps taken so far (Adam's t).
    public private(set) var step: Int = 0
    private var firstMoment: Matrix<T>
    private var secondMoment: Matrix<T>
    private var previousValues: Matrix<T>
    private var previousFirstMoment: Matrix<T>
    private var previousSecondMoment: Matrix<T>
    private var canRollBack = false

    public init(_ kind: OptimizerKind, learningRate: Double, parameterCount: Int) {
        self.kind = kind
        self.learningRate = learningRate
        firstMoment = Matrix(rows: 1, columns: parameterCount)
        secondMoment = Matrix(rows: 1, columns: parameterCount)
        previousValues = Matrix(rows: 1, columns: parameterCount)
        previousFirstMoment = Matrix(rows: 1, columns: parameterCount)
        previousSecondMoment = Matrix(rows: 1, columns: parameterCount)
    }

    /// θ ← update(θ, ∇θ) for every parameter of `parameters`, using its accumulated gradients.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func apply(to parameters: ParameterStore<T>) {
        precondition(parameters.count == firstMoment.count, "Optimizer: parameter count changed")
        step += 1
        let count = parameters.count
        let theta = parameters.values.pointer, gradient = parameters.gradients.pointer
        let newTheta = previousValues.pointer
        let m = firstMoment.pointer, v = secondMoment.pointer
        let newM = previousFirstMoment.pointer, newV = previousSecondMoment.pointer
        switch kind {
        case .adam(let beta1, let beta2, let epsilon):
            // PyTorch: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), θ ← θ − lr·m̂/(√v̂ + ε), computed as
            // θ − (lr/bc₁)·m/(√v/√bc₂ + ε) = θ − (lr·√bc₂/bc₁)·m/(√v + ε·√bc₂): the same value
            // with one division per parameter instead of two (square root and division are what
            // the loop waits on).
            let bias1 = 1 - Double.pow(beta1, step), bias2 = 1 - Double.pow(beta2, step)
            let stepSize = T(learningRate * bias2.squareRoot() / bias1), eps = T(epsilon * bias2.squareRoot())
            let b1 = T(beta1), b2 = T(beta2)
            if T.self == Float.self {
                // The four-lane kernel (VectorMath.swift), bit for bit the loop below.
                func float(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
                    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
                }
                func float(_ value: T) -> Float { unsafeBitCast(value, to: Float.self) }
                // Each thread takes a contiguous share of the block.
                let parts = Parallel.parts(flops: 10 * count)
                Parallel.run(parts) { part in
                    VectorMath.adam(Parallel.slice(0..<count, part: part, of: parts),
                                    theta: float(theta), gradient: float(gradient), m: float(m), v: float(v),
                                    newTheta: float(newTheta), newM: float(newM), newV: float(newV),
                                    beta1: float(b1), beta2: float(b2), stepSize: float(stepSize), epsilon: float(eps))
                }
            } else {
                Self.adamReference(0..<count, theta: theta, gradient: gradient, m: m, v: v,
                                   newTheta: newTheta, newM: newM, newV: newV,
                                   beta1: b1, beta2: b2, stepSize: stepSize, epsilon: eps)
            }
        case .sgd(let momentum):
            let lr = T(learningRate), mu = T(momentum)
            if momentum == 0 {
                for i in 0..<count { newTheta[i] = theta[i] - lr * gradient[i] }
            } else {
                // PyTorch: the buffer starts as the first gradient, then b ← μb + g.
                for i in 0..<count {
                    let buffer = step == 1 ? gradient[i] : mu * m[i] + gradient[i]
                    newM[i] = buffer
                    newTheta[i] = theta[i] - lr * buffer
                }
            }
        }
        swap(&parameters.values, &previousValues)
        swap(&firstMoment, &previousFirstMoment)
        swap(&secondMoment, &previousSecondMoment)
        canRollBack = true
    }

    /// Adam over `range`, one parameter at a time: the reference `VectorMath.adam` is tested against.
    /// m′ = β₁m + (1 − β₁)g,  v′ = β₂v + (1 − β₂)g·g,  θ′ = θ − stepSize·m′/(√v′ + ε), with the bias
    /// corrections folded into `stepSize` and `epsilon` by the caller.
    static func adamReference(_ range: Range<Int>, theta: UnsafePointer<T>, gradient: UnsafePointer<T>,
                              m: UnsafePointer<T>, v: UnsafePointer<T>,
                              newTheta: UnsafeMutablePointer<T>, newM: UnsafeMutablePointer<T>, newV: UnsafeMutablePointer<T>,
                              beta1 b1: T, beta2 b2: T, stepSize: T, epsilon eps: T) {
        for i in range {
            let g = gradient[i]
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            newM[i] = mi
            newV[i] = vi
            newTheta[i] = theta[i] - stepSize * mi / (vi.squareRoot() + eps)
        }
    }

    /// Restores the parameters and optimiser state from before the last `apply`. Returns false
    /// when there is no step to undo (at most one step is kept).
    @discardableResult
    public func rollBack(_ parameters: ParameterStore<T>) -> Bool {
        guard canRollBack else { return false }
        swap(&parameters.values, &previousValues)
        swap(&firstMoment, &previousFirstMoment)
        swap(&secondMoment, &previousSecondMoment)
        step -= 1
        canRollBack = false
        return true
    }

    /// An independent copy of the optimiser's state.
    public func copy() -> Optimizer<T> {
        let result = Optimizer(kind, learningRate: learningRate, parameterCount: firstMoment.count)
        result.step = step
        result.firstMoment.assign(from: firstMoment)
        result.secondMoment.assign(from: secondMoment)
        return result
    }
}
