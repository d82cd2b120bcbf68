import Testing
@testable import VAEKit

/// The fast convolutions (im2col/col2im and BLAS, split over threads) against the naive loops of
/// their definitions, forward and backward; and im2col against col2im as adjoints.
@Suite("Convolutions: BLAS path against the naive reference")
struct ConvolutionTests {
    static let convolutions: [(LayerSpec, ExampleShape)] = [
        (.Conv2d(3, 4, 3), .image(channels: 3, height: 7, width: 6)),
        (.Conv2d(3, 4, 3, stride: 2, padding: .explicit(1)), .image(channels: 3, height: 8, width: 7)),
        (.Conv2d(2, 3, SpatialPair(2, 4), stride: SpatialPair(3, 1), padding: .explicit(SpatialPair(2, 0)), dilation: SpatialPair(1, 2)),
         .image(channels: 2, height: 9, width: 10)),
        (.Conv2d(2, 3, 4, padding: .same, bias: false), .image(channels: 2, height: 5, width: 6)),
        (.Conv2d(4, 3, 1), .image(channels: 4, height: 3, width: 5)),
        (.ConvTranspose2d(3, 4, 3), .image(channels: 3, height: 4, width: 5)),
        (.ConvTranspose2d(3, 2, 3, stride: 2, padding: 1, outputPadding: 1), .image(channels: 3, height: 4, width: 4)),
        (.ConvTranspose2d(2, 3, SpatialPair(3, 2), stride: SpatialPair(2, 3), padding: SpatialPair(1, 0), outputPadding: SpatialPair(1, 2),
                          dilation: SpatialPair(2, 1), bias: false), .image(channels: 2, height: 3, width: 4)),
        (.ConvTranspose2d(4, 2, 1), .image(channels: 4, height: 3, width: 3)),
    ]

    /// Runs `spec` both ways in `T`; returns the worst relative difference over the output, dW, db and dInput.
    static func compare<T: VAEScalar>(_ spec: LayerSpec, _ shape: ExampleShape, as: T.Type, threads: Int) throws -> Double {
        let rows = 5
        let harness = try StackHarness<T>([spec], input: shape, rows: rows, seed: 2)
        let x = randomMatrix(rows, shape.count, low: -1, high: 1, seed: 3).converted(to: T.self)
        let dOutput = randomMatrix(rows, harness.stack.outputCount, low: -1, high: 1, seed: 4).converted(to: T.self)
        let (fast, fastGradient, fastInput) = Parallel.$threadsOverride.withValue(threads) {
            let output = harness.forward(x, mode: .evaluation)
            let dInput = harness.gradients(x, weights: dOutput, mode: .evaluation)
            return (output.elements, harness.parameters.gradients.elements, dInput.elements)
        }
        let naive = Matrix<T>(rows: rows, columns: harness.stack.outputCount)
        let naiveInput = Matrix<T>(rows: rows, columns: shape.count)
        switch harness.stack.entries[0].layer {
        case .conv2d(let layer):
            layer.forwardNaive(x, into: naive, rows: rows, parameters: harness.parameters)
            layer.backwardNaive(dOutput, input: x, dInput: naiveInput, rows: rows, parameters: harness.parameters)
        case .convTranspose2d(let layer):
            layer.forwardNaive(x, into: naive, rows: rows, parameters: harness.parameters)
            layer.backwardNaive(dOutput, input: x, dInput: naiveInput, rows: rows, parameters: harness.parameters)
        default:
            Issue.record("not a convolution")
        }
        func worst(_ a: [T], _ b: [T]) -> Double {
            zip(a, b).map { abs(Double($0) - Double($1)) / max(1, abs(Double($1))) }.max() ?? 0
        }
        return max(worst(fast, naive.elements), worst(fastGradient, harness.parameters.gradients.elements), worst(fastInput, naiveInput.elements))
    }

    @Test(arguments: 0..<convolutions.count)
    func fastMatchesNaive(_ index: Int) throws {
        let (spec, shape) = Self.convolutions[index]
        for threads in [1, 2, 3] {
            // Double: both sum the same products in different orders, so they agree to ~1e-15.
            #expect(try Self.compare(spec, shape, as: Double.self, threads: threads) < 1e-12, "\(spec) threads \(threads)")
            // Float: sums of up to a few hundred terms of size ≤ 1, rounded differently: 1e-5 relative.
            #expect(try Self.compare(spec, shape, as: Float.self, threads: threads) < 1e-5, "\(spec) Float threads \(threads)")
        }
    }

    /// ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for random x and c: col2im is im2col's adjoint, which is
    /// what makes one the other's backward.
    @Test(arguments: 0..<convolutions.count)
    func col2imIsTheAdjointOfIm2col(_ index: Int) throws {
        let (spec, shape) = Self.convolutions[index]
        let harness = try StackHarness<Double>([spec], input: shape, rows: 1)
        let geometry: ConvolutionGeometry = switch harness.stack.entries[0].layer {
        case .conv2d(let layer): layer.geometry
        case .convTranspose2d(let layer): layer.geometry
        default: throw TestFailure("not a convolution")
        }
        let image = randomMatrix(1, geometry.imageCount, low: -1, high: 1, seed: 8)
        let columns = randomMatrix(geometry.columnRows, geometry.positions, low: -1, high: 1, seed: 9)
        let im2col = Matrix<Double>(rows: geometry.columnRows, columns: geometry.positions)
        geometry.im2col(image.pointer, into: im2col.pointer)
        let col2im = Matrix<Double>(rows: 1, columns: geometry.imageCount)
        geometry.col2im(columns.pointer, into: col2im.pointer)
        let left = zip(im2col.elements, columns.elements).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(image.elements, col2im.elements).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(left - right) < 1e-12 * max(1, abs(left)))
    }

    /// At stride 2, float32 im2col and col2im move four values at a time (`strideTwo`); on rows
    /// long enough for that path they must give exactly the values of the definition: im2col
    /// copies, and col2im adds each pixel's terms in tap order (c, ki, kj), which is the order the
    /// loop below adds them in, so the sums are the same bits.
    @Test(arguments: [
        (LayerSpec.Conv2d(2, 3, 3, stride: 2, padding: .explicit(1)), ExampleShape.image(channels: 2, height: 21, width: 23)),
        (LayerSpec.Conv2d(2, 3, 3, stride: 2, dilation: 2), ExampleShape.image(channels: 2, height: 20, width: 27)),
        (LayerSpec.ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, outputPadding: 1), ExampleShape.image(channels: 2, height: 14, width: 13)),
        (LayerSpec.ConvTranspose2d(2, 3, SpatialPair(3, 4), stride: 2), ExampleShape.image(channels: 2, height: 5, width: 11)),
    ])
    func strideTwoIsExactInFloat(_ spec: LayerSpec, _ shape: ExampleShape) throws {
        let harness = try StackHarness<Float>([spec], input: shape, rows: 1)
        let g: ConvolutionGeometry = switch harness.stack.entries[0].layer {
        case .conv2d(let layer): layer.geometry
        case .convTranspose2d(let layer): layer.geometry
        default: throw TestFailure("not a convolution")
        }
        #expect(g.strideWidth == 2 && g.outputWidth > 8, "the rows must be long enough for four lanes")
        let image = randomMatrix(1, g.imageCount, low: -1, high: 1, seed: 8).converted(to: Float.self)
        let columns = randomMatrix(g.columnRows, g.positions, low: -1, high: 1, seed: 9).converted(to: Float.self)
        let fastColumns = Matrix<Float>(rows: g.columnRows, columns: g.positions)
        let fastImage = Matrix<Float>(rows: 1, columns: g.imageCount)
        g.im2col(image.pointer, into: fastColumns.pointer)
        g.col2im(columns.pointer, into: fastImage.pointer)
        var expectedColumns = [Float](repeating: 0, count: g.columnRows * g.positions)
        var expectedImage = [Float](repeating: 0, count: g.imageCount)
        for c in 0..<g.channels {
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = (c * g.kernelHeight + ki) * g.kernelWidth + kj
                    for oi in 0..<g.outputHeight {
                        for oj in 0..<g.outputWidth {
                            guard let (i, j) = g.inputIndex(oi: oi, oj: oj, ki: ki, kj: kj) else { continue }
                            let position = row * g.positions + oi * g.outputWidth + oj, pixel = (c * g.height + i) * g.width + j
                            expectedColumns[position] = image.pointer[pixel]
                            expectedImage[pixel] += columns.pointer[position]
                        }
                    }
                }
            }
        }
        #expect(fastColumns.elements == expectedColumns)
        #expect(fastImage.elements == expectedImage)
    }

    /// Output sizes as PyTorch computes them (values checked with torch 2.13).
    @Test func outputSizesFollowPyTorch() throws {
        func shape(_ layers: [LayerSpec], _ input: ExampleShape) throws -> ExampleShape {
            try StackHarness<Float>(layers, input: input, rows: 1).layout.encoder.entries.last.map {
                $0.outputCount == 0 ? .vector(0) : .vector($0.outputCount)
            } ?? .vector(0)
        }
        // Conv2d(1, 32, 3, stride=2) on 28×28 → 13×13; Conv2d(32, 64, 3, stride=2) → 6×6.
        #expect(try shape([.Conv2d(1, 32, 3, stride: 2)], .image(channels: 1, height: 28, width: 28)) == .vector(32 * 13 * 13))
        #expect(try shape([.Conv2d(1, 32, 3, stride: 2), .Conv2d(32, 64, 3, stride: 2)], .image(channels: 1, height: 28, width: 28)) == .vector(64 * 6 * 6))
        // ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1) on 7×7 → 14×14.
        #expect(try shape([.ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1)], .image(channels: 32, height: 7, width: 7)) == .vector(64 * 14 * 14))
        // Conv2d(1, 4, 4, padding='same') keeps 5×6: padding 1 above and left, 2 below and right.
        #expect(try shape([.Conv2d(1, 4, 4, padding: .same)], .image(channels: 1, height: 5, width: 6)) == .vector(4 * 5 * 6))
        // Dilation 2 spans 5: 9 → 5.
        #expect(try shape([.Conv2d(1, 1, 3, dilation: 2)], .image(channels: 1, height: 9, width: 9)) == .vector(25))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
