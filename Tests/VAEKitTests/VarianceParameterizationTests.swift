import Testing
@testable import VAEKit

/// The four ways a head can give σ (`VarianceParameterization`): each map and its derivative by
/// hand, and every parameter's gradient through each, split and two-Linear heads, against central
/// finite differences in Double (tolerance as `GradientTests`).
@Suite("Variance parameterisations (log σ², log σ, σ, softplus σ)")
struct VarianceParameterizationTests {
    /// σ from the raw head value h, written the obvious way (the reference for the engine's map).
    static func sigma(_ variance: VarianceParameterization, _ h: Double) -> Double {
        switch variance {
        case .logvar: Foundation.exp(h / 2)
        case .logstd: Foundation.exp(h)
        case .std: h
        case .softplusStd: h > 20 ? h : Foundation.log(1 + Foundation.exp(h))
        }
    }

    @Test(arguments: VarianceParameterization.allCases)
    func mapAndDerivativeByHand(_ variance: VarianceParameterization) {
        for h in [0.05, 0.3, 1.0, 2.5, 7.0, 25.0] where variance != .logvar || h < 20 {
            let expected = 2 * Foundation.log(Self.sigma(variance, h))
            #expect(abs(variance.logVariance(fromHead: h) - expected) < 1e-12, "\(variance) h=\(h)")
            // The derivative, a function of σ only, against a central difference of the map.
            let step = 1e-6
            let numeric = (variance.logVariance(fromHead: h + step) - variance.logVariance(fromHead: h - step)) / (2 * step)
            let analytic = variance.dLogVarianceDHead(sigma: Self.sigma(variance, h))
            #expect(abs(analytic - numeric) < 1e-7 * max(1, abs(numeric)), "\(variance) h=\(h): \(analytic) vs \(numeric)")
        }
        // Negative heads: only σ = h refuses them, with NaN rather than an invented σ.
        #expect(VarianceParameterization.std.logVariance(fromHead: -0.5 as Double).isNaN)
        #expect(VarianceParameterization.softplusStd.logVariance(fromHead: -3.0 as Double).isFinite)
    }

    static func architecture(_ variance: VarianceParameterization, head: LatentHead) -> VAEArchitecture {
        VAEArchitecture(input: .vector(6), encoder: [.Linear(6, 5), .Softplus()] + (head == .split ? [.Linear(5, 6)] : []),
                        head: head, latentSize: 3, decoder: [.Linear(3, 4), .tanh, .Linear(4, 6)], variance: variance)
    }

    /// The closed-form KL of one example, from the raw head by hand: ½ Σ (μ² + σ² − 1 − log σ²).
    @Test(arguments: VarianceParameterization.allCases)
    func klFollowsTheParameterisation(_ variance: VarianceParameterization) throws {
        var random = RandomSource(seed: 3)
        let model = try VAE<Double>(Self.architecture(variance, head: .split), random: &random)
        let x = randomMatrix(1, 6, seed: 4)
        // The raw head before the pass: σ's half made positive (σ = h needs it).
        let raw = rawHead(model, x)
        let kl = (0..<3).reduce(0.0) { sum, j in
            let sigma = Self.sigma(variance, raw[3 + j])
            return sum + 0.5 * (raw[j] * raw[j] + sigma * sigma - 1 - 2 * Foundation.log(sigma))
        }
        var draw = RandomSource(seed: 9)
        let value = model.objective(x, rows: 1, weights: .klOnly, random: &draw, mode: .evaluation)
        #expect(abs(value - kl) < 1e-12 * max(1, kl), "\(variance): \(value) vs \(kl)")
        let encoded = model.encodeMean(x, rows: 1).logVariance
        for j in 0..<3 { #expect(abs(encoded[0, j] - 2 * Foundation.log(Self.sigma(variance, raw[3 + j]))) < 1e-12) }
    }

    @Test(arguments: VarianceParameterization.allCases)
    func everyParameterEveryTerm(_ variance: VarianceParameterization) throws {
        for head in LatentHead.allCases {
            var random = RandomSource(seed: 11)
            let model = try VAE<Double>(Self.architecture(variance, head: head), random: &random)
            makeSigmaHeadPositive(model, head: head)
            let x = randomMatrix(3, 6, seed: 12)
            for weights in [ObjectiveWeights.reconstructionOnly, .klOnly, .loss()] {
                for (slot, error) in gradientErrors(model, x, rows: 3, samples: 2, weights: weights, seed: 13) {
                    #expect(error < GradientTests.tolerance, "\(variance) \(head) \(weights) \(slot): error \(error)")
                }
            }
        }
    }

    /// The σ half of the head is given a bias of 0.8 and small weights, so every raw value is
    /// positive (σ = h needs it) and inside the clamp for all four maps.
    private func makeSigmaHeadPositive(_ model: VAE<Double>, head: LatentHead) {
        let names = head == .split ? ("encoder.2.weight", "encoder.2.bias", 3) : ("fc22.weight", "fc22.bias", 0)
        guard let weight = model.parameters.slot(named: names.0), let bias = model.parameters.slot(named: names.1) else {
            Issue.record("no head slots in \(model.parameters.slots.map(\.name))")
            return
        }
        let weights = model.parameters.values(of: weight), biases = model.parameters.values(of: bias)
        let width = weight.shape[1]
        for j in names.2..<names.2 + 3 {
            for i in 0..<width { weights[j * width + i] *= 0.1 }
            biases[j] = 0.8
        }
    }

    /// The head's raw output (2Z) for one example, after making σ's half positive.
    private func rawHead(_ model: VAE<Double>, _ x: Matrix<Double>) -> [Double] {
        makeSigmaHeadPositive(model, head: .split)
        let activations = model.evaluationPass(model.encoder, input: x, rows: 1)
        return withExtendedLifetime(activations) { (0..<6).map { activations.output.pointer[$0] } }
    }
}

import Foundation
