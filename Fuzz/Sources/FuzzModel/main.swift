import Foundation
import FuzzSupport
@testable import VAEKit

// The engine on arbitrary architectures: a few bytes become an input shape, an encoder, a head,
// a latent size and a decoder of any layers with small (sometimes zero or negative) arguments.
//
// - `validate()` refuses with one line, naming a layer that exists, or accepts; what it accepts,
//   `VAE(_:random:)` builds without trapping.
// - A small accepted model runs a training step (BatchNorm on batch statistics), an evaluation
//   and the picture passes; its checkpoint contents reopen as the same architecture, parameters
//   and buffers, and its JSON decodes to the same architecture.
// (The language's architecture text has its own target; this one reaches the engine directly,
// as a checkpoint's metadata does.)

private struct Bytes {
    var bytes: [UInt8]
    var position = 0
    var isAtEnd: Bool { position >= bytes.count }
    mutating func next() -> Int {
        defer { position += 1 }
        return position < bytes.count ? Int(bytes[position]) : 0
    }
    /// A size in −1…limit − 2 (0 and −1 included, to reach the refusals).
    mutating func size(_ limit: Int) -> Int { next() % limit - 1 }
    mutating func pair(_ limit: Int) -> SpatialPair {
        let first = next()
        return first & 0x80 == 0 ? SpatialPair(first % limit - 1, first % limit - 1) : SpatialPair(size(limit), size(limit))
    }
    mutating func real() -> Double { [0, 0.01, 0.2, 1, -0.3, 2, 1e-5, 20, .nan, .infinity][next() % 10] }
}

private func layer(_ input: inout Bytes) -> LayerSpec {
    switch input.next() % 14 {
    case 0: return .linear(inFeatures: input.size(40), outFeatures: input.size(40), bias: input.next() % 2 == 0)
    case 1, 2:
        let padding: ConvolutionPadding = switch input.next() % 4 {
        case 0: .same
        case 1: .valid
        default: .explicit(input.pair(4))
        }
        return .conv2d(ConvolutionSpec(input.size(6), input.size(6), kernelSize: input.pair(5), stride: input.pair(4), padding: padding,
                                       dilation: input.pair(3), bias: input.next() % 2 == 0))
    case 3, 4:
        return .convTranspose2d(ConvolutionSpec(input.size(6), input.size(6), kernelSize: input.pair(5), stride: input.pair(4),
                                                padding: .explicit(input.pair(3)), outputPadding: input.pair(3), dilation: input.pair(3),
                                                bias: input.next() % 2 == 0))
    case 5: return .flatten
    case 6: return .unflatten(channels: input.size(5), height: input.size(8), width: input.size(8))
    case 7: return .batchNorm1d(BatchNormSpec(input.size(40), eps: input.real(), momentum: input.real(), affine: input.next() % 2 == 0))
    case 8: return .batchNorm2d(BatchNormSpec(input.size(6), eps: input.real(), momentum: input.real(), affine: input.next() % 2 == 0))
    case 9: return .LeakyReLU(negativeSlope: input.real())
    case 10: return .ELU(alpha: input.real())
    case 11: return .Softplus(beta: input.real(), threshold: input.real())
    case 12: return [.relu, .tanh, .sigmoid, .gelu][input.next() % 4]
    default: return .relu
    }
}

private func architecture(_ bytes: [UInt8]) -> VAEArchitecture {
    var input = Bytes(bytes: bytes)
    let channels = input.size(4), height = input.size(12), width = input.size(12)
    let shape: ExampleShape = input.next() % 4 == 0 ? .vector(input.size(40)) : .image(channels: channels, height: height, width: width)
    let head: LatentHead = input.next() % 2 == 0 ? .split : .twoLinear
    let latent = input.size(5)
    let likelihood: Likelihood = [.bernoulli, .gaussian(sigma: 0.1), .gaussianLearned, .gaussian(sigma: -1)][input.next() % 4]
    var encoder: [LayerSpec] = [], decoder: [LayerSpec] = []
    let encoderCount = input.next() % 9, decoderCount = input.next() % 9
    for _ in 0..<encoderCount { encoder.append(layer(&input)) }
    for _ in 0..<decoderCount { decoder.append(layer(&input)) }
    return VAEArchitecture(input: shape, encoder: encoder, head: head, latentSize: latent, decoder: decoder, likelihood: likelihood,
                           naming: input.next() % 8 == 0 ? .pytorchExample : .sequential)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let architecture = architecture(bytes)
    for spec in architecture.encoder + architecture.decoder { checkOneLine(spec.description) }

    let summary: ArchitectureSummary
    do {
        summary = try architecture.validate()
    } catch {
        checkOneLine(error.message)
        switch error.place {
        case .encoder(let index): check(architecture.encoder.indices.contains(index), "error at encoder.\(index) of \(architecture.encoder.count)")
        case .decoder(let index): check(architecture.decoder.indices.contains(index), "error at decoder.\(index) of \(architecture.decoder.count)")
        case .head, .model: break
        }
        return 0
    }
    check(summary.layers.last?.output.count == architecture.input.count, "the decoder's output does not match the input")
    var random = RandomSource(seed: 1)
    guard let model = try? VAE<Float>(architecture, random: &random) else {
        check(false, "validated but not built: \(architecture)")
        return 0
    }
    check(model.parameters.count == summary.parameterCount, "parameters \(model.parameters.count) vs summary \(summary.parameterCount)")
    // Run the small ones (the validated caps allow 100 M parameters; a fuzzer's input should not).
    guard summary.parameterCount <= 20_000, summary.activationValuesPerExample <= 200_000 else { return 0 }

    let x = Matrix<Float>(rows: 3, columns: model.inputSize)
    random.fillUniform(x.buffer, low: 0, high: 1)
    model.computeGradients(x, rows: 3, samples: 2, weights: .loss(), random: &random)
    _ = model.evaluate(x, samples: 2, random: &random)
    _ = model.logLikelihood(x, importanceSamples: 3, random: &random)
    _ = model.reconstruct(x, rows: 3)

    let contents = Checkpoint.contents(of: model, seed: 1)
    do {
        let (reopened, info): (VAE<Float>, CheckpointInfo) = try Checkpoint.model(from: contents.tensors, metadata: contents.metadata, file: "fuzz")
        check(info.architecture == architecture, "the checkpoint reopens as another architecture")
        check(reopened.parameters.values.elements.map(\.bitPattern) == model.parameters.values.elements.map(\.bitPattern), "parameters differ")
        check(reopened.buffers.values.elements.map(\.bitPattern) == model.buffers.values.elements.map(\.bitPattern), "buffers differ")
    } catch {
        check(false, "its own checkpoint does not reopen: \(error.message)")
    }
    return 0
}
