import Foundation
import Testing
@testable import VAEKit
import VAEScript

/// The VAE layouts users save (Fixtures/torch/layouts, written by layouts.py with real PyTorch):
/// each opens with the options that describe it, and gives PyTorch's numbers on the same weights.
///
/// Tolerances: KL, log p(x|μ) and the ELBO at a given ε are deterministic. PyTorch's are computed
/// in float64 on the float32 weights; vaesh computes in float32, so they agree to float32 rounding:
/// each is a sum of at most 64 terms of size ≤ ~10, whose float32 rounding is a few 1e-6 relative;
/// 2e-5·max(1, |value|) allows for it. log p̂(x) is an importance-sampling estimate with K = 5000
/// on each side, independent draws: the difference has standard error √2·se (se from PyTorch's
/// weights, by the delta method), and must stay within 4 of those.
@Suite("PyTorch layouts: structure, options, parity")
struct LayoutParityTests {
    struct Reference: Decodable {
        var file: String
        var open: [String: String]
        var input: [Int]
        var x: [[Double]]
        var eps: [[Double]]
        var k: Int
        var kl: [Double]
        var log_px_given_mu: [Double]
        var elbo: [Double]
        var log_px: [Double]
        var log_px_se: [Double]
    }

    static let layouts = ["examples", "sequential", "mu_var", "pyro", "softplus_std", "conv"]

    static func reference(_ name: String) throws -> (Reference, path: String) {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/torch/layouts"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        return (reference, url.deletingLastPathComponent().appendingPathComponent(reference.file).path)
    }

    /// The hints `open` would pass for the fixture's options (the same words the command takes).
    static func hints(_ options: [String: String], input: [Int]) -> CheckpointHints {
        var hints = CheckpointHints()
        hints.activation = options["activation"].flatMap { word in CheckpointHints.activations.first { $0.word == word }?.layer }
        hints.variance = options["variance"].flatMap(VarianceParameterization.init(rawValue:))
        hints.input = input.count == 3 ? .image(channels: input[0], height: input[1], width: input[2]) : .vector(input[0])
        return hints
    }

    /// The conv fixture's class, as a person would describe it with `model …` (its strides and
    /// paddings are not in the file).
    static let convArchitecture = VAEArchitecture(
        input: .image(channels: 1, height: 8, width: 8),
        encoder: [.Conv2d(1, 4, 3, stride: 2, padding: .explicit(1)), .BatchNorm2d(4), .relu,
                  .Conv2d(4, 8, 3, stride: 2, padding: .explicit(1)), .relu, .flatten],
        head: .twoLinear, latentSize: 2,
        decoder: [.Linear(2, 32), .relu, .Unflatten(8, 2, 2),
                  .ConvTranspose2d(8, 4, 3, stride: 2, padding: 1, outputPadding: 1), .relu,
                  .ConvTranspose2d(4, 1, 3, stride: 2, padding: 1, outputPadding: 1)])

    static func open(_ name: String) throws -> (VAE<Float>, CheckpointInfo, Reference) {
        let (reference, path) = try Self.reference(name)
        let described = name == "conv" ? convArchitecture : nil
        let read = try Checkpoint.read(path: path, as: Float.self, architecture: described,
                                       hints: hints(reference.open, input: reference.input))
        return (read.model, read.info, reference)
    }

    /// KL, log p(x|z=μ) and the ELBO at PyTorch's ε, per example, from the model as opened.
    static func terms(_ model: VAE<Float>, _ reference: Reference) -> [(kl: Double, atMean: Double, elbo: Double)] {
        let dimension = model.inputSize, latent = model.latentSize
        let x = Matrix<Float>(rows: reference.x.count, columns: dimension, elements: reference.x.flatMap { $0.map(Float.init) })
        return (0..<reference.x.count).map { n in
            let posterior = model.posterior(x, index: n)
            let kl = Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance).reduce(0, +)
            func logLikelihood(_ z: [Float]) -> Double {
                let logits = model.evaluationPass(model.decoder, input: Matrix(rows: 1, columns: latent, elements: z), rows: 1).output.elements
                return Double(Likelihood.bernoulli.logLikelihood(output: logits, target: x.pointer + n * dimension, dimension: dimension,
                                                                logVariance: nil, dOutput: nil, dLogVariance: nil, scale: 0))
            }
            let z = (0..<latent).map { j in posterior.mean[j] + Float.exp(posterior.logVariance[j] / 2) * Float(reference.eps[n][j]) }
            return (Double(kl), logLikelihood(posterior.mean), logLikelihood(z) - Double(kl))
        }
    }

    static func close(_ ours: Double, _ theirs: Double) -> Bool { abs(ours - theirs) <= 2e-5 * max(1, abs(theirs)) }

    @Test(arguments: layouts)
    func deterministicTermsMatchPyTorch(_ name: String) throws {
        let (model, _, reference) = try Self.open(name)
        for (n, terms) in Self.terms(model, reference).enumerated() {
            #expect(Self.close(terms.kl, reference.kl[n]), "\(name) example \(n): KL \(terms.kl) vs PyTorch \(reference.kl[n])")
            #expect(Self.close(terms.atMean, reference.log_px_given_mu[n]),
                    "\(name) example \(n): log p(x|μ) \(terms.atMean) vs PyTorch \(reference.log_px_given_mu[n])")
            #expect(Self.close(terms.elbo, reference.elbo[n]), "\(name) example \(n): ELBO at ε \(terms.elbo) vs PyTorch \(reference.elbo[n])")
        }
    }

    @Test(arguments: layouts)
    func logLikelihoodMatchesWithinItsStandardError(_ name: String) throws {
        let (model, _, reference) = try Self.open(name)
        let x = Matrix<Float>(rows: reference.x.count, columns: model.inputSize, elements: reference.x.flatMap { $0.map(Float.init) })
        var random = RandomSource(seed: 29)
        for n in 0..<reference.x.count {
            let estimate = try #require(model.logLikelihood(x, indices: [n], importanceSamples: reference.k, random: &random))
            let ours = estimate.logLikelihood.mean, tolerance = 4 * 2.0.squareRoot() * reference.log_px_se[n]
            #expect(abs(ours - reference.log_px[n]) < tolerance,
                    "\(name) example \(n): log p̂(x) \(ours) vs PyTorch \(reference.log_px[n]) (4 standard errors: \(tolerance))")
        }
    }

    /// What each file's structure says, and that only what it cannot say is assumed.
    @Test func recognisedStructures() throws {
        let (examples, examplesInfo, _) = try Self.open("examples")
        #expect(examples.architecture.naming == .pytorchExample)
        #expect(examplesInfo.assumptions.map { $0.prefix(while: { $0 != ":" }) } == ["activation=relu", "likelihood=bernoulli", "variance=logvar"])
        let (sequential, sequentialInfo, _) = try Self.open("sequential")
        #expect(sequential.architecture.head == .split && sequential.architecture.encoder.filter(\.hasParameters).count == 6)
        #expect(sequential.architecture.encoder.contains(.tanh) && !sequentialInfo.assumptions.contains { $0.hasPrefix("activation=") })
        #expect(sequential.architecture.naming == .sequential)   // the file's own names: nothing renamed
        let (muVar, muVarInfo, _) = try Self.open("mu_var")
        #expect(muVar.architecture.encoder == [.Linear(16, 12), .relu, .Linear(12, 8), .relu])
        #expect(muVarInfo.understood.contains { $0.contains("'fc_mu' gives μ and 'fc_var'") })
        let (pyro, _, _) = try Self.open("pyro")
        #expect(pyro.architecture.variance == .logstd && pyro.architecture.decoder == [.Linear(3, 8), .Softplus(), .Linear(8, 16)])
    }

    /// The issue's list of files that opened with wrong numbers and only "assumed: activation
    /// relu": opened the same way (no options), each now refuses, or says in one line each what it
    /// assumed, naming the option, and the options that describe the model give PyTorch's numbers
    /// (`deterministicTermsMatchPyTorch`).
    @Test func everySilentGuessNowMatchesOrRefusesOrSays() throws {
        // σ = softplus(head), heads named mu and sigma: refused, naming the option.
        let (softplus, softplusPath) = try Self.reference("softplus_std")
        #expect {
            _ = try Checkpoint.read(path: softplusPath, as: Float.self, hints: Self.hints([:], input: softplus.input))
        } throws: { error in
            let error = error as? CheckpointError
            return error?.message.contains("the head 'sigma' gives σ") == true && error?.hint?.contains("variance=softplus-std") == true
        }
        // Pyro: fc22 is log σ and the hidden layers softplus, neither of which the file can say.
        let (pyro, pyroPath) = try Self.reference("pyro")
        let guessed = try Checkpoint.read(path: pyroPath, as: Float.self, hints: Self.hints([:], input: pyro.input))
        let lines = guessed.info.assumptions
        #expect(lines.contains { $0.hasPrefix("activation=relu") && $0.contains("activation=tanh, softplus") })
        #expect(lines.contains { $0.hasPrefix("variance=logvar") && $0.contains("variance=logstd") })
        // …and the guess is far from PyTorch (which is why it is said), the options match it.
        let wrong = Self.terms(guessed.model, pyro)
        #expect(zip(wrong, pyro.kl).contains { !Self.close($0.kl, $1) })
        // The state-dict .pt of the pytorch/examples layout: what is assumed is what it is.
        let (examples, _, reference) = try Self.open("examples")
        #expect(zip(Self.terms(examples, reference), reference.kl).allSatisfy { Self.close($0.kl, $1) })
    }

    @Test func refusals() throws {
        let cases: [(file: String, message: String, hint: String)] = [
            ("conv.pt", "'encoder.0' is a convolution [4, 1, 3, 3], whose stride, padding and output padding its weights cannot tell",
             "model encoder=\"Conv2d(1, 4, 3, stride=?, padding=?) BatchNorm2d(4) ReLU()? Conv2d(4, 8, 3, stride=?, padding=?) ReLU()? Flatten()\" latent=2"),
            ("leftover.pt", "the tensor 'prior_scale' [3] belongs to no layer", "fc1 Linear [8, 16]; fc21 Linear [3, 8]"),
            ("lone_head.pt", "'fc_mu' is named like a latent head, but its partner", "into=model' maps the tensors onto it by order and shape"),
            ("ambiguous_chain.pt", "the shapes chain in more than one way: the encoder could be a (decoder b → c) or a → c (decoder b)",
             "understood: 'fc_mu' gives μ and 'fc_logvar' the variance: Z = 3 from 8 features"),
        ]
        for (file, message, hint) in cases {
            let path = try #require(Bundle.module.path(forResource: file, ofType: nil, inDirectory: "Fixtures/torch/layouts"))
            #expect {
                _ = try Checkpoint.read(path: path, as: Float.self)
            } throws: { error in
                guard let error = error as? CheckpointError else { return false }
                let ok = error.message.contains(message) && (error.hint ?? "").contains(hint)
                if !ok { Issue.record("\(file): \(error.message)\nhint: \(error.hint ?? "")") }
                return ok
            }
        }
    }

    /// `open FILE into=model`: the tensors go onto the described model by order and shape, and a
    /// model they do not fit is refused with both lists.
    @Test func mapsOntoADescribedModelByOrderAndShape() throws {
        let (_, info, _) = try Self.open("conv")
        #expect(info.understood.contains { $0.contains("mapped onto the model's by order and shape") })
        let (_, path) = try Self.reference("sequential")
        #expect {
            _ = try Checkpoint.read(path: path, as: Float.self, architecture: Self.convArchitecture)
        } throws: { error in
            (error as? CheckpointError)?.message.contains("do not fit the model described") == true
        }
    }
}
