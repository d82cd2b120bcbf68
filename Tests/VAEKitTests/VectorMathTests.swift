import Testing
@testable import VAEKit

/// The Float kernels of VectorMath.swift against their references: libm in Double for exp and
/// log, the scalar loops for the Bernoulli likelihood and Adam, and the Double engine for a
/// whole Float training step (the gradient checks run in Double, so they never reach these kernels).
@Suite("Vector kernels against their references")
struct VectorMathTests {
    /// Worst error in units of the result's ulp, over `inputs` (taken four at a time).
    static func worstUlps(_ inputs: [Float], kernel: (SIMD4<Float>) -> SIMD4<Float>, exact: (Double) -> Double) -> Double {
        var worst = 0.0
        for start in stride(from: 0, to: inputs.count, by: 4) {
            var v = SIMD4<Float>(repeating: inputs[start])
            for lane in 0..<min(4, inputs.count - start) { v[lane] = inputs[start + lane] }
            let result = kernel(v)
            for lane in 0..<4 {
                let truth = exact(Double(v[lane]))
                let ulp = Double(Float(truth).ulp)
                worst = max(worst, abs(Double(result[lane]) - truth) / ulp)
            }
        }
        return worst
    }

    @Test func expWithinOneUlp() {
        // Every 1/4096 on [−86, 0] (352,257 points), plus the ends.
        let inputs = (0...352_256).map { -Float($0) / 4096 } + [-86, -0.0, 0]
        let worst = Self.worstUlps(inputs, kernel: VectorMath.expNonPositive, exact: { Double.exp($0) })
        #expect(worst <= 1, "exp: \(worst) ulp")
        // Below −86 the kernel holds at e⁻⁸⁶; NaN-free and never above 1.
        let clamped = VectorMath.expNonPositive(SIMD4<Float>(-87, -100, -1e30, -.infinity))
        for lane in 0..<4 { #expect(clamped[lane] > 0 && clamped[lane] < 1e-37) }
    }

    @Test func logWithinOneUlp() {
        // Densely on [1, 2] (and just above 1, where log u is tiny), then log-uniformly on
        // [1, 2¹⁶] (the products the likelihood takes logarithms of) and across all normal floats.
        var inputs = (0...(1 << 18)).map { 1 + Float($0) / Float(1 << 18) }
        inputs += (1...100).map { 1 + Float($0) * Float.ulpOfOne }
        inputs += (0...100_000).map { Float.pow(2, Float($0) / 100_000 * 16) }
        inputs += (0...100_000).map { Float.pow(2, Float($0) / 100_000 * 250 - 125) }
        let worst = Self.worstUlps(inputs, kernel: VectorMath.logPositive, exact: { Double.log($0) })
        #expect(worst <= 1, "log: \(worst) ulp")
        #expect(VectorMath.logPositive(SIMD4<Float>(repeating: 1)) == SIMD4<Float>(repeating: 0))
    }

    /// Logits across the range a decoder produces, the extremes, and signed zeros; grey-level and
    /// binary targets; row lengths with and without a tail.
    @Test(arguments: [1, 3, 4, 5, 8, 9, 13, 63, 64, 65, 784])
    func bernoulliMatchesReference(dimension: Int) {
        var random = RandomSource(seed: UInt64(dimension))
        let special: [Float] = [0, -0.0, 1e-8, -1e-8, 15, -15, 85, -85, 87, -87, 88, -88, 100, -100]
        for trial in 0..<20 {
            let logits = (0..<dimension).map { d -> Float in
                trial == 0 ? special[d % special.count] : Float(random.uniform(-30, 30))
            }
            let targets = (0..<dimension).map { _ in trial.isMultiple(of: 2) ? Float(random.uniform()) : Float(random.uniform() < 0.5 ? 0 : 1) }
            var fastGradient = [Float](repeating: .nan, count: dimension)
            var referenceGradient = [Float](repeating: .nan, count: dimension)
            let scale: Float = -0.75
            let fast = VectorMath.bernoulli(logits: logits, targets: targets, dimension: dimension,
                                            dOutput: &fastGradient, scale: scale)
            let reference = Likelihood.bernoulliReference(output: logits, target: targets, dimension: dimension,
                                                          dOutput: &referenceGradient, scale: scale)
            // Each pixel's term, four at a time, against Double: within a few ulp of its size.
            for d in stride(from: 0, to: dimension - 3, by: 4) {
                let l = SIMD4<Float>(logits[d..<d + 4]), x = SIMD4<Float>(targets[d..<d + 4])
                let pixels = VectorMath.bernoulli(logits: l, targets: x, scale: 1)
                let term = pixels.linear - VectorMath.logPositive(pixels.factor)
                for lane in 0..<4 {
                    let exact = Likelihood.bernoulliReference(output: [Double(l[lane])], target: [Double(x[lane])],
                                                              dimension: 1, dOutput: nil, scale: 0)
                    #expect(abs(Double(term[lane]) - exact) <= 2.5e-7 * (abs(Double(l[lane])) + 1), "logit \(l[lane]), target \(x[lane])")
                }
            }
            // The sums, against the exact (Double) sum: both within the bound of n-term Float
            // summation, γₙ·Σ|term| with γₙ ≈ n·2⁻²⁴ (the kernel adds in four running sums, and
            // its products of 16 factors before each logarithm round no worse).
            let exact = Likelihood.bernoulliReference(output: logits.map(Double.init), target: targets.map(Double.init),
                                                      dimension: dimension, dOutput: nil, scale: 0)
            let size = zip(logits, targets).reduce(0.0) { $0 + abs(Double($1.0)) + 1 }
            #expect(abs(Double(fast) - exact) <= (Double(dimension) / 8 + 4) * 0x1p-24 * size,
                    "dimension \(dimension), trial \(trial): \(fast) vs \(exact)")
            #expect(abs(Double(reference) - exact) <= (Double(dimension) + 4) * 0x1p-24 * size)
            for d in 0..<dimension {
                #expect(abs(fastGradient[d] - referenceGradient[d]) <= 2e-7, "gradient \(d): \(fastGradient[d]) vs \(referenceGradient[d])")
            }
            // Without a gradient buffer: the same value.
            let valueOnly = VectorMath.bernoulli(logits: logits, targets: targets, dimension: dimension, dOutput: nil, scale: scale)
            #expect(valueOnly == fast)
        }
        // NaN propagates into the sum, so the trainer sees a diverged step.
        let poisoned = VectorMath.bernoulli(logits: [Float](repeating: .nan, count: dimension), targets: [Float](repeating: 0.5, count: dimension),
                                            dimension: dimension, dOutput: nil, scale: 1)
        #expect(poisoned.isNaN)
    }

    @Test func likelihoodUsesTheKernelForFloatOnly() {
        let logits: [Float] = [-3, 0.5, 2, 40, -40], targets: [Float] = [0, 0.25, 1, 1, 0]
        let float = Likelihood.bernoulli.logLikelihood(output: logits, target: targets, dimension: 5, logVariance: nil,
                                                       dOutput: nil, dLogVariance: nil, scale: 0)
        let kernel = VectorMath.bernoulli(logits: logits, targets: targets, dimension: 5, dOutput: nil, scale: 0)
        #expect(float == kernel)
        let double = Likelihood.bernoulli.logLikelihood(output: logits.map(Double.init), target: targets.map(Double.init), dimension: 5,
                                                        logVariance: nil, dOutput: nil, dLogVariance: nil, scale: 0)
        let reference = Likelihood.bernoulliReference(output: logits.map(Double.init), target: targets.map(Double.init),
                                                      dimension: 5, dOutput: nil, scale: 0)
        #expect(double == reference)
    }

    @Test(arguments: [1, 4, 7, 400])
    func reluBackwardMatchesReference(count: Int) {
        var random = RandomSource(seed: UInt64(count))
        var y = (0..<count).map { _ in max(0, Float(random.uniform(-1, 1))) }
        if count > 2 { y[1] = -0.0; y[2] = .nan }
        let dY = (0..<count).map { _ in Float(random.uniform(-5, 5)) }
        var fast = dY, slow = dY
        VectorMath.reluBackward(&fast, output: y, count: count)
        ActivationFunction.reluBackwardReference(&slow, output: y, count: count)
        #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern))
    }

    /// The vector Adam is the scalar loop, lane by lane: bit for bit, tails included.
    @Test(arguments: [1, 3, 4, 7, 1003])
    func adamMatchesReferenceExactly(count: Int) {
        var random = RandomSource(seed: 5)
        func values(_ low: Double, _ high: Double) -> [Float] { (0..<count).map { _ in Float(random.uniform(low, high)) } }
        let theta = values(-1, 1), gradient = values(-10, 10), m = values(-1, 1), v = values(0, 4)
        var fast = (theta: [Float](repeating: 0, count: count), m: [Float](repeating: 0, count: count), v: [Float](repeating: 0, count: count))
        var slow = fast
        let bias2Root = (1 - 0.999 * 0.999).squareRoot()
        let settings = (beta1: Float(0.9), beta2: Float(0.999), stepSize: Float(1e-3 * bias2Root / (1 - 0.9 * 0.9)),
                        epsilon: Float(1e-8 * bias2Root))
        VectorMath.adam(0..<count, theta: theta, gradient: gradient, m: m, v: v,
                        newTheta: &fast.theta, newM: &fast.m, newV: &fast.v,
                        beta1: settings.beta1, beta2: settings.beta2, stepSize: settings.stepSize, epsilon: settings.epsilon)
        Optimizer<Float>.adamReference(0..<count, theta: theta, gradient: gradient, m: m, v: v,
                                       newTheta: &slow.theta, newM: &slow.m, newV: &slow.v,
                                       beta1: settings.beta1, beta2: settings.beta2, stepSize: settings.stepSize, epsilon: settings.epsilon)
        #expect(fast.theta == slow.theta)
        #expect(fast.m == slow.m)
        #expect(fast.v == slow.v)
    }

    /// A whole Float step (the kernels, wired in) against the same step in Double (the references):
    /// the same terms and gradients to Float precision.
    @Test(arguments: [Activation.relu, .tanh])
    func floatStepAgreesWithDouble(activation: Activation) throws {
        let configuration = VAEConfiguration(inputSize: 37, encoderHidden: [16], latentSize: 3, activation: activation)
        var random = RandomSource(seed: 3)
        let double = try VAE<Double>(configuration, random: &random)
        let float = try VAE<Float>(configuration, values: { slot in double.parameters.values(of: slot).map(Float.init) })
        let x = randomMatrix(9, 37, seed: 4)
        var noiseDouble = RandomSource(seed: 8), noiseFloat = noiseDouble
        let termsDouble = double.computeGradients(x, rows: 9, samples: 2, weights: .loss(), random: &noiseDouble)
        let termsFloat = float.computeGradients(x.converted(to: Float.self), rows: 9, samples: 2, weights: .loss(), random: &noiseFloat)
        #expect(abs(termsFloat.reconstruction - termsDouble.reconstruction) < 1e-4 * abs(termsDouble.reconstruction))
        #expect(abs(termsFloat.kl - termsDouble.kl) < 1e-4 * max(1, termsDouble.kl))
        let gradientsDouble = double.parameters.gradients.elements
        let largest = gradientsDouble.map(abs).max() ?? 1
        for (index, value) in float.parameters.gradients.elements.enumerated() {
            #expect(abs(Double(value) - gradientsDouble[index]) < 1e-4 * largest, "gradient \(index)")
        }
        // And one Adam step lands in the same place.
        let adamDouble = Optimizer<Double>(.adamDefaults, learningRate: 1e-2, parameterCount: double.parameters.count)
        let adamFloat = Optimizer<Float>(.adamDefaults, learningRate: 1e-2, parameterCount: float.parameters.count)
        adamDouble.apply(to: double.parameters)
        adamFloat.apply(to: float.parameters)
        // Adam's first step is about lr·sign(g): compare where the gradient's sign is not in doubt.
        for (index, value) in float.parameters.values.elements.enumerated() where abs(gradientsDouble[index]) > 1e-3 * largest {
            #expect(abs(Double(value) - double.parameters.values.pointer[index]) < 1e-5, "parameter \(index)")
        }
    }
}
