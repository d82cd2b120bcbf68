import Foundation
import Testing

/// The scripts that ship in `scripts/`: the tour and the examples, run by the real binary. Their
/// `assert`s are the checks; a failing one fails the script, and so the test.
///
/// All but `pytorch-reference.vae` run on the embedded MNIST subset (`VAESH_DATA` pointing
/// nowhere), as in CI. `pytorch-reference.vae` needs full MNIST and runs only where it is
/// installed (about two and a half minutes on two cores). They run one at a time: each trains a
/// model, and side by side they would only compete for the same cores.
@Suite("Shipped scripts", .serialized)
struct ShippedScriptTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func script(_ relativePath: String) -> String {
        repository.appendingPathComponent("scripts/" + relativePath).path
    }

    /// The examples that run on the embedded subset.
    static let examples = ["beta-vae.vae", "gaussian-likelihood.vae", "iwae-gap.vae", "mean-vs-sum.vae", "posterior-collapse.vae",
                           "whose-loss-is-this.vae"]

    /// The data folder holding full MNIST, if there is one: `$VAESH_DATA`, else the default
    /// folder under the real home directory.
    static let fullMNIST: String? = {
        let environment = ProcessInfo.processInfo.environment
        let folder = environment["VAESH_DATA"]
            ?? environment["HOME"].map { $0 + "/.local/share/vaesh/mnist" }
        guard let folder else { return nil }
        let names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        let present = names.allSatisfy { name in
            FileManager.default.fileExists(atPath: "\(folder)/\(name).gz") || FileManager.default.fileExists(atPath: "\(folder)/\(name)")
        }
        return present ? folder : nil
    }()

    static let noData = ["VAESH_DATA": "/nonexistent-vaesh-data"]

    @Test("the tour runs to the end on the embedded subset, every assert passing")
    func tour() throws {
        let sandbox = try Sandbox()
        let started = Date()
        let result = try sandbox.run(["--no-rc", Self.script("tour.vae")], environment: Self.noData, timeout: 600)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr == "")
        #expect(result.stdout.contains("loaded embedded MNIST subset"))
        for section in 1...8 { #expect(result.stdout.contains("== \(section). "), "section \(section) missing") }
        #expect(result.stdout.contains("16 samples from the prior"))
        #expect(!result.stdout.contains("✗"), "a check of show-sign failed:\n\(result.stdout)")
        // The README promises under a minute on two cores in a release build; a debug build or a
        // loaded machine is slower, so this only catches a tour that has grown far too long.
        #expect(seconds < 300, "the tour took \(Int(seconds)) s")
    }

    @Test(arguments: examples)
    func example(_ name: String) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--no-rc", Self.script("examples/" + name)], environment: Self.noData, timeout: 600)
        #expect(result.status == 0, "\(name): \(result)")
        #expect(result.stderr == "", "\(name)")
        #expect(!result.stdout.contains("✗"), "\(name): a check failed:\n\(result.stdout)")
    }

    /// The lesson opens a PyTorch file the person saved, `vae.pt` beside them: the Pyro-style
    /// model layouts.py wrote.
    @Test func yourOwnModel() throws {
        let sandbox = try Sandbox()
        let fixture = Self.repository.appendingPathComponent("Tests/VAEFormatsTests/Fixtures/torch/layouts/pyro_mnist.pt").path
        try FileManager.default.copyItem(atPath: fixture, toPath: sandbox.path("vae.pt"))
        // The script names its files relative to where it runs, as a person's would: here, the sandbox.
        let text = try String(contentsOfFile: Self.script("examples/your-own-model.vae"), encoding: .utf8)
            .replacingOccurrences(of: " vae.pt", with: " " + sandbox.path("vae.pt"))
            .replacingOccurrences(of: " vae-trained.pt", with: " " + sandbox.path("vae-trained.pt"))
        let script = try sandbox.write("your-own-model.vae", text)
        let result = try sandbox.run(["--no-rc", script], environment: Self.noData, timeout: 600)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr == "")
        #expect(!result.stdout.contains("✗"), "a check failed:\n\(result.stdout)")
        #expect(result.stdout.contains("assumed: activation=relu") && result.stdout.contains("assumed: variance=logvar"))
        #expect(FileManager.default.fileExists(atPath: sandbox.path("vae-trained.pt")))
        // Under --json the assumptions are a list, each naming its option.
        let json = try sandbox.run(["--no-rc", "--json", "-c", "open " + sandbox.path("vae.pt") + " variance=logstd"], environment: Self.noData)
        #expect(json.stdout.contains(#""assumptions":["activation=relu: the file cannot say"#), "\(json)")
        #expect(json.stdout.contains(#""variance":"logstd""#), "\(json)")
    }

    @Test("pytorch-reference lands within ±0.5 of the PyTorch example's test loss",
          .enabled(if: fullMNIST != nil, "full MNIST is not installed (scripts/fetch-mnist): pytorch-reference.vae not run"))
    func pytorchReference() throws {
        let sandbox = try Sandbox()
        let folder = try #require(Self.fullMNIST)
        let result = try sandbox.run(["--no-rc", Self.script("examples/pytorch-reference.vae")],
                                     environment: ["VAESH_DATA": folder], timeout: 1800)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("full MNIST"))
        #expect(result.stdout.contains("Test loss after 10 epochs"))
    }

    @Test("every example in scripts/examples is run by a test")
    func everyExampleIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("scripts/examples").path)
            .filter { $0.hasSuffix(".vae") }.sorted()
        #expect(files == (Self.examples + ["pytorch-reference.vae", "your-own-model.vae"]).sorted())
    }
}
