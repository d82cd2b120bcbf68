import FuzzSupport
import VAEKit
import VAEScript

// The architecture language on arbitrary text: `LayerText.parse` (the layers inside `model
// encoder="…" decoder="…"`), then the engine's shape check, then building the model.
//
// The text's first line is the encoder, the rest the decoder, on a 1×8×8 input with latent 2 and
// the head `model` chooses. Besides "no crash", it checks what the language promises:
// - a refused text gets one located line: its location lies inside the text (a line that exists, a
//   column at most one past its end), and the rendered diagnostic starts with it;
// - an architecture error names a layer that was written (encoder.i or decoder.i within the
//   lists), so `model` can point at its text;
// - what is accepted builds, and its canonical text (what `info` and checkpoints show) parses
//   back to the very same layers.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchitecture(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let encoderText = lines[0], decoderText = lines.count > 1 ? lines[1] : "Linear(2,64)"
    let encoder: [LayerCall], decoder: [LayerCall]
    do {
        encoder = try LayerText.parse(located(encoderText, line: 1), end: SourceLocation(line: 1, column: 1))
        decoder = try LayerText.parse(located(decoderText, line: 2), end: SourceLocation(line: 2, column: 1))
    } catch {
        render(error, lines: [encoderText, decoderText])
        return 0
    }
    let latent = 2
    let head: LatentHead = if case .linear(_, 2 * latent, _)? = encoder.last?.spec { .split } else { .twoLinear }
    let architecture = VAEArchitecture(input: .image(channels: 1, height: 8, width: 8), encoder: encoder.map(\.spec), head: head,
                                       latentSize: latent, decoder: decoder.map(\.spec))
    let summary: ArchitectureSummary
    do {
        summary = try architecture.validate()
    } catch {
        checkOneLine(error.message)
        // `model` points at the text of the layer named: it must be one that was written.
        let written: [LayerCall]? = switch error.place {
        case .encoder: encoder
        case .decoder: decoder
        case .head, .model: nil
        }
        if let written, case .encoder(let index) = error.place { check(written.indices.contains(index), "\(error.place.text) of \(written.count)") }
        if let written, case .decoder(let index) = error.place { check(written.indices.contains(index), "\(error.place.text) of \(written.count)") }
        return 0
    }
    for (calls, specs) in [(encoder, architecture.encoder), (decoder, architecture.decoder)] {
        let canonical = LayerText.canonical(specs)
        do {
            let again = try LayerText.parse(located(canonical, line: 1), end: SourceLocation(line: 1, column: 1))
            check(again.map(\.spec) == calls.map(\.spec), "canonical text \(canonical.debugDescription) reads back differently")
        } catch {
            check(false, "canonical text \(canonical.debugDescription) does not parse: \(error)")
        }
    }
    // Build only what is small, so each input stays fast.
    if summary.parameterCount < 200_000, summary.activationValuesPerExample < 1_000_000 {
        var random = RandomSource(seed: 1, stream: .initialisation)
        do {
            let model = try VAE<Float>(architecture, random: &random)
            check(model.parameters.count == summary.parameterCount, "built \(model.parameters.count) parameters, the summary says \(summary.parameterCount)")
        } catch {
            check(false, "validate() accepted what VAE(_:random:) refuses: \(error.message)")
        }
    }
    return 0
}

/// `text` as the lexer would hand it on: each character with its line and column.
private func located(_ text: String, line: Int) -> [LocatedCharacter] {
    text.enumerated().map { LocatedCharacter($0.element, at: SourceLocation(line: line, column: $0.offset + 1)) }
}

/// The error's location lies inside the text, and it renders as one located line.
private func render(_ error: ScriptError, lines: [String]) {
    let location = error.location
    check(location.line >= 1 && location.line <= lines.count, "error on line \(location.line) of \(lines.count)")
    let line = lines[location.line - 1]
    check(location.column >= 1 && location.column <= line.count + 1, "error at column \(location.column) of a \(line.count)-character line")
    let message = Diagnostics.message(error)
    checkOneLine(message)
    let human = Diagnostics.render(error, sourceName: "fuzz.vae", sourceLine: line)
    check(human.hasPrefix("fuzz.vae:\(location.line):\(location.column): error: "), "diagnostic without its location")
}
