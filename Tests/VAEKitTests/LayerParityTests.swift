import Foundation
import Testing
@testable import VAEKit

/// Each layer against PyTorch itself: Fixtures/pytorch/make_layer_fixtures.py runs the same layers
/// in torch (float64) and records outputs, input gradients, parameter gradients and BatchNorm's
/// running statistics; the engine, given the same parameters and input, must reproduce them.
///
/// In Double the two compute the same formulas in different orders, so they agree to about 1e-15
/// relative; 1e-10 leaves room and still catches any difference of formula (a wrong padding side,
/// the biased variance in the running estimate, GELU's tanh form), which shows at 1e-3 or more.
/// In Float the engine rounds each product and sum to float32: 1e-5 relative to max(1, |value|).
@Suite("PyTorch parity per layer")
struct LayerParityTests {
    struct Case: Decodable {
        var input_shape: [Int]
        var rows: Int
        var mode: String
        var x: [Double]
        var r: [Double]
        var parameters: [String: [Double]]
        var buffers_before: [String: [Double]]
        var buffers_after: [String: [Double]]
        var output: [Double]
        var dx: [Double]
        var gradients: [String: [Double]]
    }

    static let cases: [String: [LayerSpec]] = [
        "linear": [.Linear(5, 3)],
        "linear-no-bias": [.Linear(5, 3, bias: false)],
        "conv2d": [.Conv2d(2, 3, 3)],
        "conv2d-stride-padding": [.Conv2d(2, 3, 3, stride: 2, padding: .explicit(1))],
        "conv2d-rectangular": [.Conv2d(2, 3, SpatialPair(2, 3), stride: SpatialPair(2, 1), padding: .explicit(SpatialPair(1, 2)), dilation: SpatialPair(1, 2))],
        "conv2d-same": [.Conv2d(2, 3, 4, padding: .same)],
        "conv2d-no-bias": [.Conv2d(2, 3, 3, bias: false)],
        "conv-transpose2d": [.ConvTranspose2d(2, 3, 3)],
        "conv-transpose2d-stride-padding": [.ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, outputPadding: 1)],
        "conv-transpose2d-rectangular": [.ConvTranspose2d(2, 2, SpatialPair(3, 2), stride: SpatialPair(2, 3), padding: SpatialPair(1, 0),
                                                          outputPadding: SpatialPair(1, 2), dilation: SpatialPair(2, 1), bias: false)],
        "flatten": [.Conv2d(2, 3, 3, stride: 2), .flatten, .Linear(12, 4)],
        "unflatten": [.Linear(3, 8), .Unflatten(2, 2, 2), .ConvTranspose2d(2, 1, 3, stride: 2)],
        "batchnorm1d-train": [.BatchNorm1d(5)],
        "batchnorm1d-eval": [.BatchNorm1d(5)],
        "batchnorm2d-train": [.BatchNorm2d(3, momentum: 0.3)],
        "batchnorm2d-no-affine-train": [.BatchNorm2d(3, affine: false)],
        "batchnorm2d-eval": [.BatchNorm2d(3, eps: 0.01)],
        "relu": [.relu], "leaky-relu": [.LeakyReLU(negativeSlope: 0.2)], "elu": [.ELU(alpha: 0.5)], "tanh": [.tanh],
        "softplus": [.Softplus()], "softplus-beta-threshold": [.Softplus(beta: 2, threshold: 3)], "sigmoid": [.sigmoid], "gelu": [.gelu],
    ]

    static let fixtures: [String: Case] = {
        struct File: Decodable { var cases: [String: Case] }
        guard let url = Bundle.module.url(forResource: "layers", withExtension: "json", subdirectory: "Fixtures/pytorch"),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else { return [:] }
        return file.cases
    }()

    @Test func everyCaseHasAFixture() {
        #expect(Set(Self.fixtures.keys) == Set(Self.cases.keys))
    }

    @Test(arguments: cases.keys.sorted())
    func matchesPyTorch(_ name: String) throws {
        let fixture = try #require(Self.fixtures[name])
        let specs = try #require(Self.cases[name])
        let shape: ExampleShape = fixture.input_shape.count == 1 ? .vector(fixture.input_shape[0])
            : .image(channels: fixture.input_shape[0], height: fixture.input_shape[1], width: fixture.input_shape[2])
        try compare(specs, shape, fixture, as: Double.self, tolerance: 1e-10, label: name)
        try compare(specs, shape, fixture, as: Float.self, tolerance: 1e-5, label: "\(name) (Float)")
    }

    func compare<T: VAEScalar>(_ specs: [LayerSpec], _ shape: ExampleShape, _ fixture: Case, as: T.Type, tolerance: Double, label: String) throws {
        let harness = try StackHarness<T>(specs, input: shape, rows: fixture.rows, values: fixture.parameters.merging(fixture.buffers_before) { a, _ in a })
        #expect(Set(harness.parameters.slots.map(\.name)) == Set(fixture.parameters.keys), "\(label): parameter names")
        #expect(Set(harness.buffers.slots.map(\.name)) == Set(fixture.buffers_before.keys), "\(label): buffer names")
        let x = Matrix<T>(rows: fixture.rows, columns: shape.count, elements: fixture.x.map { T($0) })
        let r = Matrix<T>(rows: fixture.rows, columns: harness.stack.outputCount, elements: fixture.r.map { T($0) })
        let training = fixture.mode == "train"
        // One forward pass as PyTorch ran it (moving the running statistics in training mode), then
        // the gradients from a pass that leaves them where they are.
        let output = harness.forward(x, mode: training ? .training(updateStatistics: true) : .evaluation)
        let dx = harness.gradients(x, weights: r, mode: training ? .training(updateStatistics: false) : .evaluation)
        func check(_ ours: [T], _ theirs: [Double], _ what: String) {
            #expect(ours.count == theirs.count, "\(label) \(what): \(ours.count) values, PyTorch \(theirs.count)")
            let worst = zip(ours, theirs).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < tolerance, "\(label) \(what): worst relative difference \(worst)")
        }
        check(output.elements, fixture.output, "output")
        check(dx.elements, fixture.dx, "d/dx")
        for slot in harness.parameters.slots {
            check(Array(harness.parameters.gradients(of: slot)), fixture.gradients[slot.name] ?? [], "d/d \(slot.name)")
        }
        for slot in harness.buffers.slots {
            check(Array(harness.buffers.values(of: slot)), fixture.buffers_after[slot.name] ?? [], slot.name)
        }
    }
}
