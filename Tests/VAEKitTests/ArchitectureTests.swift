import Foundation
import Testing
@testable import VAEKit

/// The tutorials' models at their real sizes, and tiny versions of them for gradient checks.
enum Architectures {
    static let mnist = ExampleShape.image(channels: 1, height: 28, width: 28)

    /// TensorFlow's CVAE tutorial, in PyTorch terms (REFERENCES.md): logits out, split head.
    static func tfCVAE(side: Int = 28, channels: (Int, Int) = (32, 64), latent: Int = 2) -> VAEArchitecture {
        let (a, b) = channels
        let inner = side / 4
        let encoded = ((side - 3) / 2 + 1 - 3) / 2 + 1
        return VAEArchitecture(
            input: .image(channels: 1, height: side, width: side),
            encoder: [.Conv2d(1, a, 3, stride: 2), .relu, .Conv2d(a, b, 3, stride: 2), .relu, .flatten, .Linear(b * encoded * encoded, 2 * latent)],
            head: .split, latentSize: latent,
            decoder: [.Linear(latent, inner * inner * a), .relu, .Unflatten(a, inner, inner),
                      .ConvTranspose2d(a, b, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                      .ConvTranspose2d(b, a, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                      .ConvTranspose2d(a, 1, 3, padding: 1)])
    }

    /// The Keras VAE example, in PyTorch terms: 'same' stride-2 convolutions as padding 1, Dense(16),
    /// and the two Linear heads z_mean and z_log_var.
    static func keras(side: Int = 28, channels: (Int, Int) = (32, 64), dense: Int = 16, latent: Int = 2) -> VAEArchitecture {
        let (a, b) = channels
        let inner = side / 4
        return VAEArchitecture(
            input: .image(channels: 1, height: side, width: side),
            encoder: [.Conv2d(1, a, 3, stride: 2, padding: .explicit(1)), .relu, .Conv2d(a, b, 3, stride: 2, padding: .explicit(1)), .relu,
                      .flatten, .Linear(b * inner * inner, dense), .relu],
            head: .twoLinear, latentSize: latent,
            decoder: [.Linear(latent, inner * inner * b), .relu, .Unflatten(b, inner, inner),
                      .ConvTranspose2d(b, b, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                      .ConvTranspose2d(b, a, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                      .ConvTranspose2d(a, 1, 3, padding: 1)])
    }

    /// A small conv VAE with BatchNorm on both sides, and every other activation.
    static func batchNormed(side: Int = 8, latent: Int = 2) -> VAEArchitecture {
        let inner = side / 2
        return VAEArchitecture(
            input: .image(channels: 1, height: side, width: side),
            encoder: [.Conv2d(1, 3, 3, stride: 2, padding: .explicit(1)), .BatchNorm2d(3), .LeakyReLU(negativeSlope: 0.2),
                      .flatten, .Linear(3 * inner * inner, 6), .BatchNorm1d(6), .ELU(), .Linear(6, 2 * latent)],
            head: .split, latentSize: latent,
            decoder: [.Linear(latent, 2 * inner * inner), .gelu, .Unflatten(2, inner, inner), .BatchNorm2d(2), .tanh,
                      .ConvTranspose2d(2, 2, 3, stride: 2, padding: 1, outputPadding: 1), .Softplus(), .Conv2d(2, 1, 3, padding: .same)])
    }
}

@Suite("Architectures: shapes, errors, names, text")
struct ArchitectureTests {
    @Test func theTutorialsFitMNIST() throws {
        let tf = try Architectures.tfCVAE().validate()
        #expect(tf.layers.map(\.output.text) == ["32×13×13", "32×13×13", "64×6×6", "64×6×6", "2304", "4",
                                                  "1568", "1568", "32×7×7", "64×14×14", "64×14×14", "32×28×28", "32×28×28", "1×28×28"])
        // As torch counts them: sum(p.numel() for p in model.parameters()).
        #expect(tf.parameterCount == 320 + 18_496 + 9_220 + 4_704 + 18_496 + 18_464 + 289)
        let keras = try Architectures.keras().validate()
        #expect(keras.layers.filter { $0.place == .head }.map(\.name) == ["fc21", "fc22"])
        #expect(keras.layers.last?.output == Architectures.mnist)
        #expect(keras.parameterCount == 320 + 18_496 + 50_192 + 2 * 34 + 9_408 + 36_928 + 18_464 + 289)
    }

    /// Each refusal names its layer, what it receives and where that came from.
    @Test(arguments: [
        // The issue's own example: a 4×4 kernel leaves 5×5, not 6×6.
        (Architectures.tfCVAE().replacing(encoder: 2, with: .Conv2d(32, 64, 4, stride: 2)),
         "encoder.5 Linear(2304, 4) receives 1600 values: the convolutions above leave 64×5×5"),
        (Architectures.tfCVAE().replacing(encoder: 2, with: .Conv2d(16, 64, 3, stride: 2)),
         "encoder.2 Conv2d(16, 64, 3, stride=2) receives 32 channels: the convolutions above leave 32×13×13"),
        (Architectures.tfCVAE().replacing(encoder: 2, with: .Conv2d(32, 64, 15)),
         "encoder.2 Conv2d(32, 64, 15) has a 15×15 kernel larger than its 13×13 input: the convolutions above leave 32×13×13"),
        (Architectures.tfCVAE().replacing(encoder: 0, with: .Conv2d(1, 32, 3, stride: 0)),
         "encoder.0 Conv2d(1, 32, 3, stride=0) has stride=0; it must be at least 1"),
        (Architectures.tfCVAE().replacing(encoder: 0, with: .Conv2d(1, 32, 3, padding: .explicit(-1))),
         "encoder.0 Conv2d(1, 32, 3, padding=-1) has padding=-1; it must be 0 or more"),
        (Architectures.tfCVAE().replacing(encoder: 0, with: .Conv2d(1, 0, 3)),
         "encoder.0 Conv2d(1, 0, 3) has out_channels=0; it must be at least 1"),
        (Architectures.tfCVAE().replacing(decoder: 3, with: .ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 2)),
         "decoder.3 ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=2) has output_padding=2; as in PyTorch it must be smaller than the stride (2) or the dilation (1)"),
        (Architectures.tfCVAE().replacing(encoder: 4, with: .relu),
         "encoder.5 Linear(2304, 4) receives 64×6×6, an image: add Flatten() before it"),
        (Architectures.tfCVAE().replacing(decoder: 2, with: .relu),
         "decoder.3 ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1) receives 1568 values, not an image: the Linear above gives 1568"),
        (Architectures.tfCVAE().replacing(decoder: 2, with: .Unflatten(32, 7, 6)),
         "decoder.2 Unflatten(1, (32, 7, 6)) receives 1568 values, not 32×7×6 = 1344: the Linear above gives 1568"),
        (Architectures.tfCVAE(latent: 3).replacing(decoder: 0, with: .Linear(3, 1568)).replacing(encoder: 5, with: .Linear(2304, 4)),
         "encoder.5 Linear(2304, 4) ends the encoder with 4 values, but the split head needs 2 × latent = 6 values [μ | log σ²]"),
        (Architectures.tfCVAE().replacing(decoder: 7, with: .ConvTranspose2d(32, 1, 3)),
         "decoder.7 ConvTranspose2d(32, 1, 3) ends the decoder with 1×30×30, but the data is 1×28×28"),
        (Architectures.tfCVAE().replacing(decoder: 0, with: .Linear(3, 1568)),
         "decoder.0 Linear(3, 1568) receives 2 values: z has 2 values (the latent size)"),
        (Architectures.tfCVAE().replacing(encoder: 5, with: .Linear(2304, 2_000_000)),
         "encoder.5 Linear(2304, 2000000) has out_features=2000000; the engine takes at most 1048576"),
        (VAEArchitecture(input: .vector(784), encoder: [.Linear(784, 200_000), .relu, .Linear(200_000, 4)], head: .split,
                         latentSize: 2, decoder: [.Linear(2, 784)]),
         "the model would have 157,802,356 parameters, more than the 100,000,000 the engine builds"),
        (Architectures.tfCVAE().replacing(encoder: 0, with: .Conv2d(1, 32, 3, stride: 2, padding: .same)),
         "encoder.0 Conv2d(1, 32, 3, stride=2, padding='same') has padding='same' with stride=2; PyTorch allows 'same' only with stride 1"),
        (Architectures.tfCVAE().replacing(encoder: 1, with: .BatchNorm1d(32)),
         "encoder.1 BatchNorm1d(32) receives 32×13×13: the convolutions above leave 32×13×13"),
        (Architectures.tfCVAE().replacing(encoder: 1, with: .BatchNorm2d(32, momentum: 2)),
         "encoder.1 BatchNorm2d(32, momentum=2.0) has momentum=2.0; it must be between 0 and 1"),
    ] as [(VAEArchitecture, String)])
    func refusals(_ architecture: VAEArchitecture, _ expected: String) {
        do {
            _ = try architecture.validate()
            Issue.record("expected: \(expected)")
        } catch {
            #expect(error.message == expected)
        }
    }

    @Test func absurdActivationsAreRefusedBeforeAllocating() throws {
        // 1024 channels of 64×64 in Float: 16 MB an example, 2 GB of values and as much of gradients for 128.
        let huge = VAEArchitecture(input: .image(channels: 1, height: 64, width: 64),
                                   encoder: [.Conv2d(1, 1024, 1), .Conv2d(1024, 1, 1), .flatten, .Linear(4096, 4)], head: .split,
                                   latentSize: 2, decoder: [.Linear(2, 4096)])
        #expect(throws: ArchitectureError.self) { _ = try huge.validate() }
        do { _ = try huge.validate() } catch {
            #expect(error.kind == .tooLarge)
            #expect(error.message.contains("of activations for a batch of 128"), "\(error.message)")
        }
        var random = RandomSource(seed: 1)
        #expect(throws: ArchitectureError.self) { _ = try VAE<Float>(huge, random: &random) }
    }

    @Test func pytorchExampleNamesAreForLinearLayersOnly() {
        var architecture = Architectures.tfCVAE()
        architecture.naming = .pytorchExample
        do {
            _ = try architecture.validate()
            Issue.record("expected a naming error")
        } catch {
            #expect(error.kind == .naming && error.place == .encoder(0))
        }
    }

    @Test func canonicalTextIsPyTorchs() {
        let cases: [(LayerSpec, String)] = [
            (.Linear(2304, 4), "Linear(2304, 4)"), (.Linear(3, 2, bias: false), "Linear(3, 2, bias=False)"),
            (.Conv2d(1, 32, 3, stride: 2), "Conv2d(1, 32, 3, stride=2)"),
            (.Conv2d(1, 32, SpatialPair(3, 5), stride: SpatialPair(2, 1), padding: .same, dilation: 2, bias: false),
             "Conv2d(1, 32, (3, 5), stride=(2, 1), padding='same', dilation=2, bias=False)"),
            (.ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1), "ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1)"),
            (.flatten, "Flatten()"), (.Unflatten(32, 7, 7), "Unflatten(1, (32, 7, 7))"),
            (.BatchNorm1d(16), "BatchNorm1d(16)"), (.BatchNorm2d(8, eps: 0.001, momentum: 0.01, affine: false),
                                                    "BatchNorm2d(8, eps=0.001, momentum=0.01, affine=False)"),
            (.relu, "ReLU()"), (.LeakyReLU(), "LeakyReLU()"), (.LeakyReLU(negativeSlope: 0.2), "LeakyReLU(negative_slope=0.2)"),
            (.ELU(alpha: 0.5), "ELU(alpha=0.5)"), (.tanh, "Tanh()"), (.Softplus(beta: 2), "Softplus(beta=2.0)"),
            (.sigmoid, "Sigmoid()"), (.gelu, "GELU()"),
        ]
        for (spec, text) in cases { #expect(spec.description == text) }
        #expect(Set(cases.map(\.0.name)) == Set(LayerSpec.names))
    }

    @Test(arguments: [Architectures.tfCVAE(), Architectures.keras(), Architectures.batchNormed(),
                      VAEConfiguration.pytorchExample.architecture])
    func jsonRoundTrip(_ architecture: VAEArchitecture) throws {
        let data = try JSONEncoder().encode(architecture)
        #expect(try JSONDecoder().decode(VAEArchitecture.self, from: data) == architecture)
    }

    @Test(arguments: [
        VAEConfiguration.pytorchExample,
        VAEConfiguration(inputSize: 20, encoderHidden: [16, 8], latentSize: 3, decoderHidden: [6, 12, 16], activation: .softplus,
                         likelihood: .gaussianLearned),
        VAEConfiguration(inputSize: 12, encoderHidden: [5], latentSize: 2, activation: .tanh, likelihood: .gaussian(sigma: 0.1)),
    ])
    func theMLPFamilyIsOneArchitecture(_ configuration: VAEConfiguration) throws {
        let architecture = configuration.architecture
        #expect(architecture.mlpConfiguration == configuration)
        #expect(architecture.summary == configuration.summary)
        #expect(try architecture.validate().parameterCount == configuration.parameterCount)
        #expect(Architectures.tfCVAE().mlpConfiguration == nil)
    }

    /// Tensor names and order as PyTorch's state_dict lists them for an nn.Sequential encoder and decoder.
    @Test func namesFollowTheStateDict() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(Architectures.batchNormed(), random: &random)
        #expect(model.stateOrder == [
            "encoder.0.weight", "encoder.0.bias",
            "encoder.1.weight", "encoder.1.bias", "encoder.1.running_mean", "encoder.1.running_var", "encoder.1.num_batches_tracked",
            "encoder.4.weight", "encoder.4.bias",
            "encoder.5.weight", "encoder.5.bias", "encoder.5.running_mean", "encoder.5.running_var", "encoder.5.num_batches_tracked",
            "encoder.7.weight", "encoder.7.bias",
            "decoder.0.weight", "decoder.0.bias",
            "decoder.3.weight", "decoder.3.bias", "decoder.3.running_mean", "decoder.3.running_var", "decoder.3.num_batches_tracked",
            "decoder.5.weight", "decoder.5.bias", "decoder.7.weight", "decoder.7.bias",
        ])
        #expect(model.buffers.slots.map(\.name).allSatisfy { $0.contains("running") || $0.hasSuffix("num_batches_tracked") })
        #expect(model.parameters.slot(named: "decoder.5.weight")?.shape == [2, 2, 3, 3])
        #expect(model.parameters.slot(named: "encoder.0.weight")?.shape == [3, 1, 3, 3])
        #expect(model.buffers.slot(named: "encoder.1.num_batches_tracked")?.shape == [])
        let keras = try VAE<Float>(Architectures.keras(), random: &random)
        #expect(keras.stateOrder.filter { $0.hasPrefix("fc2") } == ["fc21.weight", "fc21.bias", "fc22.weight", "fc22.bias"])
        #expect(keras.parameters.count == (try Architectures.keras().validate().parameterCount))
    }

    /// PyTorch's initial values: BatchNorm γ = 1, β = 0, running mean 0, variance 1; convolution
    /// weights within U(±1/√fan_in), with a transpose's fan_in its out_channels × kernel.
    @Test func initialValuesArePyTorchs() throws {
        var random = RandomSource(seed: 4)
        let model = try VAE<Float>(Architectures.batchNormed(), random: &random)
        func values(_ name: String) throws -> [Float] {
            if let slot = model.parameters.slot(named: name) { return Array(model.parameters.values(of: slot)) }
            return Array(model.buffers.values(of: try #require(model.buffers.slot(named: name))))
        }
        #expect(try values("encoder.1.weight") == [1, 1, 1])
        #expect(try values("encoder.1.bias") == [0, 0, 0])
        #expect(try values("encoder.1.running_mean") == [0, 0, 0])
        #expect(try values("encoder.1.running_var") == [1, 1, 1])
        #expect(try values("encoder.1.num_batches_tracked") == [0])
        let transposeBound = 1 / Float(2 * 9).squareRoot()
        let transpose = try values("decoder.5.weight")
        #expect(transpose.allSatisfy { abs($0) <= transposeBound } && transpose.contains { abs($0) > 0.8 * transposeBound })
        var keras = RandomSource(seed: 4)
        let glorot = try VAE<Float>(Architectures.keras(side: 8, channels: (2, 3), dense: 4), initialization: .keras, random: &keras)
        let bias = try #require(glorot.parameters.slot(named: "encoder.0.bias"))
        #expect(glorot.parameters.values(of: bias).allSatisfy { $0 == 0 })
        let weight = try #require(glorot.parameters.slot(named: "encoder.0.weight"))
        let bound = (6 / Float(9 * 1 + 9 * 2)).squareRoot()
        #expect(glorot.parameters.values(of: weight).allSatisfy { abs($0) <= bound })
    }
}

extension VAEArchitecture {
    func replacing(encoder index: Int, with layer: LayerSpec) -> VAEArchitecture {
        var copy = self
        copy.encoder[index] = layer
        return copy
    }

    func replacing(decoder index: Int, with layer: LayerSpec) -> VAEArchitecture {
        var copy = self
        copy.decoder[index] = layer
        return copy
    }
}

/// Layer calls bound as Python binds them to PyTorch's constructors.
@Suite("Layer calls with PyTorch's arguments")
struct LayerArgumentTests {
    static func call(_ name: String, _ values: [LayerArgumentValue], _ keywords: [(String, LayerArgumentValue)] = []) throws(LayerArgumentError) -> LayerSpec {
        try LayerSpec.make(name, values.map { LayerArgument($0) } + keywords.map { LayerArgument($0.1, name: $0.0) })
    }

    @Test func callsBuildLayers() throws {
        #expect(try Self.call("Conv2d", [.int(1), .int(32), .int(3)], [("stride", .int(2))]) == .Conv2d(1, 32, 3, stride: 2))
        #expect(try Self.call("Conv2d", [.int(1), .int(32)], [("kernel_size", .tuple([.int(3), .int(5)])), ("padding", .string("same"))])
                == .Conv2d(1, 32, SpatialPair(3, 5), padding: .same))
        #expect(try Self.call("Conv2d", [.int(1), .int(32), .int(3), .int(2), .int(1)]) == .Conv2d(1, 32, 3, stride: 2, padding: .explicit(1)))
        #expect(try Self.call("ConvTranspose2d", [.int(32), .int(64), .int(3)], [("stride", .int(2)), ("padding", .int(1)), ("output_padding", .int(1))])
                == .ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1))
        #expect(try Self.call("Linear", [.int(2304), .int(4)], [("bias", .bool(false))]) == .Linear(2304, 4, bias: false))
        #expect(try Self.call("Unflatten", [.int(1), .tuple([.int(32), .int(7), .int(7)])]) == .Unflatten(32, 7, 7))
        #expect(try Self.call("Unflatten", [.int(32), .int(7), .int(7)]) == .Unflatten(32, 7, 7), "the shorthand")
        #expect(try Self.call("BatchNorm2d", [.int(8)], [("momentum", .double(0.01)), ("eps", .int(1))]) == .BatchNorm2d(8, eps: 1, momentum: 0.01))
        #expect(try Self.call("LeakyReLU", [.double(0.2)]) == .LeakyReLU(negativeSlope: 0.2))
        #expect(try Self.call("ReLU", [], [("inplace", .bool(true))]) == .relu)
        #expect(try Self.call("Flatten", []) == .flatten)
    }

    /// Every layer's canonical text is a call that builds it again.
    @Test func canonicalCallsRoundTrip() throws {
        let specs: [LayerSpec] = Architectures.batchNormed().encoder + Architectures.batchNormed().decoder + Architectures.tfCVAE().decoder + [
            .Conv2d(2, 3, SpatialPair(2, 4), stride: SpatialPair(3, 1), padding: .explicit(SpatialPair(2, 0)), dilation: SpatialPair(1, 2), bias: false),
            .Conv2d(1, 2, 3, padding: .valid), .ConvTranspose2d(2, 3, 3, dilation: 2, bias: false), .Linear(3, 4, bias: false),
            .BatchNorm1d(7, eps: 0.001, momentum: 0.3, affine: false), .Softplus(beta: 0.5, threshold: 5), .ELU(alpha: 2), .sigmoid,
        ]
        for spec in specs {
            #expect(try LayerSpec.make(spec.name, spec.callArguments) == spec, "\(spec)")
            #expect(Set(spec.callArguments.compactMap(\.name)).isSubset(of: Set(LayerSpec.signatures[spec.name]?.map(\.name) ?? [])))
        }
    }

    @Test(arguments: [
        ("Conv2D", [LayerArgument(.int(1))], LayerArgumentError.Kind.unknownLayer(candidates: LayerSpec.names), nil as Int?, "unknown layer 'Conv2D'"),
        ("Conv2d", [LayerArgument(.int(1)), LayerArgument(.int(32)), LayerArgument(.int(3)), LayerArgument(.int(2), name: "strides")],
         .unknownArgument(candidates: LayerSpec.signatures["Conv2d"]?.map(\.name) ?? []), 3, "Conv2d() got an unexpected keyword argument 'strides'"),
        ("Conv2d", [LayerArgument(.int(1)), LayerArgument(.int(32))], .missingArgument, nil, "Conv2d() missing required argument 'kernel_size'"),
        ("Linear", [LayerArgument(.int(1)), LayerArgument(.int(2)), LayerArgument(.bool(true)), LayerArgument(.int(4))], .tooManyArguments, 3,
         "Linear() takes 3 positional arguments but 4 were given"),
        ("Linear", [LayerArgument(.int(1)), LayerArgument(.int(2)), LayerArgument(.int(3), name: "out_features")], .repeatedArgument, 2,
         "Linear() got multiple values for argument 'out_features'"),
        ("Conv2d", [LayerArgument(.int(1)), LayerArgument(.int(32)), LayerArgument(.int(3)), LayerArgument(.double(1.5), name: "stride")], .wrongType, 3,
         "Conv2d() argument 'stride' must be an integer or a pair (h, w), not 1.5"),
        ("Conv2d", [LayerArgument(.int(4)), LayerArgument(.int(8)), LayerArgument(.int(3)), LayerArgument(.int(2), name: "groups")], .unsupported, 3,
         "Conv2d(groups=2) is not supported: grouped convolutions are not built"),
        ("GELU", [LayerArgument(.string("tanh"), name: "approximate")], .unsupported, 0,
         "GELU(approximate='tanh') is not supported: only the exact erf form is built"),
        ("BatchNorm1d", [LayerArgument(.int(4)), LayerArgument(.bool(false), name: "track_running_stats")], .unsupported, 1,
         "BatchNorm1d(track_running_stats=False) is not supported: evaluation uses the running statistics"),
        ("Unflatten", [LayerArgument(.int(1)), LayerArgument(.tuple([.int(32), .int(7)]))], .wrongType, 1,
         "Unflatten() argument 'unflattened_size' must be a tuple (C, H, W), not (32, 7)"),
    ] as [(String, [LayerArgument], LayerArgumentError.Kind, Int?, String)])
    func refusals(_ name: String, _ arguments: [LayerArgument], _ kind: LayerArgumentError.Kind, _ index: Int?, _ message: String) {
        do {
            _ = try LayerSpec.make(name, arguments)
            Issue.record("expected: \(message)")
        } catch {
            #expect(error.kind == kind)
            #expect(error.argument == index)
            #expect(error.message == message)
        }
    }
}
