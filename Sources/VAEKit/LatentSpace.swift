import Foundation

/// The math behind the pictures of the latent space (`latent`, `manifold`, `interpolate`): where
/// a split's examples land, a plane to look at them in, how far they spread against the prior,
/// the Gaussian's quantiles for Kingma & Welling's grid, and the paths between two codes.
///
/// Everything here is in Double and does no I/O; the commands only render. Shapes: N examples,
/// Z latent dimensions.

/// The posterior means E_q[z|x] = μ(x) of a set of examples, and optionally one draw z ~ q(z|x)
/// of each.
public struct LatentCodes: Sendable, Equatable {
    /// Z.
    public let latentSize: Int
    /// (N, Z) row-major: μ of example n is `means[n·Z ..< (n+1)·Z]`.
    public var means: [Double]
    /// (N, Z) row-major, z = μ + σ ⊙ ε with ε ~ N(0, I); nil unless asked for.
    public var draws: [Double]?

    public init(latentSize: Int, means: [Double], draws: [Double]? = nil) {
        precondition(latentSize >= 1 && means.count % latentSize == 0, "LatentCodes: \(means.count) values for Z = \(latentSize)")
        precondition(draws.map { $0.count == means.count } ?? true, "LatentCodes: draws and means differ in size")
        self.latentSize = latentSize
        self.means = means
        self.draws = draws
    }

    /// N.
    public var count: Int { means.count / latentSize }

    /// μ of example `n` (Z).
    public func mean(_ n: Int) -> [Double] { Array(means[(n * latentSize)..<((n + 1) * latentSize)]) }
}

/// How far the posterior means spread in each latent dimension, against the prior N(0, 1).
///
/// When the means fill the prior, each dimension's means have a mean near 0 and a standard
/// deviation a little under 1 (the rest of the prior's variance is the posterior's own σ²: by the
/// law of total variance, Var(z_d) = Var_x(μ_d) + E_x[σ_d²], which is 1 when the aggregate
/// posterior matches the prior). A collapsed dimension has means that do not move: a standard
/// deviation near 0. The variance here is Burda et al.'s A_d (`LatentActivity`), squared-rooted.
public struct LatentSpread: Sendable, Equatable {
    /// The mean over the examples of μ_d (Z), in latent units.
    public var center: [Double]
    /// The standard deviation over the examples of μ_d (Z), N − 1 denominator, in latent units.
    public var standardDeviation: [Double]
    /// The smallest and largest μ_d (Z).
    public var minimum: [Double]
    public var maximum: [Double]
    public var examples: Int

    /// The spread of `codes`' means (two passes in Double: the mean, then the squared deviations).
    public init(_ codes: LatentCodes) {
        let latent = codes.latentSize, count = codes.count
        var center = [Double](repeating: 0, count: latent)
        var minimum = [Double](repeating: .infinity, count: latent), maximum = [Double](repeating: -.infinity, count: latent)
        for n in 0..<count {
            for d in 0..<latent {
                let value = codes.means[n * latent + d]
                center[d] += value
                minimum[d] = min(minimum[d], value)
                maximum[d] = max(maximum[d], value)
            }
        }
        center = center.map { $0 / Double(max(1, count)) }
        var squares = [Double](repeating: 0, count: latent)
        for n in 0..<count {
            for d in 0..<latent {
                let deviation = codes.means[n * latent + d] - center[d]
                squares[d] += deviation * deviation
            }
        }
        self.center = center
        standardDeviation = squares.map { (count > 1 ? $0 / Double(count - 1) : 0).squareRoot() }
        self.minimum = count > 0 ? minimum : center
        self.maximum = count > 0 ? maximum : center
        examples = count
    }
}

/// Two directions in latent space to look at the codes along: two chosen dimensions, or the two
/// principal axes of the means (the eigenvectors of their covariance with the largest eigenvalues).
public struct LatentPlane: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Unit vectors e_x and e_y.
        case dimensions(Int, Int)
        /// The first two principal axes of the means.
        case principalAxes
    }

    public let kind: Kind
    /// Unit vectors (Z each), orthogonal to each other.
    public let xAxis: [Double]
    public let yAxis: [Double]
    /// For principal axes: the fraction of the means' total variance each axis explains; for
    /// dimensions, each dimension's share of the total variance.
    public let explained: (x: Double, y: Double)

    public static func == (a: LatentPlane, b: LatentPlane) -> Bool {
        a.kind == b.kind && a.xAxis == b.xAxis && a.yAxis == b.yAxis && a.explained == b.explained
    }

    /// The plane of dimensions `x` and `y` of Z-dimensional codes (each in 0..<Z, different when Z > 1).
    public static func dimensions(_ x: Int, _ y: Int, of codes: LatentCodes) -> LatentPlane {
        let latent = codes.latentSize
        precondition((0..<latent).contains(x) && (0..<latent).contains(y), "LatentPlane: dimensions \(x), \(y) of \(latent)")
        var xAxis = [Double](repeating: 0, count: latent), yAxis = xAxis
        xAxis[x] = 1
        yAxis[y] = 1
        let covariance = Self.covariance(codes)
        let total = (0..<latent).reduce(0) { $0 + covariance[$1 * latent + $1] }
        return LatentPlane(kind: .dimensions(x, y), xAxis: xAxis, yAxis: yAxis,
                           explained: total > 0 ? (covariance[x * latent + x] / total, covariance[y * latent + y] / total) : (0, 0))
    }

    /// The two principal axes of the codes' means (Z ≥ 2). Each axis's sign makes its largest
    /// component positive, so the picture does not flip between runs.
    public static func principalAxes(of codes: LatentCodes) -> LatentPlane {
        let latent = codes.latentSize
        precondition(latent >= 2, "principalAxes: needs Z ≥ 2")
        let covariance = Self.covariance(codes)
        let (values, vectors) = SymmetricEigen.decompose(covariance, size: latent)
        let order = values.indices.sorted { values[$0] > values[$1] }
        func axis(_ k: Int) -> [Double] {
            var v = (0..<latent).map { vectors[$0 * latent + order[k]] }
            let largest = v.indices.max { abs(v[$0]) < abs(v[$1]) } ?? 0
            if v[largest] < 0 { v = v.map { -$0 } }
            return v
        }
        let total = values.reduce(0) { $0 + max(0, $1) }
        let explained = total > 0 ? (max(0, values[order[0]]) / total, max(0, values[order[1]]) / total) : (0, 0)
        return LatentPlane(kind: .principalAxes, xAxis: axis(0), yAxis: axis(1), explained: explained)
    }

    /// The coordinates of a code (Z) in the plane: its dot products with the axes. Principal axes
    /// are taken through the origin (the prior's centre), not the means' centre, so the prior's
    /// circles stay centred and of radius 1 and 2: the axes are orthonormal.
    public func project(_ z: ArraySlice<Double>) -> (x: Double, y: Double) {
        var x = 0.0, y = 0.0
        for (offset, value) in z.enumerated() {
            x += xAxis[offset] * value
            y += yAxis[offset] * value
        }
        return (x, y)
    }

    /// Every row of `values` (N, Z) projected: (N) x's and y's.
    public func project(_ values: [Double], latentSize: Int) -> (x: [Double], y: [Double]) {
        let count = values.count / latentSize
        var xs = [Double](repeating: 0, count: count), ys = xs
        for n in 0..<count {
            (xs[n], ys[n]) = project(values[(n * latentSize)..<((n + 1) * latentSize)])
        }
        return (xs, ys)
    }

    /// The means' covariance (Z, Z), row-major, N − 1 denominator.
    static func covariance(_ codes: LatentCodes) -> [Double] {
        let latent = codes.latentSize, count = codes.count
        let center = LatentSpread(codes).center
        var covariance = [Double](repeating: 0, count: latent * latent)
        guard count > 1 else { return covariance }
        for n in 0..<count {
            let row = (0..<latent).map { codes.means[n * latent + $0] - center[$0] }
            for i in 0..<latent {
                for j in i..<latent { covariance[i * latent + j] += row[i] * row[j] }
            }
        }
        for i in 0..<latent {
            for j in i..<latent {
                covariance[i * latent + j] /= Double(count - 1)
                covariance[j * latent + i] = covariance[i * latent + j]
            }
        }
        return covariance
    }
}

/// The eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations.
///
/// Z is at most a few hundred, and Jacobi is accurate to round-off for symmetric matrices, needs
/// no LAPACK, and its result is easy to check (A·v = λ·v); it converges quadratically, a handful
/// of sweeps in practice.
enum SymmetricEigen {
    /// The eigenvalues (n) and the eigenvectors as the columns of an (n, n) row-major matrix.
    static func decompose(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) values for \(n)×\(n)")
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(1e-300, a.reduce(0) { $0 + $1 * $1 }.squareRoot())
        for _ in 0..<100 {
            var offDiagonal = 0.0
            for i in 0..<n { for j in 0..<n where i != j { offDiagonal += a[i * n + j] * a[i * n + j] } }
            if offDiagonal.squareRoot() <= 1e-15 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p * n + q] != 0 {
                    // The rotation that zeroes a[p][q] (Golub & Van Loan, algorithm 8.4.1).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {  // A ← A·J
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {  // A ← Jᵀ·A
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {  // V ← V·J
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}

/// The standard normal distribution's quantile function and the grids built on it.
public enum NormalQuantile {
    /// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error 1.15e-9) refined
    /// by one Halley step on Φ(x) − p through erfc, which brings it to about 1e-15.
    public static func inverse(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "NormalQuantile.inverse: p = \(p) is not in (0, 1)")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        // Halley: e = Φ(x) − p, u = e·√(2π)·exp(x²/2), x ← x − u / (1 + x·u/2).
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// Φ(x), for tests and labels.
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// `count` values of z at the N(0, 1) quantiles of evenly spaced probabilities (i + ½)/count,
    /// i = 0…count−1, as Kingma & Welling lay out their Figure 4 grid ("linearly spaced
    /// coordinates on the unit square transformed through the inverse CDF of the Gaussian"): equal
    /// prior mass between neighbours, never the infinite ends.
    public static func grid(count: Int) -> [Double] {
        precondition(count >= 1, "NormalQuantile.grid: count \(count)")
        return (0..<count).map { inverse((Double($0) + 0.5) / Double(count)) }
    }

    /// `count` evenly spaced values from −range to +range (count ≥ 2), as the Keras example's
    /// `plot_latent_space` does (linspace(−scale, scale)); one value is 0.
    public static func linear(count: Int, range: Double) -> [Double] {
        precondition(count >= 1 && range > 0, "NormalQuantile.linear: count \(count), range \(range)")
        guard count > 1 else { return [0] }
        return (0..<count).map { -range + 2 * range * Double($0) / Double(count - 1) }
    }
}

/// Paths between two latent codes.
public enum LatentPath {
    /// (1 − t)·a + t·b.
    public static func linear(_ a: [Double], _ b: [Double], t: Double) -> [Double] {
        precondition(a.count == b.count, "LatentPath.linear: \(a.count) and \(b.count) dimensions")
        return zip(a, b).map { (1 - t) * $0 + t * $1 }
    }

    /// Spherical linear interpolation (Shoemake 1985; for latent spaces, White 2016, "Sampling
    /// Generative Networks"): sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, where Ω is the angle
    /// between a and b. A straight line in a Gaussian latent space passes near the origin, where
    /// the prior puts codes of atypically small norm; slerp keeps the norm in between the ends'
    /// when they are equal. When Ω is under 1e-6, or either end is 0, or a and b point in
    /// opposite directions (the great circle is not unique), it falls back to the straight line.
    public static func slerp(_ a: [Double], _ b: [Double], t: Double) -> [Double] {
        precondition(a.count == b.count, "LatentPath.slerp: \(a.count) and \(b.count) dimensions")
        let normA = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), normB = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard normA > 0, normB > 0 else { return linear(a, b, t: t) }
        let cosine = min(1, max(-1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (normA * normB)))
        let omega = acos(cosine)
        guard omega > 1e-6, Double.pi - omega > 1e-6 else { return linear(a, b, t: t) }
        let wa = sin((1 - t) * omega) / sin(omega), wb = sin(t * omega) / sin(omega)
        return zip(a, b).map { wa * $0 + wb * $1 }
    }
}

extension VAE {
    /// The posterior means μ(x) of `indices` of `source` (all of it when nil), and with `draws`
    /// one z = μ + σ ⊙ ε of each, ε ~ N(0, I) from `draws`. Only the encoder runs, in chunks, in
    /// evaluation mode. Returns nil when `shouldStop` answers true between chunks.
    public func latentCodes(_ source: any ExampleSource, indices: [Int]? = nil, draws: RandomSource? = nil,
                            shouldStop: () -> Bool = { false }) -> LatentCodes? {
        precondition(source.dimension == inputSize, "latentCodes: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        let latent = latentSize
        var means = [Double](), drawn: [Double]? = draws == nil ? nil : []
        means.reserveCapacity(chosen.count * latent)
        var random = draws
        let finished = forEachPosterior(source, indices: chosen, shouldStop: shouldStop) { posterior, rows in
            for n in 0..<rows {
                for d in 0..<latent {
                    let mu = Double(posterior.mean[n, d])
                    means.append(mu)
                    if random != nil, let epsilon = random?.normal() {
                        drawn?.append(mu + exp(Double(posterior.logVariance[n, d]) / 2) * epsilon)
                    }
                }
            }
        }
        return finished ? LatentCodes(latentSize: latent, means: means, draws: drawn) : nil
    }

    /// Runs the encoder over `indices` of `source` in chunks (evaluation mode) and hands `body`
    /// each chunk's μ (rows, Z) and log σ² (rows, Z) with its row count; false when `shouldStop`
    /// answered true between chunks. What `latentCodes` and `latentActivity` share.
    func forEachPosterior(_ source: any ExampleSource, indices chosen: [Int], shouldStop: () -> Bool,
                          _ body: ((mean: Matrix<T>, logVariance: Matrix<T>), Int) -> Void) -> Bool {
        let chunk = max(1, min(evaluationChunk(samples: 1), chosen.count))
        let batch = Matrix<T>(rows: chunk, columns: inputSize)
        var start = 0
        while start < chosen.count {
            if shouldStop() { return false }
            let rows = min(chunk, chosen.count - start)
            source.fillBatch(chosen[start..<start + rows], into: batch, epoch: 0)
            body(encodeMean(batch, rows: rows), rows)
            start += rows
        }
        return true
    }
}
