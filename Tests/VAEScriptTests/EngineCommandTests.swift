import Foundation
import Testing
@testable import VAEKit
@testable import VAEScript

/// Engine commands on states a golden script cannot make.
@Suite("Engine commands")
struct EngineCommandTests {
    /// A model whose weights give NaN: show-sign shows ✗ for the checks that fail, and no crash.
    @Test func showSignOnANaNModelShowsCrosses() throws {
        var random = RandomSource(seed: 1)
        let model = try VAE<Float>(VAEConfiguration(inputSize: 784, encoderHidden: [8], latentSize: 2), random: &random)
        let slot = try #require(model.parameters.slot(named: "fc4.bias"))
        model.parameters.values(of: slot)[0] = .nan
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-nan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("nan.safetensors").path
        try Checkpoint.save(model, to: path)

        let run = runScript("""
            load mnist limit=50
            open \(path)
            show-sign limit=10 k=20
            kl index=0
            """)
        #expect(run.outcome == .finished(failures: 0), "\(run.standardError)")
        #expect(run.standardOutput.contains("warning: some parameters are NaN or infinite"))
        #expect(run.standardOutput.contains("✗ loss = −ELBO"))
        #expect(run.standardOutput.contains("✗ one Adam step on a copy"))
        #expect(run.standardOutput.contains("✓ KL ≥ 0"), "the encoder is finite, so its KL is fine")
        #expect(run.session.variable("checks_passed") == .number(1))
    }

    /// Under --json every reporting command prints exactly one JSON object on one line.
    @Test func jsonIsOneObjectPerCommand() throws {
        var options = SessionOptions()
        options.json = true
        let run = runScript("""
            load mnist limit=50
            model hidden=8 latent=2
            recon
            kl method=both
            elbo
            loss
            logpx limit=5 k=10
            step batch=16
            train epochs=2 batch=25
            show-sign limit=5 k=10
            info
            """, options: options)
        #expect(run.outcome == .finished(failures: 0), "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n")
        #expect(lines.count == 12, "train prints one object per epoch: \(lines)")
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["command"] is String, "\(line)")
        }
        let kl = try JSONSerialization.jsonObject(with: Data(lines[3].utf8)) as? [String: Any]
        #expect(kl?["kl"] is Double && kl?["kl_se"] is Double && kl?["kl_mc"] is Double && kl?["examples"] as? Int == 50)
        let train = try JSONSerialization.jsonObject(with: Data(lines[8].utf8)) as? [String: Any]
        #expect(train?["command"] as? String == "train" && train?["epoch"] as? Int == 1 && train?["test_loss"] is Double)
    }

    /// A session that takes another's state prints what the other would print next, and stepping
    /// its model leaves the other's as it was (FuzzInterpreter starts every input from such a copy).
    @Test func takeStateGoesOnFromACopy() {
        let prelude = "load mnist limit=50\nmodel hidden=8 latent=2\nlet a = 2\n"
        let next = "history\nvars\nstep batch=10\nkl\nundo\nelbo\ninfo\n"
        let prepared = runScript(prelude).session
        let copy = Session(options: SessionOptions(), output: CapturingOutput())
        copy.takeState(of: prepared)
        let fromCopy = runScript(next, session: copy)

        let straight = runScript(prelude)
        let printedBefore = straight.standardOutput.count
        let goingOn = runScript(next, session: straight.session)
        #expect(fromCopy.outcome == .finished(failures: 0), "\(fromCopy.standardError)")
        #expect(fromCopy.standardOutput == String(goingOn.standardOutput.dropFirst(printedBefore)))

        _ = runScript("step batch=10", session: copy)
        let original = runScript("elbo", session: prepared), untouched = runScript(prelude + "elbo")
        #expect(original.session.variable("elbo") == untouched.session.variable("elbo"))
    }

    /// The same seed gives the same numbers; another seed, other numbers.
    @Test func scriptsAreReproducibleWithASeed() {
        let script = "load mnist limit=100\nmodel hidden=16 latent=2\ntrain epochs=1 batch=20\nelbo\n"
        var options = SessionOptions()
        options.seed = 7
        let first = runScript(script, options: options), second = runScript(script, options: options)
        #expect(first.session.variable("elbo") == second.session.variable("elbo"))
        options.seed = 8
        let other = runScript(script, options: options)
        #expect(first.session.variable("elbo") != other.session.variable("elbo"))
    }

    @Test("a failed assert on values from different commands names the command behind each")
    func failedAssertNamesWhereValuesCameFrom() {
        let run = runScript("load mnist limit=50\nmodel hidden=8 latent=2\nloss limit=10\nlogpx limit=10 k=5\nassert loss == -elbo\n")
        #expect(run.standardError.contains("assertion failed: loss == -elbo (loss = "), "\(run.standardError)")
        #expect(run.standardError.contains(" from 'loss limit=10', elbo = "), "\(run.standardError)")
        #expect(run.standardError.contains(" from 'logpx limit=10 k=5')"), "\(run.standardError)")
        // One command behind them all: the values alone, as before.
        let same = runScript("load mnist limit=50\nmodel hidden=8 latent=2\nloss limit=10\nassert loss == 0\n")
        #expect(same.standardError.contains("assertion failed: loss == 0 (loss = ") && !same.standardError.contains(" from '"),
                "\(same.standardError)")
    }
}
