import Testing
import VAEKit
@testable import VAEScript

/// A host that shows pictures and errors itself (a notebook): what `OutputSink.show` and
/// `OutputSink.report` hand it, and that the default sink still gets text.
@Suite("Output sinks")
struct OutputSinkTests {
    /// Keeps text, pictures and errors apart, in order.
    final class NotebookSink: OutputSink {
        enum Item { case text(String), picture(Picture), error(ErrorReport) }
        var items: [Item] = []
        func write(_ text: String) { items.append(.text(text)) }
        func writeError(_ text: String) { items.append(.text(text)) }
        func show(_ picture: Picture) { items.append(.picture(picture)) }
        func report(_ error: ErrorReport) { items.append(.error(error)) }

        var pictures: [Picture] { items.compactMap { if case .picture(let picture) = $0 { picture } else { nil } } }
        var text: String { items.compactMap { if case .text(let text) = $0 { text } else { nil } }.joined() }
        var errors: [ErrorReport] { items.compactMap { if case .error(let error) = $0 { error } else { nil } } }
    }

    static let script = "load mnist limit=100\nmodel\nsample 3\ntraverse steps=2\ntrain epochs=1 batch=50\ncurves"

    @Test("every picture command hands the sink a picture, in its place, and draws nothing in characters")
    func picturesGoToTheSink() throws {
        let sink = NotebookSink()
        let session = Session(options: SessionOptions(), output: sink)
        let run = runScript(Self.script, name: "cell", session: session)
        #expect(run.outcome == .finished(failures: 0))
        #expect(sink.pictures.count == 3)
        #expect(sink.pictures.map { [$0.width, $0.height] } == [[92, 32], [62, 32], [900, 266]])
        #expect(sink.pictures[0].description.hasPrefix("3 samples from the prior"))
        #expect(sink.pictures[0].description.hasSuffix("(1×3 grid, 92×32 pixels)"))
        #expect(sink.pictures[2].description.contains("curves of 1 epoch"))
        #expect(sink.pictures.allSatisfy { $0.png.starts(with: [0x89, 0x50, 0x4E, 0x47]) })
        #expect(!sink.text.contains("@") && !sink.text.contains("●"), "no drawing in characters")
        // In its place: traverse's description line before its picture, its numbers after it.
        let traverse = try #require(sink.items.firstIndex { item in
            if case .picture(let picture) = item { picture.description.hasPrefix("z[0]") } else { false }
        })
        guard case .text(let before) = sink.items[traverse - 1], case .text(let after) = sink.items[traverse + 1] else {
            Issue.record("traverse's picture is not between its text")
            return
        }
        #expect(before.hasPrefix("z[0] from -3 to 3") && before.hasSuffix(":\n"))
        #expect(after.contains("μ of q(z|x) in this dimension"))
    }

    @Test("a terminal's sink gets the same pictures drawn in characters, as before")
    func defaultSinkDrawsText() {
        let run = runScript(Self.script, name: "cell")
        #expect(run.outcome == .finished(failures: 0))
        #expect(run.standardOutput.contains("3 samples from the prior"))
        #expect(run.standardOutput.contains("●"), "curves' text chart")
        #expect(run.standardOutput.contains("loss = −ELBO per epoch, nats/example"))
    }

    @Test("an error reaches the sink with its parts and its one rendering")
    func errorsGoToTheSink() throws {
        let sink = NotebookSink()
        let run = runScript("echo \"a\"\ntrain lrr=3", name: "cell", session: Session(options: SessionOptions(), output: sink))
        #expect(run.outcome == .finished(failures: 1))
        let error = try #require(sink.errors.first as ErrorReport?)
        #expect(sink.errors.count == 1)
        #expect(error.message == "unknown option 'lrr' for 'train'; did you mean 'lr'?")
        #expect(error.located == "cell:2:7")
        #expect(error.hint == nil)
        #expect(error.isInterruption == false)
        #expect(error.rendered == "cell:2:7: error: unknown option 'lrr' for 'train'; did you mean 'lr'?\ntrain lrr=3\n      ^~~\n")
        #expect(sink.text == "a\n", "the error is not written as text as well")
    }
}
