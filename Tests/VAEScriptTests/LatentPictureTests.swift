import Foundation
import Testing
import TestSupport
import VAEKit
@testable import VAEScript

/// `latent`, `manifold` and `interpolate` as pictures: the PNGs decoded (size, colour type, and
/// each example's dot where its posterior mean says), the scatter in characters, and the shared
/// canvas's ticks.
@Suite("Latent-space pictures")
struct LatentPictureTests {
    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "vaesh-latent-\(getpid())-\(name)"
    }

    @Test func theScatterPNGPutsEveryExampleWhereItsMeanSays() throws {
        let path = Self.temporaryPath("latent.png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = runScript("load mnist limit=100\nmodel hidden=16 latent=2\nlatent limit=60 out=\(path)")
        #expect(run.outcomeText == "finished 0", "\(run.standardError)")
        let png = try PNGTestDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(png.colourType == 2 && png.bitDepth == 8, "an RGB PNG")
        let side = ScatterPlot.plotSide, left = ScatterPlot.marginLeft, top = ScatterPlot.marginTop
        #expect(png.height == top + side + ScatterPlot.marginBottom)
        #expect(png.width >= left + side + ScatterPlot.legendWidth)

        // The means, from the engine directly, and where the scatter puts them.
        let session = run.session
        let model = try #require(session.workbench.trainer?.model)
        let split = try #require(session.workbench.dataset?.test)
        let codes = try #require(model.latentCodes(split, indices: Array(0..<60)))
        let labels = try #require(split.labels)
        let xs = (0..<60).map { codes.mean($0)[0] }, ys = (0..<60).map { codes.mean($0)[1] }
        let plot = ScatterPlot(xs: xs, ys: ys, labels: nil, title: "", xTitle: "", yTitle: "")
        let extent = plot.extent
        func pixel(_ x: Int, _ y: Int) -> RGB {
            let at = (y * png.width + x) * 3
            return RGB(png.pixels[at], png.pixels[at + 1], png.pixels[at + 2])
        }
        /// The pixel example n's mean falls on.
        func dot(_ n: Int) -> (x: Int, y: Int) {
            (Int((Double(left) + (xs[n] + extent) / (2 * extent) * Double(side)).rounded()),
             Int((Double(top) + (extent - ys[n]) / (2 * extent) * Double(side)).rounded()))
        }
        let palette = Set((0..<10).map { ScatterPlot.colour(label: $0) })
        for n in 0..<60 {
            let (px, py) = dot(n)
            // A later dot may cover this one, but only with another label's colour.
            #expect(palette.contains(pixel(px, py)), "example \(n) at (\(px), \(py)): \(pixel(px, py))")
        }
        // The last example's dot is on top: its own label's colour.
        let last = 59
        #expect(pixel(dot(last).x, dot(last).y) == ScatterPlot.colour(label: Int(labels[last])))
        // Every label present has pixels of its colour (the legend, at least), and the plot's
        // corner, far outside the 2σ circle and every mean of an untrained model, is white.
        #expect(pixel(left + 3, top + 3) == .white)
    }

    @Test func theManifoldPNGHasTheGridAndItsAxes() throws {
        let path = Self.temporaryPath("manifold.png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = runScript("load mnist limit=20\nmodel hidden=16 latent=2\nmanifold 4 out=\(path) scale=2")
        #expect(run.outcomeText == "finished 0", "\(run.standardError)")
        let png = try PNGTestDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        // 4×28 pixels of grid plus the margins, twice over; greys only, so a grey PNG.
        #expect(png.colourType == 0)
        #expect(png.width == 2 * (ManifoldPicture.marginLeft + 4 * 28 + ManifoldPicture.marginRight))
        #expect(png.height == 2 * (ManifoldPicture.marginTop + 4 * 28 + ManifoldPicture.marginBottom))
    }

    @Test func theScatterInCharactersPutsLabelsInTheirCells() {
        // Label 3 at the origin, label 7 at (2, 2), one unlabelled view of the same.
        let plot = ScatterPlot(xs: [0, 2], ys: [0, 2], labels: [3, 7], title: "T", xTitle: "Z[0]", yTitle: "Z[1]")
        let text = plot.text(colour: false, columns: 20)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // 20 columns, 10 rows of cells over [−2.5, 2.5]²: the origin is in cell (10, 5), (2, 2) in (18, 1).
        let rows = lines.prefix(10).map { Array($0.dropFirst(6)) }  // "  2.5 ┤" is 6 characters before the cells
        #expect(rows[5].count > 10 && rows[5][10] == "3", "\(text)")
        #expect(rows[1].count > 18 && rows[1][18] == "7", "\(text)")
        #expect(text.contains("3 (1)  7 (1)"))
        #expect(!text.contains("\u{1B}"))
        let coloured = plot.text(colour: true, columns: 20)
        #expect(coloured.contains("\u{1B}[38;5;"))
        #expect(coloured.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "braille dots")
    }

    @Test func theCaptionUnderTheAxisSplitsWhenTheLineIsTooNarrow() {
        // The tour's projection at 80 columns: the caption is wider than the 48-column plot and,
        // in one piece, than the line.
        let plot = ScatterPlot(xs: [0], ys: [0], labels: [1], title: "T",
                               xTitle: "PC1 (25% of variance)", yTitle: "PC2 (21%)")
        let wide = plot.text(colour: false, columns: 48)
        #expect(wide.contains("x: pc1 (25% of variance), y: pc2 (21%); dashed circles: the prior's 1σ and 2σ\n"))
        let narrow = plot.text(colour: false, columns: 48, lineWidth: 80)
        #expect(narrow.contains("x: pc1 (25% of variance), y: pc2 (21%);\n"))
        #expect(narrow.contains("      dashed circles: the prior's 1σ and 2σ\n"))
        for line in narrow.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
    }

    @Test func ticksAreRoundNumbersInsideTheRange() {
        #expect(Canvas.ticks(low: -2.5, high: 2.5, target: 6) == [-2, -1, 0, 1, 2])
        let tenths = Canvas.ticks(low: 0, high: 1, target: 5)
        #expect(tenths.count == 6 && zip(tenths, [0, 0.2, 0.4, 0.6, 0.8, 1]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(Canvas.tickDecimals(step: 0.2) == 1 && Canvas.tickDecimals(step: 1) == 0 && Canvas.tickDecimals(step: 0.05) == 2)
    }

    @Test func greysStayGreyAndColoursUseTheCube() throws {
        #expect(RGB.white.paletteIndex == 231 && RGB.black.paletteIndex == 16)
        #expect(RGB(255, 0, 0).paletteIndex == 196)
        var image = ColourImage(width: 2, height: 1)
        #expect(try PNGTestDecoder.decode(image.pngData()).colourType == 0)
        image[1, 0] = RGB(255, 0, 0)
        let decoded = try? PNGTestDecoder.decode(image.pngData())
        #expect(decoded?.colourType == 2 && decoded?.pixels == [255, 255, 255, 255, 0, 0])
    }
}
