import VAEFormats
import Testing
@testable import VAEScript

@Suite("Output")
struct OutputTests {
    @Test func tablesAlignColumnsByCharacters() {
        var table = TextTable(alignments: [.left, .right])
        table.append(["KL(q‖p)", "25.12"])
        table.append(["loss", "105.6"])
        table.append(["x", ""])
        #expect(table.render() == "KL(q‖p)  25.12\nloss     105.6\nx\n")
        #expect(table.render(indent: "  ", separator: " | ") == "  KL(q‖p) | 25.12\n  loss    | 105.6\n  x       |\n")
    }

    @Test func numberFormats() {
        #expect(Format.fixed(25.1234, decimals: 2) == "25.12")
        #expect(Format.fixed(-0.005, decimals: 1) == "-0.0")
        #expect(Format.fixed(.nan, decimals: 2) == "nan")
        // A diverged loss stays one table cell wide.
        #expect(Format.fixed(-2.0443530306149e30, decimals: 3) == "-2.044e+30")
        #expect(Format.fixed(999_999_999.5, decimals: 1) == "999999999.5")
        #expect(Format.count(1, "epoch") == "1 epoch" && Format.count(12_000, "step") == "12,000 steps")
        #expect(Format.general(105.61234) == "105.612")
        #expect(Format.general(1e20) == "1e+20")
        #expect(Format.general(-4) == "-4")
        #expect(Format.exact(0.001) == "0.001")
        #expect(Format.exact(1e-5) == "1e-05")
        #expect(Format.exact(.infinity) == "inf")
    }

    @Test func reportRendersForHumans() {
        var report = Report(command: "kl")
        report.add(Quantity("kl", label: "KL(q‖p)", value: 25.1234, standardError: 0.314, unit: "nats/example",
                            preference: .lowerIsBetter, expectation: "≥ 0"))
        report.add(.count("examples", 10000))
        report.addField("split", .string("test"))
        report.addText("The closed form is never negative.")
        #expect(report.humanText() == """
        KL(q‖p)  = 25.12 ± 0.31 nats/example  ≥ 0, lower is better
        examples = 10000

        The closed form is never negative.

        """.replacingOccurrences(of: "\n\nThe", with: "\nThe"))
    }

    @Test func reportRendersExactlyOneJSONLine() {
        var report = Report(command: "kl")
        report.add(Quantity("kl", label: "KL(q‖p)", value: 25.1234, standardError: 0.314, unit: "nats/example"))
        report.add(.count("examples", 10000))
        report.add(Quantity("elbo", value: .nan))
        report.addField("split", .string("te\"st\n"))
        report.addText("humans only")
        #expect(report.json == #"{"command":"kl","kl":25.1234,"kl_se":0.314,"examples":10000,"elbo":null,"split":"te\"st\n"}"#)
        #expect(!report.json.contains("\n"))
    }

    @Test func jsonEscapesControlCharacters() {
        #expect(JSONValue.string("a\u{01}b\t").rendered == #""a\u0001b\t""#)
        #expect(JSONValue.array([.int(1), .bool(false), .null]).rendered == "[1,false,null]")
    }

    @Test func colouredDiagnosticsOnlyWhenAsked() {
        let error = ScriptError.divisionByZero(at: SourceLocation(line: 1, column: 3))
        let plain = Diagnostics.render(error, sourceName: nil, sourceLine: "1 / 0")
        #expect(plain == "error: division by zero\n1 / 0\n  ^\n")
        let coloured = Diagnostics.render(error, sourceName: nil, sourceLine: "1 / 0", color: true)
        #expect(coloured.contains("\u{1B}[1;31merror:\u{1B}[0m"))
    }

    @Test func suggestionsAreCloseTypos() {
        #expect(Suggestions.closest(to: "lrr", in: ["epochs", "lr", "batch"]) == "lr")
        #expect(Suggestions.closest(to: "trian", in: ["train", "test"]) == "train")
        #expect(Suggestions.closest(to: "hist", in: ["help", "history"]) == "history")
        #expect(Suggestions.closest(to: "zzz", in: ["train", "test"]) == nil)
        #expect(Suggestions.closest(to: "KL", in: ["kl"]) == "kl")
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("ab", "ba") == 1)
    }
}
