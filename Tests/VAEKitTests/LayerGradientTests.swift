import Testing
@testable import VAEKit

/// Every layer type and option, on its own: each parameter's gradient and the input gradient
/// against central finite differences of Σ output ⊙ R (R random), in Double.
///
/// Tolerance 1e-6 on |analytic − numeric| / max(1, |numeric|): with h = 1e-5 the difference
/// quotient's truncation error is O(h²·f‴) ≈ 1e-10 and its rounding error O(ε·|f|/h) ≈ 1e-10
/// (|f| ≲ 10 here), so a correct backward pass passes with a margin of 10⁴, and a wrong one (a
/// missing term, a flipped kernel, a wrong stride) is off by order 1.
@Suite("Gradient checks per layer (finite differences, Double)")
struct LayerGradientTests {
    static let tolerance = 1e-6

    /// A case: the layers, the input shape and the mode.
    struct Case: CustomStringConvertible, Sendable {
        let layers: [LayerSpec]
        let input: ExampleShape
        var mode: LayerMode = .training(updateStatistics: false)
        var description: String { layers.map(\.description).joined(separator: " ") + " on \(input.text)" + (mode == .evaluation ? " (eval)" : "") }
    }

    static let convolutions: [Case] = [
        Case(layers: [.Conv2d(2, 3, 3)], input: .image(channels: 2, height: 6, width: 7)),
        Case(layers: [.Conv2d(2, 3, 3, stride: 2)], input: .image(channels: 2, height: 7, width: 8)),
        Case(layers: [.Conv2d(2, 3, 3, stride: 2, padding: .explicit(1))], input: .image(channels: 2, height: 6, width: 6)),
        Case(layers: [.Conv2d(2, 3, SpatialPair(2, 3), stride: SpatialPair(2, 1), padding: .explicit(SpatialPair(1, 2)))],
             input: .image(channels: 2, height: 5, width: 6)),
        Case(layers: [.Conv2d(2, 2, 3, dilation: 2)], input: .image(channels: 2, height: 7, width: 6)),
        Case(layers: [.Conv2d(2, 3, 3, bias: false)], input: .image(channels: 2, height: 5, width: 5)),
        Case(layers: [.Conv2d(2, 3, 3, padding: .same)], input: .image(channels: 2, height: 5, width: 4)),
        Case(layers: [.Conv2d(1, 2, 4, padding: .same)], input: .image(channels: 1, height: 5, width: 6)),
        Case(layers: [.Conv2d(2, 3, 3, padding: .valid)], input: .image(channels: 2, height: 5, width: 5)),
        Case(layers: [.Conv2d(3, 2, 1)], input: .image(channels: 3, height: 4, width: 5)),
        Case(layers: [.ConvTranspose2d(2, 3, 3)], input: .image(channels: 2, height: 4, width: 5)),
        Case(layers: [.ConvTranspose2d(2, 3, 3, stride: 2)], input: .image(channels: 2, height: 3, width: 4)),
        Case(layers: [.ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, outputPadding: 1)], input: .image(channels: 2, height: 3, width: 3)),
        Case(layers: [.ConvTranspose2d(2, 2, SpatialPair(2, 3), stride: SpatialPair(1, 2), padding: SpatialPair(0, 1))],
             input: .image(channels: 2, height: 3, width: 4)),
        Case(layers: [.ConvTranspose2d(2, 2, 3, stride: 2, outputPadding: 1, dilation: 2)], input: .image(channels: 2, height: 3, width: 3)),
        Case(layers: [.ConvTranspose2d(2, 3, 3, bias: false)], input: .image(channels: 2, height: 3, width: 3)),
        Case(layers: [.ConvTranspose2d(3, 2, 1)], input: .image(channels: 3, height: 4, width: 3)),
    ]

    static let others: [Case] = [
        Case(layers: [.Linear(5, 3)], input: .vector(5)),
        Case(layers: [.Linear(5, 3, bias: false)], input: .vector(5)),
        Case(layers: [.BatchNorm1d(5)], input: .vector(5)),
        Case(layers: [.BatchNorm1d(5, affine: false)], input: .vector(5)),
        Case(layers: [.BatchNorm1d(5)], input: .vector(5), mode: .evaluation),
        Case(layers: [.BatchNorm2d(3)], input: .image(channels: 3, height: 4, width: 3)),
        Case(layers: [.BatchNorm2d(3, affine: false)], input: .image(channels: 3, height: 3, width: 2)),
        Case(layers: [.BatchNorm2d(3, eps: 0.1)], input: .image(channels: 3, height: 2, width: 3), mode: .evaluation),
        Case(layers: [.Conv2d(2, 3, 3, stride: 2), .flatten, .Linear(12, 4)], input: .image(channels: 2, height: 5, width: 6)),
        Case(layers: [.Linear(3, 8), .Unflatten(2, 2, 2), .ConvTranspose2d(2, 1, 3, stride: 2)], input: .vector(3)),
        Case(layers: [.Conv2d(2, 3, 3), .BatchNorm2d(3), .relu, .Conv2d(3, 2, 2)], input: .image(channels: 2, height: 6, width: 6)),
    ]

    /// Each activation alone (out of place, reading its input) and after a Linear (in place where
    /// its derivative comes from its output).
    static let activations: [LayerSpec] = [
        .relu, .LeakyReLU(negativeSlope: 0.2), .LeakyReLU(negativeSlope: -0.3), .ELU(), .ELU(alpha: 0.5), .ELU(alpha: -0.5),
        .tanh, .Softplus(), .Softplus(beta: 2, threshold: 3), .sigmoid, .gelu,
    ]

    @Test(arguments: convolutions + others)
    func layer(_ check: Case) throws {
        for threads in [1, 2] {
            try Parallel.$threadsOverride.withValue(threads) {
                try Self.check(check.layers, input: check.input, rows: 3, mode: check.mode, label: "\(check) threads \(threads)")
            }
        }
    }

    @Test(arguments: activations)
    func activation(_ layer: LayerSpec) throws {
        try Self.check([layer], input: .vector(7), rows: 3, mode: .evaluation, label: "\(layer) alone")
        try Self.check([.Linear(4, 7), layer], input: .vector(4), rows: 3, mode: .evaluation, label: "Linear then \(layer)")
        try Self.check([.Linear(4, 7), layer, .Linear(7, 3), layer], input: .vector(4), rows: 3, mode: .evaluation, label: "two of \(layer)")
    }

    /// The analytic gradients of every parameter and of the input against central differences.
    static func check(_ layers: [LayerSpec], input shape: ExampleShape, rows: Int, mode: LayerMode, label: String) throws {
        let harness = try StackHarness<Double>(layers, input: shape, rows: rows, seed: 5)
        // Inputs away from 0 so that a kink (ReLU, LeakyReLU) is never within h of a first-layer input.
        let x = randomMatrix(rows, shape.count, low: -1, high: 1, seed: 6)
        for i in 0..<x.count where abs(x.pointer[i]) < 0.05 { x.pointer[i] += 0.1 }
        let weights = randomMatrix(rows, harness.stack.outputCount, low: -1, high: 1, seed: 7)
        let dInput = harness.gradients(x, weights: weights, mode: mode)
        let analytic = harness.parameters.gradients.elements
        let objective = { harness.objective(x, weights: weights, mode: mode) }
        for slot in harness.parameters.slots {
            let numeric = centralDifferences(harness.parameters.values(of: slot), objective)
            let error = worstError(Array(analytic[slot.offset..<slot.offset + slot.count]), numeric)
            #expect(error < tolerance, "\(label) \(slot.name): error \(error)")
        }
        let numeric = centralDifferences(x.buffer, objective)
        let error = worstError(dInput.elements, numeric)
        #expect(error < tolerance, "\(label) input: error \(error)")
    }

    /// The check has teeth: the classic convolution mistake, a dW computed with the kernel
    /// flipped (correlation against convolution), is caught with an error of order 1.
    @Test func aFlippedKernelGradientFails() throws {
        let harness = try StackHarness<Double>([.Conv2d(2, 3, 3, stride: 2, padding: .explicit(1))], input: .image(channels: 2, height: 6, width: 6), rows: 2, seed: 5)
        let x = randomMatrix(2, 72, low: -1, high: 1, seed: 6)
        let weights = randomMatrix(2, harness.stack.outputCount, low: -1, high: 1, seed: 7)
        _ = harness.gradients(x, weights: weights, mode: .evaluation)
        let slot = try #require(harness.parameters.slot(named: "layer.0.weight"))
        let analytic = Array(harness.parameters.gradients(of: slot))
        // Reverse each 3×3 kernel's gradient: what a backward pass with the kernel flipped computes.
        var flipped = analytic
        for kernel in 0..<(analytic.count / 9) {
            for tap in 0..<9 { flipped[kernel * 9 + tap] = analytic[kernel * 9 + 8 - tap] }
        }
        let numeric = centralDifferences(harness.parameters.values(of: slot)) { harness.objective(x, weights: weights, mode: .evaluation) }
        #expect(worstError(analytic, numeric) < Self.tolerance)
        #expect(worstError(flipped, numeric) > 0.01, "the flipped gradient must fail the check")
    }
}
