import Foundation
import Testing
import TestSupport
import VAEScript

/// Runs every golden script under `Scripts/<area>/<case>.vae` (see `TestSupport/GoldenScript.swift`
/// for the `# expect:` conventions) through the input loop against a capturing sink.
@Suite("Golden scripts")
struct GoldenScriptTests {
    static let directory: URL? = Bundle.module.resourceURL?.appendingPathComponent("Scripts")

    /// `area/case.vae` for every test script; files and folders starting with `_` are helpers.
    static let scripts: [String] = {
        guard let directory, let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return enumerator.compactMap { $0 as? String }
            .filter { path in
                path.hasSuffix(".vae") && !path.split(separator: "/").contains { $0.hasPrefix("_") }
            }
            .sorted()
    }()

    @Test func scriptsAreFound() {
        #expect(Self.scripts.count >= 20)
    }

    @Test(arguments: scripts)
    func script(_ relativePath: String) throws {
        let directory = try #require(Self.directory)
        let file = directory.appendingPathComponent(relativePath)
        let text = try String(contentsOf: file, encoding: .utf8)
        let golden = GoldenScript(parsing: text)

        var options = SessionOptions()
        options.keepGoing = golden.options.contains("keep-going")
        options.json = golden.options.contains("json")
        options.echo = golden.options.contains("echo")
        options.seed = golden.seed ?? 0
        options.width = golden.width
        // Interactively there is no script name, as at the keyboard.
        let interactive = golden.options.contains("interactive")
        let run = runScript(text, name: interactive ? nil : file.path, options: options, interactive: interactive)

        // Diagnostics name files by path; the expectations name them as they sit next to each other.
        let folder = file.deletingLastPathComponent().path + "/"
        let standardError = run.standardError.replacingOccurrences(of: folder, with: "")
        let problems = golden.mismatches(standardOutput: run.standardOutput, standardError: standardError, outcome: run.outcomeText)
        #expect(problems.isEmpty, "\(relativePath):\n\(problems.joined(separator: "\n"))")
    }
}
