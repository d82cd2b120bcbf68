import Testing
@testable import VAEKit
@testable import VAEScript

/// Output that fits the width: wrapping, tables that shorten, carets, the prompt, progress lines.
@Suite("Layout")
struct LayoutTests {
    // MARK: - Wrapping and tables

    @Test func wrappingBreaksAtBlanksAndNeverInsideAWord() {
        #expect(TextLayout.wrap("short", width: 10) == ["short"])
        #expect(TextLayout.wrap("  ✓ KL ≥ 0: 25.1 on average", width: 14) == ["  ✓ KL ≥ 0:", "    25.1 on", "    average"])
        #expect(TextLayout.wrap("a verylongword b", width: 6) == ["a", "  verylongword", "  b"])
        #expect(TextLayout.wrap("one two three", width: 7, hangingIndent: 0) == ["one two", "three"])
    }

    @Test func aTableTooWideShortensItsWidestColumnAndWrapsItsCells() {
        var table = TextTable(alignments: [.left, .right, .left])
        table.append(["term", "value", "what the optimiser does with it"])
        table.append(["KL", "25.12", "lowers it (inside the ELBO)"])
        let natural = table.render()
        #expect(natural.split(separator: "\n").allSatisfy { $0.count <= 50 })
        let narrow = table.render(width: 30)
        #expect(narrow == """
            term  value  what the
                         optimiser does
                         with it
            KL    25.12  lowers it (inside
                         the ELBO)

            """)
        // Whole words only: a column never gets narrower than its longest word.
        let tight = table.render(width: 5)
        #expect(tight.contains("optimiser") && tight.contains("25.12"))
    }

    @Test func aReportIsLaidOutForItsWidth() {
        var report = Report(command: "x")
        report.addText("the ELBO is maximised; the optimiser minimises its negative, the loss")
        report.addPreformatted("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ a picture is never wrapped")
        let text = report.humanText(width: 30)
        #expect(text == """
            the ELBO is maximised; the
              optimiser minimises its
              negative, the loss
            @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ a picture is never wrapped

            """)
    }

    @Test func standardErrorsSayWhatTheyAre() {
        var report = Report(command: "elbo")
        report.standardErrorNote = "± is one standard error of the mean over the 50 examples"
        report.add(Quantity("elbo", label: "ELBO", value: -100, standardError: 0.5, unit: "nats/example"))
        #expect(report.humanText().hasSuffix("± is one standard error of the mean over the 50 examples\n"))
        var exact = Report(command: "kl")
        exact.standardErrorNote = "never shown: nothing has a standard error"
        exact.add(Quantity("kl", label: "KL", value: 3, unit: "nats/example"))
        #expect(!exact.humanText().contains("±"))
    }

    @Test func oneExampleShowsNoPlusMinus() {
        let run = runScript("load mnist limit=20\nmodel hidden=8 latent=2\nelbo index=3\nkl index=3\nloss index=3\nlogpx index=3 k=20\n")
        #expect(run.outcome == .finished(failures: 0), "\(run.standardError)")
        #expect(!run.standardOutput.contains("± "), "\(run.standardOutput)")
        let many = runScript("load mnist limit=20\nmodel hidden=8 latent=2\nelbo index=3 samples=10\n")
        #expect(many.standardOutput.contains("± is the Monte-Carlo standard error over the 10 draws of z of this one example"),
                "\(many.standardOutput)")
    }

    // MARK: - Errors

    @Test func theCaretShowsOnlyWhenTheColumnMeansSomething() {
        // A command that fails as a whole: the column is its own, and one command is on the line.
        let alone = runScript("assert 1 > 2\n", name: "t.vae")
        #expect(alone.standardError == "t.vae:1:1: error: assertion failed: 1 > 2\n")
        // Two commands on the line: the caret says which failed.
        let second = runScript("echo hi; assert 1 > 2\n", name: "t.vae")
        #expect(second.standardError == "t.vae:1:10: error: assertion failed: 1 > 2\necho hi; assert 1 > 2\n         ^\n")
        // An argument's value: the caret points at it.
        let value = runScript("set lr=0\n", name: "t.vae")
        #expect(value.standardError.contains("set lr=0\n       ^"), "\(value.standardError)")
    }

    // MARK: - The prompt

    @Test func thePromptStaysShort() {
        let run = runScript("load mnist limit=10\nmodel hidden=512,256,128,64 latent=10\n")
        #expect(run.outcome == .finished(failures: 0), "\(run.standardError)")
        let label = run.session.promptLabel ?? ""
        #expect(label.count <= 24, "\(label)")
        #expect(label.hasSuffix("784-…-10"), "\(label)")
        #expect(run.session.prompt.count <= 33)
    }

    // MARK: - Progress

    static func terminalSession(escapes: Bool, width: Int = 60) -> (Session, CapturingOutput) {
        var options = SessionOptions()
        options.isTerminal = true
        options.terminalHandlesEscapes = escapes
        options.terminalWidth = { width }
        let output = CapturingOutput()
        return (Session(options: options, output: output), output)
    }

    @Test func aProgressLineFitsAndClearsItself() {
        let (session, output) = Self.terminalSession(escapes: true)
        let line = ProgressLine(session: session, delay: .zero)
        line.draw(label: "epoch 1", fraction: 0.5, counts: "23/469", eta: "ETA 12s",
                  details: ["loss 172.5", "recon -160.2", "KL 12.3", "10,512 ex/s"])
        line.clear()
        let drawn = output.standardOutput.components(separatedBy: "\r\u{1B}[2K").filter { !$0.isEmpty }
        #expect(drawn.count == 1 && drawn[0].count < 60, "\(drawn)")
        #expect(drawn[0].hasPrefix("epoch 1  ") && drawn[0].contains("23/469  ETA 12s"))
        #expect(output.standardOutput.hasSuffix("\r\u{1B}[2K"))
    }

    @Test func aDumbTerminalGetsCarriageReturnsAndBlanksOnly() {
        let (session, output) = Self.terminalSession(escapes: false)
        let line = ProgressLine(session: session, delay: .zero)
        line.draw(label: "logpx", fraction: 0.25, counts: "25%", eta: "ETA 3s", details: [])
        line.clear()
        #expect(!output.standardOutput.contains("\u{1B}"))
        #expect(output.standardOutput.hasPrefix("\rlogpx  "))
        #expect(!session.usesColor && TerminalPicture.style(for: session) == .ascii)
    }

    @Test func noProgressLineInAPipeOrUnderJSON() {
        var options = SessionOptions()
        options.isTerminal = false
        let output = CapturingOutput()
        let line = ProgressLine(session: Session(options: options, output: output), delay: .zero)
        line.update("logpx", fraction: 0.5)
        line.clear()
        #expect(output.standardOutput.isEmpty)
    }

    @Test func durationsReadLikeClocks() {
        #expect(ProgressLine.duration(4.4) == "4s")
        #expect(ProgressLine.duration(185) == "3m 05s")
        #expect(ProgressLine.duration(3720) == "1h 02m")
    }

    // MARK: - Pictures

    @Test func picturesAreFullSizeWhenARowFits() {
        let tile = GreyImage(width: 28, height: 28, fill: 1)
        let one = TerminalPicture.render(ImageGrid(tileWidth: 28, tileHeight: 28, columns: 1, tiles: [tile]), style: .ascii, width: 80)
        #expect(one.split(separator: "\n").count == 14 && one.split(separator: "\n").allSatisfy { $0.count == 28 })
        let eight = ImageGrid(tileWidth: 28, tileHeight: 28, columns: 8, tiles: Array(repeating: tile, count: 8))
        #expect(TerminalPicture.shrinkFactor(for: eight, width: 80) == 2, "8 × 29 − 1 = 231 columns do not fit 80")
        #expect(TerminalPicture.shrinkFactor(for: eight, width: 240) == 1)
        #expect(TerminalPicture.render(eight, style: .ascii, width: 240).split(separator: "\n").count == 14)
    }

    @Test func scaledPicturesRepeatEachPixel() {
        let image = GreyImage(width: 2, height: 1, pixels: [0, 1])
        let scaled = image.scaled(by: 3)
        #expect(scaled.width == 6 && scaled.height == 3)
        #expect(scaled.pixels == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1])
    }
}
