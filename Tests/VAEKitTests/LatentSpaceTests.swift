import Foundation
import Testing
@testable import VAEKit

/// The math behind `latent`, `manifold` and `interpolate`, in Double: the codes, their spread, the
/// principal axes, the Gaussian's quantiles and the paths between two codes.
@Suite("Latent space")
struct LatentSpaceTests {
    // The small model and uniform data of the activity tests: A_d there is the spread² here.
    static func model() throws -> VAE<Double> { try LatentActivityTests.model() }
    static func data(rows: Int, seed: UInt64) -> Matrix<Double> { LatentActivityTests.data(rows: rows, seed: seed) }

    static func norm(_ v: [Double]) -> Double {
        v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    @Test func codesAreThePosteriorMeansExampleByExample() throws {
        let model = try Self.model()
        let x = Self.data(rows: 300, seed: 1)
        let indices = [7, 3, 299, 0]
        let codes = try #require(model.latentCodes(x, indices: indices))
        #expect(codes.count == 4 && codes.latentSize == 3 && codes.draws == nil)
        for (n, index) in indices.enumerated() {
            let posterior = model.posterior(x, index: index)
            for d in 0..<3 { #expect(abs(codes.mean(n)[d] - posterior.mean[d]) <= 1e-12) }
        }
    }

    @Test func drawsScatterAroundTheMeansWithThePosteriorsSpread() throws {
        // One example repeated 4,000 times: the draws of dimension d have mean μ_d and variance σ_d².
        // The sample mean's standard error is σ/√4000 ≈ 0.016σ; 5 of them is 0.08σ. The sample
        // variance's relative standard error is √(2/3999) ≈ 0.022; 5 of them is 0.11.
        let model = try Self.model()
        let one = Self.data(rows: 1, seed: 2)
        let x = Matrix<Double>(rows: 4000, columns: 6, elements: Array((0..<4000).map { _ in one.elements }.joined()))
        let codes = try #require(model.latentCodes(x, draws: RandomSource(seed: 9)))
        let draws = try #require(codes.draws)
        let posterior = model.posterior(one, index: 0)
        for d in 0..<3 {
            let sigma = exp(posterior.logVariance[d] / 2)
            let values = (0..<4000).map { draws[$0 * 3 + d] }
            let mean = values.reduce(0, +) / 4000
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3999
            #expect(abs(mean - posterior.mean[d]) <= 5 * sigma / 4000.0.squareRoot())
            #expect(abs(variance / (sigma * sigma) - 1) <= 5 * (2.0 / 3999).squareRoot())
        }
    }

    @Test func stoppingBetweenChunksGivesNothing() throws {
        let model = try Self.model()
        #expect(model.latentCodes(Self.data(rows: 10, seed: 3), shouldStop: { true }) == nil)
    }

    @Test func spreadIsTheMeanAndStandardDeviationOfEachDimensionsMeans() {
        // By hand: dimension 0 takes 1, 2, 3, 6 (mean 3, squared deviations 4+1+0+9 = 14, /3);
        // dimension 1 is constant 0.5: no spread, a collapsed dimension.
        let codes = LatentCodes(latentSize: 2, means: [1, 0.5, 2, 0.5, 3, 0.5, 6, 0.5])
        let spread = LatentSpread(codes)
        #expect(spread.center == [3, 0.5])
        #expect(abs(spread.standardDeviation[0] - (14.0 / 3).squareRoot()) <= 1e-15)
        #expect(spread.standardDeviation[1] == 0)
        #expect(spread.minimum == [1, 0.5] && spread.maximum == [6, 0.5])
        #expect(spread.examples == 4)
    }

    @Test func principalAxesAreTheCovariancesLeadingEigenvectors() {
        // Points along the direction (3, 4)/5 with a small spread across it, in the first two of
        // three dimensions; the third is constant. The first axis is (0.6, 0.8, 0), the second
        // (−0.8, 0.6, 0) up to its sign, which is fixed so the largest component is positive.
        var random = RandomSource(seed: 4)
        var means: [Double] = []
        for _ in 0..<500 {
            let along = 2 * random.normal(), across = 0.1 * random.normal()
            means += [0.6 * along - 0.8 * across, 0.8 * along + 0.6 * across, 0.25]
        }
        let codes = LatentCodes(latentSize: 3, means: means)
        let plane = LatentPlane.principalAxes(of: codes)
        #expect(plane.kind == .principalAxes)
        // The sample covariance's leading eigenvector tilts from the true one by about
        // (spread across / spread along)/√N = 0.05/√500 ≈ 0.002 radians; 0.01 is five of those.
        #expect(abs(plane.xAxis[0] - 0.6) < 0.01 && abs(plane.xAxis[1] - 0.8) < 0.01 && abs(plane.xAxis[2]) < 1e-9)
        #expect(abs(plane.yAxis[0] - 0.8) < 0.01 && abs(plane.yAxis[1] + 0.6) < 0.01 && abs(plane.yAxis[2]) < 1e-9)
        // Orthonormal to round-off.
        let dot = zip(plane.xAxis, plane.yAxis).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(dot) < 1e-12)
        #expect(abs(Self.norm(plane.xAxis) - 1) < 1e-12)
        // Explained variance: 4 / (4 + 0.01) along the first axis, in expectation.
        #expect(plane.explained.x > 0.99 && plane.explained.x + plane.explained.y <= 1 + 1e-12)
    }

    @Test func jacobiSatisfiesTheEigenEquationOnARandomSymmetricMatrix() {
        var random = RandomSource(seed: 8)
        let n = 7
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { a[i * n + j] = random.normal(); a[j * n + i] = a[i * n + j] } }
        let (values, vectors) = SymmetricEigen.decompose(a, size: n)
        for k in 0..<n {
            for i in 0..<n {
                let av = (0..<n).reduce(0) { $0 + a[i * n + $1] * vectors[$1 * n + k] }
                #expect(abs(av - values[k] * vectors[i * n + k]) < 1e-12)
            }
        }
        // The trace is the sum of the eigenvalues.
        let trace: Double = (0..<n).reduce(0) { $0 + a[$1 * n + $1] }
        let sum: Double = values.reduce(0, +)
        #expect(abs(sum - trace) < 1e-12)
    }

    @Test func dimensionPlaneProjectsOntoTheChosenDimensions() {
        let codes = LatentCodes(latentSize: 3, means: [1, 2, 3, -1, 0, 5])
        let plane = LatentPlane.dimensions(2, 0, of: codes)
        let (xs, ys) = plane.project(codes.means, latentSize: 3)
        #expect(xs == [3, 5] && ys == [1, -1])
        // Variances 2, 2 and 2 of a total 6: a third each.
        #expect(abs(plane.explained.x - 1.0 / 3) < 1e-15 && abs(plane.explained.y - 1.0 / 3) < 1e-15)
    }

    @Test func quantilesInvertTheNormalCDF() {
        // Known values: Φ⁻¹(0.975) = 1.959963984540054, Φ⁻¹(0.5) = 0, Φ⁻¹(0.8413447460685429) = 1.
        #expect(abs(NormalQuantile.inverse(0.975) - 1.959963984540054) < 1e-14)
        #expect(abs(NormalQuantile.inverse(0.5)) < 1e-15)
        #expect(abs(NormalQuantile.inverse(0.8413447460685429) - 1) < 1e-13)
        // The round trip, in both tails and the middle, to a relative 1e-13.
        for p in [1e-12, 1e-6, 0.001, 0.02, 0.03, 0.3, 0.7, 0.97, 0.99, 0.999999] {
            let x = NormalQuantile.inverse(p)
            let back = p < 0.5 ? NormalQuantile.cdf(x) : 1 - NormalQuantile.cdf(-x)
            #expect(abs(back - p) <= 1e-13 * min(p, 1 - p) + 1e-300, "p = \(p)")
        }
    }

    @Test func kingmaWellingGridHasEqualPriorMassBetweenNeighbours() {
        let grid = NormalQuantile.grid(count: 5)
        // Probabilities 0.1, 0.3, 0.5, 0.7, 0.9: symmetric about 0, the middle exactly 0.
        #expect(abs(grid[2]) < 1e-15)
        #expect(abs(grid[0] + grid[4]) < 1e-14 && abs(grid[1] + grid[3]) < 1e-14)
        #expect(abs(grid[4] - 1.2815515655446004) < 1e-13)
        for k in 1..<5 { #expect(abs(NormalQuantile.cdf(grid[k]) - NormalQuantile.cdf(grid[k - 1]) - 0.2) < 1e-13) }
        #expect(NormalQuantile.linear(count: 5, range: 2) == [-2, -1, 0, 1, 2])
    }

    @Test func slerpKeepsTheNormOfEqualLengthEndsAndMatchesTheEnds() {
        let a = [3.0, 0, 0], b = [0.0, 3, 0]
        let start = LatentPath.slerp(a, b, t: 0), end = LatentPath.slerp(a, b, t: 1)
        #expect(Self.norm(zip(start, a).map { $0 - $1 }) < 1e-15)
        #expect(Self.norm(zip(end, b).map { $0 - $1 }) < 1e-15)
        for t in stride(from: 0.0, through: 1, by: 0.125) {
            let point = LatentPath.slerp(a, b, t: t)
            #expect(abs(Self.norm(point) - 3) < 1e-14)
            // Halfway along the arc, the angle to each end is 45°.
            if t == 0.5 { #expect(abs(point[0] - point[1]) < 1e-14 && point[0] > 0) }
        }
        // The straight line's middle has norm 3/√2: what slerp avoids.
        let middle = LatentPath.linear(a, b, t: 0.5)
        #expect(abs(Self.norm(middle) - 3 / 2.0.squareRoot()) < 1e-14)
        // Opposite or zero ends fall back to the line.
        #expect(LatentPath.slerp([1, 0], [-1, 0], t: 0.25) == LatentPath.linear([1, 0], [-1, 0], t: 0.25))
        #expect(LatentPath.slerp([0, 0], [1, 2], t: 0.5) == [0.5, 1])
    }
}
