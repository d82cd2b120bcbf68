import Testing
import VAEKit
@testable import VAEScript

/// What a run printed and how it ended.
struct ScriptRun {
    var standardOutput: String
    var standardError: String
    var outcome: RunOutcome
    var session: Session

    /// `finished N`, `quit N` or `aborted`, the golden scripts' spelling.
    var outcomeText: String {
        switch outcome {
        case .finished(let failures): "finished \(failures)"
        case .quit(let status): "quit \(status)"
        case .aborted: "aborted"
        }
    }
}

/// Runs `text` through the input loop against a capturing sink, as `vaesh` would run a script.
@discardableResult
func runScript(_ text: String, name: String? = "test.vae", options: SessionOptions = SessionOptions(),
               interactive: Bool = false, commands: CommandTable = .standard, session existing: Session? = nil) -> ScriptRun {
    let output = CapturingOutput()
    let session = existing ?? Session(options: options, output: output, commands: commands)
    let sink = (session.output as? CapturingOutput) ?? output
    let outcome = InputLoop.run(StringLineSource(text, isInteractive: interactive), name: name, session: session)
    return ScriptRun(standardOutput: sink.standardOutput, standardError: sink.standardError, outcome: outcome, session: session)
}

/// A tiny stand-in for engine commands, so validation and error wording can be tested before the
/// engine commands exist: the ranges and types match the issue (`epochs=0`, `lr=-1`, `batch=0`, `latent=0`).
enum FakeModelState: SessionStateKey { typealias Value = Int }

struct FakeEngineError: EngineError {
    var message: String { "train-images.gz: truncated: expected 47040016 bytes, found 1024" }
    var hint: String? { "download it again with scripts/fetch-mnist" }
}

let fakeCommands: [CommandSpec] = [
    CommandSpec(
        "train", topic: .training,
        arguments: [
            .option("epochs", .int, default: 1, range: .atLeast(1), abstract: "passes over the training set"),
            .option("batch", .int, default: 128, range: .atLeast(1), abstract: "examples per step"),
            .option("lr", .double, default: 1e-3, range: .greaterThan(0), abstract: "learning rate"),
            .option("optimizer", .choice(["adam", "sgd"]), default: "adam", abstract: "optimiser"),
        ],
        abstract: "train", discussion: "Trains.", examples: ["train epochs=2"]
    ) { context throws(ScriptError) in
        _ = try context.require(FakeModelState.self, missing: "model", remedy: "run 'model' or 'open FILE' first")
        var report = Report(command: "train")
        report.add(.count("epoch", try context.arguments.int("epochs")))
        report.add(Quantity("loss", label: "loss = -ELBO", value: 105.6, standardError: 0.25, unit: "nats/example",
                            preference: .lowerIsBetter, expectation: "≥ 0"))
        context.report(report)
    },
    CommandSpec(
        "model", topic: .model,
        arguments: [
            .option("hidden", .list(.int), default: .intList([400]), range: .atLeast(1), abstract: "hidden widths"),
            .option("latent", .int, default: 20, range: .atLeast(1), abstract: "latent dimensions"),
        ],
        abstract: "build a model", discussion: "Builds.", examples: ["model latent=2"]
    ) { context throws(ScriptError) in
        let latent = try context.arguments.int("latent")
        context.session[state: FakeModelState.self] = latent
        context.session.promptLabel = "fake·\(latent)"
    },
    CommandSpec(
        "load idx", topic: .data,
        arguments: [
            .option("images", .path, required: true, abstract: "images file"),
            .option("labels", .path, abstract: "labels file"),
        ],
        abstract: "load IDX files", discussion: "Loads.", examples: ["load idx images=a.idx"]
    ) { context throws(ScriptError) in
        try context.engine { () throws -> Void in throw FakeEngineError() }
    },
    CommandSpec(
        "load mnist", topic: .data,
        arguments: [.option("split", .choice(["train", "test"]), default: "test", abstract: "which split")],
        abstract: "load MNIST", discussion: "Loads.", examples: ["load mnist"]
    ) { _ throws(ScriptError) in },
]

/// The language's own commands plus the stand-ins, without the real engine commands: these tests
/// pin down the language layer, whatever ranges and wording the engine commands choose.
let tableWithFakes = CommandTable(CommandTable.variableCommands + CommandTable.sessionCommands + fakeCommands)

/// Swift Testing has a `SourceLocation` too; in these tests the name means the script's.
typealias SourceLocation = VAEScript.SourceLocation
