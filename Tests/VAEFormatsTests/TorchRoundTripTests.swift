import Foundation
import Testing
import VAEFormats
import VAEKit
import VAEScript

/// vaesh writes a `.pt` file, and real PyTorch loads it as a user would (`torch.load(path,
/// weights_only=True)`, then `load_state_dict(strict=True)` into the architecture the file
/// records) and recomputes the terms: `Fixtures/torch/check_vaesh_checkpoint.py`, run with the
/// Python that `VAESH_TORCH_PYTHON` names. CI has no PyTorch, so without that variable the suite
/// is skipped, saying why.
///
/// Both sides compute in float64 from the same float32 parameters (vaesh reopens its own file as
/// `VAE<Double>`), so they agree to the rounding of a few hundred float64 operations: relative
/// 1e-9 is a thousand times that, and any mistake in the layout (a transposed weight, swapped
/// heads, another activation) gives errors of order 1.
/// The Python with torch the round trip runs, from `VAESH_TORCH_PYTHON`.
enum TorchPython {
    static let path = ProcessInfo.processInfo.environment["VAESH_TORCH_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
}

@Suite("PyTorch reads vaesh's .pt files", .serialized,
       .enabled(if: TorchPython.path != nil,
                "set VAESH_TORCH_PYTHON to a Python with torch (e.g. /work/torchenv/bin/python) to run PyTorch on the .pt files vaesh writes"))
struct TorchRoundTripTests {
    struct Result: Decodable {
        var torch: String
        var keys: [String]
        var mean: [[Double]]
        var log_variance: [[Double]]
        var kl: [Double]
        var log_likelihood_at_mean: [Double]
        var failures: [String]
    }

    enum Case: String, CaseIterable, Sendable {
        /// The pytorch/examples VAE PyTorch trained (the parity fixture), opened and saved again
        /// as .pt, on the first 20 MNIST test images.
        case trainedExample
        /// Deeper, asymmetric, softplus, a learned Gaussian variance (logvar_x).
        case deepSoftplusLearnedVariance
        /// tanh and a fixed-σ Gaussian.
        case tanhFixedGaussian
    }

    @Test(arguments: Case.allCases)
    func pytorchRecomputesTheTerms(_ testCase: Case) throws {
        let python = try #require(TorchPython.path)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-torch-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("\(testCase.rawValue).pt").path

        // The model, saved as .pt, then reopened by vaesh in Double: the parameters both sides use.
        var random = RandomSource(seed: 5)
        let inputs: [[Double]]
        switch testCase {
        case .trainedExample:
            let fixture = try #require(Bundle.module.path(forResource: "vae_784_400_20", ofType: "safetensors", inDirectory: "Fixtures/pytorch"))
            let (model, _) = try Checkpoint.open(path: fixture, as: Float.self)
            try Checkpoint.save(model, to: checkpoint)
            let test = try #require(Dataset.embeddedMNIST().test)
            let batch = Matrix<Double>(rows: 20, columns: 784)
            test.fillBatch(Array(0 ..< 20), into: batch, epoch: 0)
            inputs = (0 ..< 20).map { Array(batch.elements[$0 * 784 ..< ($0 + 1) * 784]) }
        case .deepSoftplusLearnedVariance, .tanhFixedGaussian:
            let configuration = testCase == .tanhFixedGaussian
                ? VAEConfiguration(inputSize: 12, encoderHidden: [5], latentSize: 2, activation: .tanh, likelihood: .gaussian(sigma: 0.1))
                : VAEConfiguration(inputSize: 20, encoderHidden: [16, 8], latentSize: 3, decoderHidden: [6, 12, 16],
                                   activation: .softplus, likelihood: .gaussianLearned)
            let model = try VAE<Float>(configuration, random: &random)
            if let slot = model.parameters.slot(named: "logvar_x") {
                for index in 0 ..< slot.count { model.parameters.values(of: slot)[index] = Float(index % 5) * 0.3 - 0.6 }
            }
            try Checkpoint.save(model, to: checkpoint, seed: 5)
            inputs = (0 ..< 8).map { _ in (0 ..< configuration.inputSize).map { _ in random.uniform() } }
        }
        let (model, _) = try Checkpoint.open(path: checkpoint, as: Double.self)

        let result = try Self.runPython(python, checkpoint: checkpoint, inputs: inputs, folder: folder)
        #expect(result.failures.isEmpty, "\(result.failures)")
        // The file's order is the state dict's (PyTorch's module order; the script checks it against
        // the module's own state_dict()), not the order of vaesh's slots: the two heads' weights sit
        // side by side in the flat block so that one product computes both.
        #expect(result.keys == Checkpoint.contents(of: model).tensors.map(\.name), "the state dict's keys, in PyTorch's order")

        // vaesh's numbers, from the same parameters.
        let x = Matrix<Double>(rows: inputs.count, columns: model.inputSize, elements: inputs.flatMap { $0 })
        let (mean, logVariance) = model.encodeMean(x, rows: inputs.count)
        let decoded = model.decodeMean(mean)
        let latent = model.latentSize
        for n in inputs.indices {
            let mu = Array(mean.elements[n * latent ..< (n + 1) * latent])
            let logVar = Array(logVariance.elements[n * latent ..< (n + 1) * latent])
            #expect(Self.close(mu, result.mean[n]) && Self.close(logVar, result.log_variance[n]), "example \(n): μ or log σ²")
            let kl = Divergence.klPerDimension(mean: mu, logVariance: logVar).reduce(0, +)
            #expect(Self.close([kl], [result.kl[n]]), "example \(n): KL \(kl) vs PyTorch \(result.kl[n])")
            let output = Array(decoded.elements[n * model.inputSize ..< (n + 1) * model.inputSize])
            let logLikelihood = Self.logLikelihood(x: inputs[n], decoded: output, model: model)
            #expect(Self.close([logLikelihood], [result.log_likelihood_at_mean[n]]),
                    "example \(n): log p(x|z=μ) \(logLikelihood) vs PyTorch \(result.log_likelihood_at_mean[n])")
        }
    }

    /// log p(x | z = μ) from the decoder's mean in pixel space (σ(logits) for Bernoulli).
    static func logLikelihood(x: [Double], decoded: [Double], model: VAE<Double>) -> Double {
        switch model.architecture.likelihood {
        case .bernoulli:
            return zip(x, decoded).reduce(0) { $0 + $1.0 * log($1.1) + (1 - $1.0) * log1p(-$1.1) }
        case .gaussian(let sigma):
            return zip(x, decoded).reduce(0) { $0 - 0.5 * log(2 * .pi * sigma * sigma) - ($1.0 - $1.1) * ($1.0 - $1.1) / (2 * sigma * sigma) }
        case .gaussianLearned:
            guard let slot = model.parameters.slot(named: "logvar_x") else { return .nan }
            let v = Array(model.parameters.values(of: slot))
            return x.indices.reduce(0) { sum, d in
                sum - 0.5 * (log(2 * .pi) + v[d]) - (x[d] - decoded[d]) * (x[d] - decoded[d]) * exp(-v[d]) / 2
            }
        }
    }

    static func close(_ ours: [Double], _ theirs: [Double]) -> Bool {
        ours.count == theirs.count && zip(ours, theirs).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0), abs($1)) }
    }

    static func runPython(_ python: String, checkpoint: String, inputs: [[Double]], folder: URL) throws -> Result {
        let casePath = folder.appendingPathComponent("case.json")
        let resultPath = folder.appendingPathComponent("result.json")
        try JSONSerialization.data(withJSONObject: ["checkpoint": checkpoint, "inputs": inputs]).write(to: casePath)
        let script = try #require(Bundle.module.path(forResource: "check_vaesh_checkpoint", ofType: "py", inDirectory: "Fixtures/torch"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, casePath.path, resultPath.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let transcript = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(transcript)
        try #require(process.terminationStatus == 0, "check_vaesh_checkpoint.py failed:\n\(transcript)")
        return try JSONDecoder().decode(Result.self, from: Data(contentsOf: resultPath))
    }
}
