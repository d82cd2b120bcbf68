import Testing
import VAEKit
@testable import VAEScript

/// The parts of `whatis` that are not the engine's: how a typed number's last digit becomes its
/// rounding, how lines wrap, and the match variables a script reads.
@Suite("whatis")
struct WhatIsTests {
    @Test(arguments: [
        ("0.1347", 0.00005), ("105", 0.5), ("-105.6", 0.05), ("105.60", 0.005), ("1.5e-5", 0.0000005),
        ("2E3", 500), (".5", 0.05), ("+7", 0.5),
    ])
    func roundingOfTheLastPrintedDigit(_ text: String, _ expected: Double) throws {
        let half = try #require(CommandTable.halfUnitOfLastDigit(text))
        #expect(abs(half - expected) <= 1e-12 * expected, "\(text): \(half)")
    }

    @Test(arguments: ["loss", "1/2", "", "-", "0e400", "1e", "1.2.3e"])
    func noRoundingForWhatIsNotADecimalLiteral(_ text: String) {
        #expect(CommandTable.halfUnitOfLastDigit(text) == nil, "\(text)")
    }

    @Test func wrapsAtTheWidthWithAHangingIndent() {
        let lines = IdentificationReport.wrap("   one two three four five six", width: 12, indent: "   ")
        #expect(lines == ["   one two", "   three", "   four five", "   six"])
        #expect(lines.allSatisfy { $0.count <= 12 })
        #expect(IdentificationReport.wrap("a-word-longer-than-the-width x", width: 8, indent: "  ") == ["a-word-longer-than-the-width", "  x"])
    }

    /// Every convention's match variable is set on every run, so a rank from an earlier run never
    /// survives one where that convention is not matched or not even computed (β without beta=).
    /// And what whatis prints fits 80 columns.
    @Test func everyMatchVariableIsSetOnEveryRunAndLinesFit() throws {
        let setup = runScript("load mnist limit=100\nmodel hidden=16 latent=2\nloss\n")
        let before = setup.standardOutput.count
        let run = runScript("""
            whatis -recon+4*kl batch=100 beta=4
            assert match_beta_loss == 1
            whatis kl*3 batch=100
            assert match_beta_loss == 0 and match_loss == 0
            whatis 0.1347
            """, session: setup.session)
        #expect(run.outcome == .finished(failures: 0), "\(run.standardError)")
        for id in Convention.allIdentifiers {
            #expect(run.session.variable("match_" + id) != nil, "match_\(id)")
        }
        let printed = run.standardOutput.dropFirst(before)
        #expect(printed.contains("no convention matches 0.1347"))
        for line in printed.split(separator: "\n") {
            #expect(line.count <= 80, "\(line.count) characters: \(line)")
        }
    }
}
