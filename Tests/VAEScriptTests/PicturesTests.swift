import Foundation
import Testing
import VAEKit
@testable import VAEScript

/// Pictures as text: ASCII shades and half-blocks, shrinking and bands; and the text chart.
@Suite("Terminal pictures")
struct PicturesTests {
    /// A 4×4 ramp: row y holds (x + 4y)/15.
    static let ramp = GreyImage(width: 4, height: 4, pixels: (0..<16).map { Float($0) / 15 })

    @Test func asciiUsesTwoPixelRowsPerLine() {
        let text = TerminalPicture.render(Self.ramp, style: .ascii)
        // Line 0 averages rows 0 and 1: (x + 2)/15 → shades of 2/15…5/15; line 1 rows 2 and 3.
        let expected = [0, 1, 2, 3].map { x in TerminalPicture.shade(Float(x + 2) / 15) }
        let second = [0, 1, 2, 3].map { x in TerminalPicture.shade(Float(x + 10) / 15) }
        #expect(text == String(expected) + "\n" + String(second) + "\n")
    }

    @Test func asciiShadesSpanBlackToWhite() {
        #expect(TerminalPicture.shade(0) == " ")
        #expect(TerminalPicture.shade(1) == "@")
        #expect(TerminalPicture.shade(.nan) == " ")
        #expect(TerminalPicture.shade(2) == "@")
        let all = (0...9).map { TerminalPicture.shade(Float($0) / 9) }
        #expect(String(all) == " .:-=+*#%@")
    }

    @Test func asciiHasNoEscapes() {
        let text = TerminalPicture.render(Self.ramp, style: .ascii)
        #expect(!text.contains("\u{1B}"))
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func halfBlocksCarryTwoPixelsPerCharacter() {
        let image = GreyImage(width: 2, height: 2, pixels: [0, 1, 1, 0])
        let text = TerminalPicture.render(image, style: .halfBlocks)
        // Upper black over lower white, then upper white over lower black; reset at the end.
        #expect(text == "\u{1B}[38;5;16;48;5;231m▀\u{1B}[38;5;231;48;5;16m▀\u{1B}[0m\n")
    }

    @Test func halfBlocksRepeatColoursOnlyWhenTheyChange() {
        let image = GreyImage(width: 5, height: 2, fill: 0.5)
        let text = TerminalPicture.render(image, style: .halfBlocks)
        #expect(text.components(separatedBy: "\u{1B}[38;5;").count == 2, "one colour change: \(text.debugDescription)")
        #expect(text.filter { $0 == "▀" }.count == 5)
    }

    @Test func anOddHeightEndsOnBlack() {
        let image = GreyImage(width: 1, height: 3, fill: 1)
        let lines = TerminalPicture.render(image, style: .halfBlocks).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].contains("38;5;231;48;5;16m"))
    }

    @Test func paletteGreysAreNearest() {
        #expect(TerminalPicture.paletteGrey(0) == 16)
        #expect(TerminalPicture.paletteGrey(255) == 231)
        #expect(TerminalPicture.paletteGrey(8) == 232)
        #expect(TerminalPicture.paletteGrey(238) == 255)
        #expect(TerminalPicture.paletteGrey(128) == 244)  // 8 + 10·12 = 128
        #expect(TerminalPicture.paletteGrey(250) == 231)
        #expect(TerminalPicture.paletteGrey(3) == 16)
    }

    @Test func mnistTilesShrinkToFourteenColumns() {
        #expect(TerminalPicture.shrinkFactor(tileWidth: 28) == 2)
        #expect(TerminalPicture.shrinkFactor(tileWidth: 16) == 1)
        let tile = GreyImage(width: 28, height: 28, fill: 1)
        let text = TerminalPicture.render(tile, style: .ascii)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 7)
        #expect(lines.allSatisfy { $0 == String(repeating: "@", count: 14) })
    }

    @Test func wideGridsWrapIntoBandsOfColumns() {
        let tiles = (0..<16).map { GreyImage(width: 28, height: 28, fill: Float($0 % 2)) }
        let grid = ImageGrid(tileWidth: 28, tileHeight: 28, columns: 8, tiles: tiles)
        let text = TerminalPicture.render(grid, style: .ascii, width: 80)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.allSatisfy { $0.count <= 80 })
        // 80 columns hold 5 tiles of 14 + a space: two bands (5 + 3 columns) of two rows of 7 lines,
        // a blank line between the rows and between the bands.
        #expect(lines.count == 2 * (7 + 1 + 7) + 1)
        // Black tiles are blanks, trimmed at the end of a line.
        #expect(lines[0] == "               @@@@@@@@@@@@@@                @@@@@@@@@@@@@@")
        #expect(lines[7] == "")
        #expect(lines[15] == "")
        #expect(TerminalPicture.render(grid, style: .ascii, width: 200).split(separator: "\n", omittingEmptySubsequences: false).count == 7 + 1 + 7 + 1)
    }

    @Test func aGridOfOriginalsAboveReconstructionsKeepsColumnsTogether() {
        let black = GreyImage(width: 4, height: 2, fill: 0), white = GreyImage(width: 4, height: 2, fill: 1)
        let grid = ImageGrid(tileWidth: 4, tileHeight: 2, columns: 3, tiles: [white, white, white, black, black, nil])
        let text = TerminalPicture.render(grid, style: .ascii, width: 9)
        #expect(text == "@@@@ @@@@\n\n\n\n@@@@\n\n\n")
    }

    @Test func styleFollowsTheTerminalAndNoColor() {
        func session(terminal: Bool, noColor: Bool) -> Session {
            var options = SessionOptions()
            options.isTerminal = terminal
            options.noColor = noColor
            return Session(options: options, output: CapturingOutput())
        }
        #expect(TerminalPicture.style(for: session(terminal: true, noColor: false)) == .halfBlocks)
        #expect(TerminalPicture.style(for: session(terminal: true, noColor: true)) == .ascii)
        #expect(TerminalPicture.style(for: session(terminal: false, noColor: false)) == .ascii)
        #expect(TerminalPicture.availableWidth(for: session(terminal: false, noColor: false)) == 80)
    }

    @Test func widthComesFromTheSessionOptions() {
        func width(terminal: Bool, columns: Int?) -> Int {
            var options = SessionOptions()
            options.isTerminal = terminal
            options.terminalWidth = { columns }
            return TerminalPicture.availableWidth(for: Session(options: options, output: CapturingOutput()))
        }
        #expect(width(terminal: true, columns: 132) == 132)
        #expect(width(terminal: true, columns: nil) == 80, "a terminal that does not say")
        #expect(width(terminal: true, columns: 12) == 80, "too narrow to be believed")
        #expect(width(terminal: false, columns: 132) == 80, "logs and pipes do not depend on where they were made")
    }

    // MARK: - The text chart

    @Test func chartMarksTrainAndTestPerEpoch() {
        let panel = ChartPanel(title: "LOSS", train: [200, 150, 120], test: [180, 150, 130])
        let text = Chart.text(panel, width: 80, height: 5)
        // Rows of 20 nats: train 200, 150, 120 and test 180, 150, 130; ◉ where both fall on one cell.
        #expect(text == """
        200.0 ┤●
              │○
        160.0 ┤
              │            ◉
        120.0 ┤                       ◉
              └────────────────────────
               1                      3  epoch

        """)
    }

    @Test func chartOfOneEpochAndOfNoTest() {
        let one = Chart.text(ChartPanel(title: "LOSS", train: [100], test: [nil]), width: 80, height: 3)
        #expect(one.contains("●"))
        #expect(!one.contains("○"))
        #expect(one.hasSuffix("1  epoch\n"))
        #expect(Chart.text(ChartPanel(title: "LOSS", train: [.nan], test: []), width: 80) == "(no finite values to plot)\n")
    }

    @Test func chartPictureHasPanelsAndInk() {
        let image = Chart.image([
            ChartPanel(title: "LOSS", train: [200, 150], test: [180, 160]),
            ChartPanel(title: "KL", train: [5, 9], test: [nil, nil]),
        ])
        #expect(image.width == 2 * Chart.panelWidth)
        #expect(image.pixels.contains(0) && image.pixels.contains(1))
        #expect(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
