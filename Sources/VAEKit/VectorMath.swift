#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Float kernels on four lanes at a time: exp, log1p, the Bernoulli log-likelihood with its
/// gradient, and Adam's update. Each has a plain scalar reference beside it (the generic code in
/// Likelihood.swift and Optimizer.swift), and `VectorMathTests` compares the two.
///
/// Why: glibc's `expf`/`log1pf` are accurate but scalar calls (about 20 ns per pixel for the
/// likelihood), and Swift's `squareRoot()` keeps a libm fallback per element (for errno), so the
/// generic Adam loop never vectorises. Together they took a third of a training step.
///
/// Written on `SIMD4<Float>` (one SSE register: the baseline x86-64 instruction set, no FMA), with
/// the compiler's SSE intrinsics for the three operations Swift's SIMD types compile to scalar
/// code or calls: square root, minimum/maximum and select. Every lane computes exactly what the
/// scalar expression would, except for the polynomials of exp and log1p. Elsewhere than x86-64 the
/// helpers fall back to lane loops.
///
/// Accuracy (over dense grids against Double, `VectorMathTests`): `expNonPositive` on [−86, 0] and
/// `logPositive` on [1, 2¹⁶] within 1 ulp.
enum VectorMath {
    typealias Vector = SIMD4<Float>
    typealias Bits = SIMD4<UInt32>
    static let lanes = Vector.scalarCount

    // MARK: - What SIMD4 lacks

    @inline(__always)
    static func squareRoot(_ v: Vector) -> Vector {
        #if arch(x86_64)
        _mm_sqrt_ps(v)
        #else
        Vector(v[0].squareRoot(), v[1].squareRoot(), v[2].squareRoot(), v[3].squareRoot())
        #endif
    }

    /// a < b ? b : a, lane by lane (b when either is NaN).
    @inline(__always)
    static func maximum(_ a: Vector, _ b: Vector) -> Vector {
        #if arch(x86_64)
        _mm_max_ps(a, b)
        #else
        a.replacing(with: b, where: .!(a .> b))
        #endif
    }

    /// a > b ? b : a, lane by lane (b when either is NaN).
    @inline(__always)
    static func minimum(_ a: Vector, _ b: Vector) -> Vector {
        #if arch(x86_64)
        _mm_min_ps(a, b)
        #else
        a.replacing(with: b, where: .!(a .< b))
        #endif
    }

    /// A lane mask: all ones where `a > b`, else zero.
    @inline(__always)
    static func greater(_ a: Vector, _ b: Vector) -> Bits {
        #if arch(x86_64)
        unsafeBitCast(_mm_cmpgt_ps(a, b), to: Bits.self)
        #else
        Bits(repeating: 0).replacing(with: ~0, where: a .> b)
        #endif
    }

    /// A lane mask: all ones where `a ≤ b`, else zero (zero for NaN).
    @inline(__always)
    static func lessOrEqual(_ a: Vector, _ b: Vector) -> Bits {
        #if arch(x86_64)
        unsafeBitCast(_mm_cmple_ps(a, b), to: Bits.self)
        #else
        Bits(repeating: 0).replacing(with: ~0, where: a .<= b)
        #endif
    }

    /// `ifTrue` where `mask` is all ones, `ifFalse` where it is zero.
    @inline(__always)
    static func select(_ mask: Bits, _ ifTrue: Vector, _ ifFalse: Vector) -> Vector {
        let t = unsafeBitCast(ifTrue, to: Bits.self), f = unsafeBitCast(ifFalse, to: Bits.self)
        return unsafeBitCast((t & mask) | (f & ~mask), to: Vector.self)
    }

    // MARK: - exp and log1p

    /// eᵃ for a ≤ 0, lane by lane. Inputs below −86 are taken as −86 (e⁻⁸⁶ ≈ 4e−38, the smallest
    /// value kept normal); callers only ever add the result to 1 or divide by 1 + it.
    ///
    /// Cephes `expf`: a = n·ln 2 + r with |r| ≤ ½ln 2 (ln 2 split in two for exactness), eʳ by a
    /// degree-6 polynomial, 2ⁿ put straight into the exponent bits.
    @inline(__always)
    static func expNonPositive(_ a: Vector) -> Vector {
        let x = maximum(minimum(a, Vector(repeating: 0)), Vector(repeating: -86))
        // n = round(x·log₂e): adding 1.5·2²³ leaves the rounded integer in the low mantissa bits.
        let shifter: Float = 12_582_912
        let shifted = x * 1.442_695_04 + shifter
        let n = shifted - shifter
        let r = x - n * 0.693_359_375 - n * -2.121_944_40e-4
        let r2 = r * r
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * r2 + r + 1
        // 2ⁿ for n in −125…0: exponent field n + 127.
        let nBits = unsafeBitCast(shifted, to: Bits.self) &- shifter.bitPattern
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: Vector.self)
        return p * scale
    }

    /// log u for positive normal u, lane by lane.
    ///
    /// Cephes `logf`: u = 2ᵏ·m with m in [√½, √2), then log u = k·ln 2 + log1p(f) with f = m − 1
    /// (exact) and log1p(f) = f − f²/2 + f³·P(f), ln 2 split in two for exactness.
    @inline(__always)
    static func logPositive(_ u: Vector) -> Vector {
        let bits = unsafeBitCast(u, to: Bits.self)
        let mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: Vector.self)  // in [1, 2)
        // The biased exponent as a Float: 2²³ + e has e in its low mantissa bits.
        let exponent = unsafeBitCast((bits &>> 23) | 0x4B00_0000, to: Vector.self) - (8_388_608 + 127)
        let large = greater(mantissa, Vector(repeating: 1.414_213_56))
        let f = select(large, mantissa * 0.5, mantissa) - 1
        let k = exponent + select(large, Vector(repeating: 1), Vector(repeating: 0))
        let f2 = f * f
        var p = Vector(repeating: 7.037_683_629_2e-2)
        p = p * f - 1.151_461_031_0e-1
        p = p * f + 1.167_699_874_0e-1
        p = p * f - 1.242_014_084_6e-1
        p = p * f + 1.424_932_278_7e-1
        p = p * f - 1.666_805_766_5e-1
        p = p * f + 2.000_071_476_5e-1
        p = p * f - 2.499_999_399_3e-1
        p = p * f + 3.333_333_117_4e-1
        var y = p * f * f2
        y = y + k * -2.121_944_40e-4
        y = y - 0.5 * f2
        return f + y + k * 0.693_359_375
    }

    // MARK: - Loads and stores

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: v, as: Vector.self)
    }

    /// Runs `body` on whole vectors of `0..<count`, then once on the tail (fewer than `lanes`
    /// elements) with its `count` of valid lanes. The tail's body must not touch lanes past that.
    /// Kept apart so the compiler sees a loop of whole vectors without per-lane branches.
    @inline(__always)
    static func forEachVector(_ range: Range<Int>, _ body: (_ index: Int, _ validLanes: Int) -> Void) {
        var i = range.lowerBound
        while i + lanes <= range.upperBound {
            body(i, lanes)
            i += lanes
        }
        if i < range.upperBound { body(i, range.upperBound - i) }
    }

    /// A copy of `pointer[0..<count]` padded with `fill`, for a tail.
    @inline(never)
    static func loadPartial(_ pointer: UnsafePointer<Float>, count: Int, fill: Float = 0) -> Vector {
        var v = Vector(repeating: fill)
        for i in 0..<count { v[i] = pointer[i] }
        return v
    }

    @inline(never)
    static func storePartial(_ v: Vector, to pointer: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { pointer[i] = v[i] }
    }

    /// All ones in lanes 0..<count, zero above.
    @inline(__always)
    static func tailMask(_ count: Int) -> Bits {
        Bits(repeating: 0).replacing(with: ~0, where: Bits(0, 1, 2, 3) .< UInt32(count))
    }

    // MARK: - Bernoulli log-likelihood from logits

    /// Σ_d x_d·l_d − softplus(l_d) over one row of `dimension` logits `l` and targets `x`; with
    /// `dOutput`, also dOutput_d = scale·(x_d − σ(l_d)). The formulas of the reference,
    /// `Likelihood.bernoulliReference`: softplus(l) = max(l, 0) + log(1 + e^−|l|), and σ(l) shares
    /// that e^−|l|.
    ///
    /// One logarithm per 16 pixels of a lane, not one per pixel: Σ log(1 + e) = log Π(1 + e), and a
    /// product of 16 factors in (1, 2] stays below 2¹⁶. Its rounding (15 multiplications) costs at
    /// most about 16·2⁻²⁴ ≈ 1e−6 nats per 16 pixels, a few times Float's own rounding of the sum.
    @inline(__always)
    static func bernoulli(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, dimension: Int,
                          dOutput: UnsafeMutablePointer<Float>?, scale: Float) -> Float {
        // Two call sites, one with a gradient buffer and one without, so each inlined copy
        // compiles to a loop with the other variant's work removed.
        if let dOutput {
            return bernoulliRow(logits: logits, targets: targets, dimension: dimension, dOutput: dOutput, scale: scale)
        }
        return bernoulliRow(logits: logits, targets: targets, dimension: dimension, dOutput: nil, scale: scale)
    }

    /// Pixels per lane whose factors 1 + e are multiplied before one logarithm.
    static let pixelsPerLogarithm = 16

    @inline(__always)
    private static func bernoulliRow(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, dimension: Int,
                                     dOutput: UnsafeMutablePointer<Float>?, scale: Float) -> Float {
        var linear = Vector(repeating: 0)     // Σ x·l − max(l, 0)
        var logarithms = Vector(repeating: 0) // Σ log Π(1 + e^−|l|)
        var d = 0
        let block = pixelsPerLogarithm * lanes
        while d < dimension {
            // Up to 16 vectors, then one logarithm of their product.
            let end = min(dimension, d + block)
            var product = Vector(repeating: 1)
            while d + lanes <= end {
                let pixels = bernoulli(logits: load(logits + d), targets: load(targets + d), scale: scale)
                linear += pixels.linear
                product *= pixels.factor
                if let dOutput { store(pixels.gradient, to: dOutput + d) }
                d += lanes
            }
            if d < end {
                // The row's tail: padded lanes (l = x = 0) must add nothing.
                let count = end - d, mask = tailMask(count)
                let pixels = bernoulli(logits: loadPartial(logits + d, count: count),
                                       targets: loadPartial(targets + d, count: count), scale: scale)
                linear += select(mask, pixels.linear, Vector(repeating: 0))
                product *= select(mask, pixels.factor, Vector(repeating: 1))
                if let dOutput { storePartial(pixels.gradient, to: dOutput + d, count: count) }
                d = end
            }
            logarithms += logPositive(product)
        }
        return (linear - logarithms).sum()
    }

    /// Four pixels: x·l − max(l, 0), the factor 1 + e^−|l| whose log completes the term, and
    /// scale·(x − σ(l)).
    @inline(__always)
    static func bernoulli(logits l: Vector, targets x: Vector, scale: Float) -> (linear: Vector, factor: Vector, gradient: Vector) {
        // −|l|: set the sign bit.
        let negativeMagnitude = unsafeBitCast(unsafeBitCast(l, to: Bits.self) | 0x8000_0000, to: Vector.self)
        let e = expNonPositive(negativeMagnitude)
        // max(l, 0) and σ(l) pick by sign; at l = ±0 both branches agree.
        let negative = greater(Vector(repeating: 0), l)
        let factor = 1 + e
        let sigmoid = select(negative, e, Vector(repeating: 1)) / factor
        return (x * l - select(negative, Vector(repeating: 0), l), factor, scale * (x - sigmoid))
    }
}

// MARK: - ReLU

extension VectorMath {
    /// dY ← 0 where y ≤ 0, else unchanged: the ReLU's backward from its output, as
    /// `Activation.reluBackwardReference`. (Written as a loop, the compiler turns the select back
    /// into a branch on every sign, which mispredicts half the time.)
    @inline(__always)
    static func reluBackward(_ dY: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            store(select(lessOrEqual(load(y + i), Vector(repeating: 0)), Vector(repeating: 0), load(dY + i)), to: dY + i)
            i += lanes
        }
        while i < count {
            if y[i] <= 0 { dY[i] = 0 }
            i += 1
        }
    }
}

// MARK: - Adam

extension VectorMath {
    /// One Adam step over `range` of the flat block: the same expression, lane by lane, as the
    /// scalar reference `Optimizer.adamReference` (so the two agree bit for bit):
    ///   m′ = β₁m + (1 − β₁)g,  v′ = β₂v + (1 − β₂)g·g,  θ′ = θ − stepSize·m′/(√v′ + ε),
    /// with the bias corrections folded into `stepSize` and `epsilon` (see `Optimizer.apply`).
    @inline(__always)
    static func adam(_ range: Range<Int>, theta: UnsafePointer<Float>, gradient: UnsafePointer<Float>,
                     m: UnsafePointer<Float>, v: UnsafePointer<Float>,
                     newTheta: UnsafeMutablePointer<Float>, newM: UnsafeMutablePointer<Float>, newV: UnsafeMutablePointer<Float>,
                     beta1 b1: Float, beta2 b2: Float, stepSize: Float, epsilon: Float) {
        let oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2
        @inline(__always)
        func update(_ theta: Vector, _ g: Vector, _ m: Vector, _ v: Vector) -> (theta: Vector, m: Vector, v: Vector) {
            let mi = b1 * m + oneMinusB1 * g
            let vi = b2 * v + oneMinusB2 * g * g
            return (theta - stepSize * mi / (squareRoot(vi) + epsilon), mi, vi)
        }
        var i = range.lowerBound
        while i + lanes <= range.upperBound {
            let new = update(load(theta + i), load(gradient + i), load(m + i), load(v + i))
            store(new.theta, to: newTheta + i)
            store(new.m, to: newM + i)
            store(new.v, to: newV + i)
            i += lanes
        }
        if i < range.upperBound {
            let count = range.upperBound - i
            let new = update(loadPartial(theta + i, count: count), loadPartial(gradient + i, count: count),
                             loadPartial(m + i, count: count), loadPartial(v + i, count: count))
            storePartial(new.theta, to: newTheta + i, count: count)
            storePartial(new.m, to: newM + i, count: count)
            storePartial(new.v, to: newV + i, count: count)
        }
    }
}
