import Foundation
import FuzzSupport
@testable import VAEKit
import VAEFormats
import VAEScript

// The whole interpreter on random command sequences: each input is a script, run through the
// shell's one input loop against a session of its own that has tiny data (24 CSV images of 4×4
// pixels, 8 test images) and a tiny model (16-8-2), so every engine command really runs.
//
// Work per input is capped so an input runs in milliseconds: the caps below wrap every command's
// handler and refuse (as an ordinary command error) arguments and settings that would make
// minutes of work (epochs=100000, k=1000000, hidden=100000). Values outside the table's ranges
// still reach the table's own checks, which is what a user would meet.
//
// Files: the process works in a private scratch folder, in memory when /dev/shm is there (every
// save syncs its file, which on a disk costs milliseconds). The fixtures live in `data/` (tiny
// CSV, IDX and gzip files, checkpoints, scripts, damaged copies of each) and `data/mnist/` is the
// data folder (`VAESH_DATA`), so `load mnist` loads 12 + 5 tiny images. Paths in an input must be
// relative without `..`; `save` and `out=` may only name files in the scratch folder itself,
// which is emptied after each input, so one input cannot change what the next one sees.
//
// The session with data and model is prepared once, by the same two commands a user would type;
// each input starts from a copy of it (`Session.takeState(of:)`), so every input starts from the
// same state (and a crash replays) without loading and building again.
//
// A first line `#! word…` chooses the session: `bare` (no data, no model), `interactive` (the
// keyboard's rules: errors never stop the loop), `json`, `stop` (stop at the first error, as
// scripts do without --keep-going) and `interrupt=N` (Ctrl-C as the N-th command starts).
//
// Checks beyond "no crash": no internal error is ever printed (those are handler bugs), and
// every error message is followed by nothing but its source line, caret and hint.

private let caps: [String: Int] = [
    "epochs": 2, "samples": 4, "k": 64, "batch": 64, "n": 32, "steps": 12, "latent": 16,
    "hidden": 32, "decoder": 32, "warmup": 4,
]

/// Created once: the scratch folder with its fixtures, and the working directory set to it.
private let scratchFolder: String = {
    let folder = scratchPath("interpreter")
    let data = folder + "/data"
    try? FileManager.default.createDirectory(atPath: data + "/mnist", withIntermediateDirectories: true)
    setenv("VAESH_DATA", data + "/mnist", 1)
    setenv("HOME", folder, 1)
    check(chdir(folder) == 0, "cannot enter \(folder)")
    Fixtures.write(into: "data")
    return folder
}()

/// The input being run, as the wrapped handlers see it.
private final class InputRun: @unchecked Sendable {
    /// Ctrl-C as this command starts (counted from 1; 0 for never).
    var interruptAt = 0
    var commandsStarted = 0
    var interrupt = InterruptFlag()
}

private let current = InputRun()

/// Every command of the table behind the caps and the path rules, counting the commands started.
private let table = CommandTable(CommandTable.all.map { spec in
    guarded(spec) {
        current.commandsStarted += 1
        if current.commandsStarted == current.interruptAt { current.interrupt.request() }
    }
})

/// The tiny data (24 CSV images of 4×4 pixels, 8 test images) and the tiny model (16-8-2), loaded
/// and built once, before any input (so no interrupt is armed).
private let prepared: Session = {
    _ = scratchFolder
    let output = CheckingOutput()
    let session = Session(options: SessionOptions(), output: output, commands: table, interrupt: InterruptFlag())
    session.settings.k = 50
    _ = InputLoop.run(StringLineSource("load csv data/tiny.csv test=data/tiny-test.csv\nmodel hidden=8 latent=2"),
                      name: "prelude", session: session)
    check(session.workbench.model != nil && output.errors.isEmpty, "the prelude failed: \(output.errors)")
    return session
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInterpreter(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    _ = prepared
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    // What the shell itself refuses before running anything (`ScriptText`): NUL and invalid UTF-8.
    guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    let header = Header(text)

    var options = SessionOptions()
    options.keepGoing = !header.stopsAtFirstError
    options.json = header.json
    let output = CheckingOutput()
    current.interruptAt = header.interruptAt
    current.commandsStarted = 0
    current.interrupt = InterruptFlag()
    let session = Session(options: options, output: output, commands: table, interrupt: current.interrupt)
    session.settings.k = 50
    if !header.bare { session.takeState(of: prepared) }
    _ = InputLoop.run(StringLineSource(text, isInteractive: header.interactive), name: "fuzz.vae", session: session)
    output.finish()
    emptyScratchFolder()
    return 0
}

/// The choices of a first line `#! bare interactive json stop interrupt=N`.
private struct Header {
    var bare = false, interactive = false, json = false, stopsAtFirstError = false
    var interruptAt = 0

    init(_ text: String) {
        guard text.hasPrefix("#!") else { return }
        for word in text.prefix(while: { $0 != "\n" }).dropFirst(2).split(separator: " ") {
            switch word {
            case "bare": bare = true
            case "interactive": interactive = true
            case "json": json = true
            case "stop": stopsAtFirstError = true
            default:
                if word.hasPrefix("interrupt="), let n = Int(word.dropFirst(10)) { interruptAt = n }
            }
        }
    }
}

/// `spec` with its handler behind the work caps and the path rules; `starting` runs first.
private func guarded(_ spec: CommandSpec, starting: @escaping () -> Void) -> CommandSpec {
    var guarded = spec
    let handler = spec.handler
    let writes = spec.name == "save"
    guarded.handler = { context throws(ScriptError) in
        for argument in spec.arguments {
            let value = try? context.arguments.value(argument.name)
            let numbers: [Int]
            switch value {
            case .int(let n)?: numbers = [n]
            case .intList(let list)?: numbers = list.count > 4 ? [Int.max] : list
            case .string(let path)? where argument.type.isPath:
                let safe = !path.hasPrefix("/") && !path.hasPrefix("~") && !path.contains("..")
                    && !((writes || argument.name == "out") && path.contains("/"))
                if !safe { throw context.failure("fuzz: path '\(path)' is outside the scratch folder") }
                numbers = []
            default: numbers = []
            }
            if let cap = caps[argument.name], let n = numbers.max(), n > cap {
                throw context.failure("fuzz: \(argument.name)=\(n) is over the fuzzing cap \(cap)")
            }
        }
        starting()
        try handler(context)
    }
    return guarded
}

private extension ArgumentType {
    var isPath: Bool {
        if case .path = self { return true }
        return false
    }
}

/// Removes everything the input wrote (only `data/` is kept).
private func emptyScratchFolder() {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: ".") else { return }
    for entry in entries where entry != "data" {
        unlink(entry)
    }
}

/// Keeps stderr only to check it; stdout is dropped.
private final class CheckingOutput: OutputSink {
    var errors = ""

    func write(_ text: String) {}

    func writeError(_ text: String) {
        errors += text
        if errors.count > 100_000 { finish() }
    }

    /// Checks what was written, then forgets it.
    func finish() {
        check(!errors.contains("internal error"), "an internal error:\n\(errors)")
        errors = ""
    }
}


// MARK: - Fixtures

/// The files in `data/`: good ones for the commands to work on, damaged ones for them to refuse.
private enum Fixtures {
    static func write(into folder: String) {
        // 24 + 8 images of 4×4 with labels, Kaggle style; one copy gzip'd.
        func csv(rows: Int, offset: Int) -> String {
            "label," + (0..<16).map { "p\($0)" }.joined(separator: ",") + "\n"
                + (0..<rows).map { n in
                    String((n + offset) % 10) + "," + (0..<16).map { String(((n + offset) * 37 + $0 * 11) % 256) }.joined(separator: ",")
                }.joined(separator: "\n") + "\n"
        }
        let train = csv(rows: 24, offset: 0)
        put(folder + "/tiny.csv", Array(train.utf8))
        put(folder + "/tiny-test.csv", Array(csv(rows: 8, offset: 24).utf8))
        put(folder + "/tiny.csv.gz", Zlib.compress(Array(train.utf8)))
        put(folder + "/fractions.csv", Array("0.1,0.2,0.3,0.4\n1,0,0.25,0.5\n0,0,0,1\n".utf8))
        put(folder + "/ragged.csv", Array("1,2,3\n4,5\n".utf8))
        put(folder + "/text.csv", Array("1,2\nx,3\n".utf8))
        put(folder + "/empty.csv", [])

        // IDX: a standard MNIST-named folder of 4×4 images, and loose and damaged files.
        func images(_ count: Int) -> [UInt8] {
            IDX.encode(IDXArray(dimensions: [count, 4, 4], elements: (0..<count * 16).map { UInt8(($0 * 29) % 256) }))
        }
        func labels(_ count: Int) -> [UInt8] {
            IDX.encode(IDXArray(dimensions: [count], elements: (0..<count).map { UInt8($0 % 10) }))
        }
        put(folder + "/mnist/train-images-idx3-ubyte.gz", Zlib.compress(images(12)))
        put(folder + "/mnist/train-labels-idx1-ubyte.gz", Zlib.compress(labels(12)))
        put(folder + "/mnist/t10k-images-idx3-ubyte", images(5))
        put(folder + "/mnist/t10k-labels-idx1-ubyte", labels(5))
        put(folder + "/images.idx", images(10))
        put(folder + "/labels.idx", labels(10))
        put(folder + "/labels9.idx", labels(9))
        put(folder + "/images.idx.gz", Zlib.compress(images(10)))
        put(folder + "/truncated.idx", Array(images(10).dropLast(7)))
        put(folder + "/truncated.idx.gz", Array(Zlib.compress(images(10)).dropLast(9)))
        var lying = images(10)
        lying[4...7] = [0x7F, 0xFF, 0xFF, 0xFF]
        put(folder + "/huge-header.idx", lying)
        put(folder + "/huge-header.idx.gz", Zlib.compress(Array(lying.prefix(16))))
        var corrupt = Zlib.compress(images(10))
        corrupt[corrupt.count / 2] ^= 0xFF
        put(folder + "/corrupt.idx.gz", corrupt)

        // Scripts: one that defines things, one that fails, one that sources itself.
        put(folder + "/lib.vae", Array("let a = 2\nkl limit=3\necho \"a = {a}\"\n".utf8))
        put(folder + "/failing.vae", Array("let b = 1\nassert b > 2\necho never\n".utf8))
        put(folder + "/self.vae", Array("source self.vae\n".utf8))
        put(folder + "/quits.vae", Array("quit 3\n".utf8))

        // Checkpoints, made by the language itself: one that fits the data, one that does not,
        // and damaged copies.
        let session = Session(options: SessionOptions(), output: CapturingOutput())
        _ = InputLoop.run(StringLineSource("""
            load csv \(folder)/tiny.csv
            model hidden=8 latent=2
            save \(folder)/tiny.safetensors
            save \(folder)/tiny.pt
            model hidden=4 latent=3 likelihood=gaussian-learned
            save \(folder)/learned.safetensors
            load csv \(folder)/fractions.csv
            model hidden=5 latent=1
            save \(folder)/other-size.safetensors
            """), name: "fixtures", session: session)
        if let good = FileManager.default.contents(atPath: folder + "/tiny.safetensors").map(Array.init) {
            put(folder + "/truncated.safetensors", Array(good.dropLast(10)))
            var header = good
            header[0...7] = [0, 0, 0, 0x80, 0, 0, 0, 0]  // a 2 GB header length
            put(folder + "/huge-header.safetensors", header)
            put(folder + "/empty.safetensors", [])
        }
        if let good = FileManager.default.contents(atPath: folder + "/tiny.pt").map(Array.init) {
            put(folder + "/truncated.pt", Array(good.dropLast(10)))
        }
    }

    private static func put(_ path: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }
}
