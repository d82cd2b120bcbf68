/// How much each latent dimension is used across a data set: the active units of Burda, Grosse
/// & Salakhutdinov (2016, "Importance Weighted Autoencoders", section 5.2).
///
/// Dimension d is active when A_d = Cov_x(E_q(z|x)[z_d]) > 0.01: the encoder's mean μ_d(x)
/// moves from example to example, so z_d says something about x. One example's KL cannot tell
/// this: a dimension can sit near the prior for one image and carry information for others. The
/// data-averaged KL of each dimension is given beside it, since the two can disagree (a dimension
/// whose σ shrinks while μ stays put costs KL and carries nothing).
public struct LatentActivity: Sendable, Equatable {
    /// A_d = Cov_x(μ_d(x)) per dimension (Z): the variance over the examples of the posterior
    /// mean, with the N − 1 denominator. In latent units squared (the prior's variance is 1).
    public var activity: [Double]
    /// KL(q(z_d|x) ‖ p(z_d)) per dimension (Z), averaged over the examples, in nats. The closed
    /// form: no draws of z are involved.
    public var meanKL: [Double]
    /// N: the examples the statistics are over.
    public var examples: Int

    /// Burda et al.'s threshold on A_d.
    public static let threshold = 0.01

    public init(activity: [Double], meanKL: [Double], examples: Int) {
        self.activity = activity
        self.meanKL = meanKL
        self.examples = examples
    }

    /// Whether dimension `d` is active: A_d > `threshold`.
    public func isActive(_ d: Int) -> Bool { activity[d] > Self.threshold }

    /// How many dimensions are active.
    public var activeCount: Int { activity.indices.filter(isActive).count }
}

extension VAE {
    /// The activity A_d and the average KL of every latent dimension over `indices` of `source`
    /// (all of it when nil). Only the encoder runs, in chunks; Welford's update keeps the variance
    /// exact in Double whatever the order of magnitude of μ. Returns nil when `shouldStop`
    /// answers true between chunks, or for no examples.
    public func latentActivity(_ source: any ExampleSource, indices: [Int]? = nil,
                               shouldStop: () -> Bool = { false }) -> LatentActivity? {
        precondition(source.dimension == inputSize, "latentActivity: data has \(source.dimension) values per example, model \(inputSize)")
        let chosen = indices ?? Array(0..<source.exampleCount)
        guard !chosen.isEmpty else { return nil }
        let latent = latentSize
        var mean = [Double](repeating: 0, count: latent)
        var squares = [Double](repeating: 0, count: latent)  // Σ (μ − running mean)², Welford's M2
        var klSum = [Double](repeating: 0, count: latent)
        var seen = 0
        let finished = forEachPosterior(source, indices: chosen, shouldStop: shouldStop) { posterior, rows in
            for n in 0..<rows {
                seen += 1
                let mu = (0..<latent).map { Double(posterior.mean[n, $0]) }
                let kl = Divergence.klPerDimension(mean: mu, logVariance: (0..<latent).map { Double(posterior.logVariance[n, $0]) })
                for d in 0..<latent {
                    let delta = mu[d] - mean[d]
                    mean[d] += delta / Double(seen)
                    squares[d] += delta * (mu[d] - mean[d])
                    klSum[d] += kl[d]
                }
            }
        }
        guard finished else { return nil }
        let denominator = Double(max(1, seen - 1))
        return LatentActivity(activity: squares.map { $0 / denominator }, meanKL: klSum.map { $0 / Double(seen) }, examples: seen)
    }
}
