import Foundation
import Testing
@testable import VAEScript

/// The three image protocols byte for byte, as their specifications write them: kitty's graphics
/// protocol (APC G, base64 chunks of at most 4096 bytes with m=1 on all but the last), iTerm2's
/// OSC 1337 File=, and DEC sixel (DCS q, raster attributes, colour registers, six-row bands);
/// and how the terminal's answers are read.
@Suite("Terminal images")
struct TerminalImageTests {
    @Test func kittySendsAPNGInOneChunkWhenItFits() {
        // [1, 2, 3] is "AQID" in base64.
        #expect(ImageProtocol.kitty(png: [1, 2, 3]) == "\u{1B}_Ga=T,f=100,q=2,m=0;AQID\u{1B}\\\n")
    }

    @Test func kittyCutsTheBase64IntoChunksOf4096WithTheKeysOnTheFirst() {
        // 6,147 bytes are 8,196 base64 characters: chunks of 4096, 4096 and 4.
        let png = (0..<6147).map { UInt8($0 % 251) }
        let base64 = Data(png).base64EncodedString()
        #expect(base64.count == 8196)
        let chunks = [String(base64.prefix(4096)), String(base64.dropFirst(4096).prefix(4096)), String(base64.suffix(4))]
        let expected = "\u{1B}_Ga=T,f=100,q=2,m=1;\(chunks[0])\u{1B}\\" + "\u{1B}_Gq=2,m=1;\(chunks[1])\u{1B}\\"
            + "\u{1B}_Gq=2,m=0;\(chunks[2])\u{1B}\\\n"
        #expect(ImageProtocol.kitty(png: png) == expected)
        // Every chunk but the last is a multiple of 4 (the spec's rule), and none is longer than 4096.
        let payloads = expected.split(separator: "\u{1B}\\").compactMap { $0.split(separator: ";").last }.filter { $0 != "\n" }
        #expect(payloads.map(\.count) == [4096, 4096, 4])
    }

    @Test func itermSendsTheFileInlineWithItsSize() {
        #expect(ImageProtocol.iterm(png: [1, 2, 3]) == "\u{1B}]1337;File=inline=1;size=3;preserveAspectRatio=1:AQID\u{07}\n")
    }

    @Test func sixelPaintsEachColourOfABandInTurn() {
        // 3×2: white, black, white over black, black, white. Registers in order of first use:
        // 0 white, 1 black. Band 0 (rows 0–1), white: column 0 has row 0 (bit 1 → '@'), column 1
        // nothing ('?'), column 2 both rows (3 → 'B'); '$' back to the start; black: 'A', 'B', '?'.
        let image = GreyImage(width: 3, height: 2, pixels: [1, 0, 1, 0, 0, 1])
        #expect(ImageProtocol.sixel(.grey(image))
                == "\u{1B}P0;1;0q\"1;1;3;2#0;2;100;100;100#1;2;0;0;0#0@?B$#1AB?\u{1B}\\\n")
    }

    @Test func sixelRunsOfFourOrMoreAreRepeatedAndBandsAreSixRowsTall() {
        // 5×7 white: band 0 is six rows (bits 0–5 all set: 63 + 63 = '~'), five times: "!5~";
        // '-' to band 1, one row: '@' five times.
        let image = GreyImage(width: 5, height: 7, fill: 1)
        #expect(ImageProtocol.sixel(.grey(image)) == "\u{1B}P0;1;0q\"1;1;5;7#0;2;100;100;100#0!5~-#0!5@\u{1B}\\\n")
    }

    @Test func sixelColourGoesOntoTheSixLevelCube() {
        // tab10's blue (31, 119, 180) → levels (1, 2, 4) of 0…5 → (51, 102, 204) → 20%, 40%, 80%.
        var image = ColourImage(width: 1, height: 1)
        image[0, 0] = RGB(31, 119, 180)
        #expect(ImageProtocol.sixel(.colour(image)) == "\u{1B}P0;1;0q\"1;1;1;1#0;2;20;40;80#0@\u{1B}\\\n")
    }

    @Test func detectionReadsTheAnswers() {
        let attributes = "\u{1B}[?62;22c"
        let kitty = Array(("\u{1B}_Gi=31;OK\u{1B}\\" + attributes).utf8)
        let iterm = Array(("\u{1B}P>|iTerm2 3.5.0\u{1B}\\" + attributes).utf8)
        let wezterm = Array(("\u{1B}P>|WezTerm 20240203\u{1B}\\" + "\u{1B}[?65;4;6;18;22c").utf8)
        let xtermWithSixel = Array(("\u{1B}P>|XTerm(388)\u{1B}\\" + "\u{1B}[?63;1;2;4;6;9;15;22c").utf8)
        let plainXterm = Array(("\u{1B}P>|XTerm(388)\u{1B}\\" + "\u{1B}[?64;1;2;6;9;15;18;21;22c").utf8)
        #expect(ImageProtocol.detect(answer: kitty) == .kitty)
        #expect(ImageProtocol.detect(answer: iterm) == .iterm)
        #expect(ImageProtocol.detect(answer: wezterm) == .iterm, "WezTerm speaks iTerm2's protocol, preferred to its sixel")
        #expect(ImageProtocol.detect(answer: xtermWithSixel) == .sixel)
        #expect(ImageProtocol.detect(answer: plainXterm) == nil)
        #expect(ImageProtocol.detect(answer: []) == nil)
        // The kitty query is answered with an error by a terminal that parses but refuses it.
        #expect(ImageProtocol.detect(answer: Array(("\u{1B}_Gi=31;ENOTSUPPORTED:\u{1B}\\" + attributes).utf8)) == nil)
    }

    @Test func typingAheadIsToldApartFromTheAnswers() {
        func split(_ text: String) -> (answers: String, typed: String) {
            let (answers, typed) = ImageProtocol.separateTyping(Array(text.utf8))
            return (String(decoding: answers, as: UTF8.self), String(decoding: typed, as: UTF8.self))
        }
        let kitty = "\u{1B}_Gi=31;OK\u{1B}\\", version = "\u{1B}P>|XTerm(388)\u{1B}\\", attributes = "\u{1B}[?62;22c"
        // Keys typed while a command ran come first; more can come between and after the answers.
        let mixed = split("ech" + kitty + "o é" + version + "\u{1B}[A" + attributes + "\r")
        #expect(mixed.answers == kitty + version + attributes)
        #expect(mixed.typed == "echo é\u{1B}[A\r", "an arrow key's sequence is typing, not an answer")
        #expect(split("sample 1\r") == (answers: "", typed: "sample 1\r"))
        #expect(split(attributes) == (answers: attributes, typed: ""))
        // An answer cut off by the deadline is still the terminal's, never typing.
        #expect(split("x\u{1B}_Gi=31;O") == (answers: "\u{1B}_Gi=31;O", typed: "x"))
        #expect(split("\u{1B}[?62;2") == (answers: "\u{1B}[?62;2", typed: ""))
        // Escape alone (a key) and an OSC answer ended by BEL.
        #expect(split("\u{1B}") == (answers: "", typed: "\u{1B}"))
        #expect(split("\u{1B}]11;rgb:0000/0000/0000\u{07}q") == (answers: "\u{1B}]11;rgb:0000/0000/0000\u{07}", typed: "q"))
    }

    @Test func theAnswersAreCompleteOnceTheDeviceAttributesAreIn() {
        #expect(!ImageProtocol.answerIsComplete(Array("\u{1B}_Gi=31;OK\u{1B}\\".utf8)))
        #expect(!ImageProtocol.answerIsComplete(Array("\u{1B}[?62;2".utf8)))
        #expect(ImageProtocol.answerIsComplete(Array("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;22c".utf8)))
        #expect(ImageProtocol.detectionQuery == "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[>q\u{1B}[c")
    }

    @Test func aSinkThatKnowsTheProtocolDrawsImagesAndAsksOnlyOnce() {
        // StandardOutput writes to descriptors; a pipe stands in for the terminal.
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        let sink = StandardOutput(outputDescriptor: descriptors[1], errorDescriptor: descriptors[1])
        var asked = 0
        sink.detectImageProtocol = { asked += 1; return .iterm }
        let picture = Picture(image: GreyImage(width: 1, height: 1, fill: 1), description: "one pixel", text: "#\n")
        sink.show(picture)
        sink.show(picture)
        close(descriptors[1])
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptors[0], &bytes, bytes.count)
        let written = String(decoding: bytes[0..<max(0, count)], as: UTF8.self)
        #expect(asked == 1)
        let once = ImageProtocol.iterm.encode(picture)
        #expect(written == once + once)
    }
}
