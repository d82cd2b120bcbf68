import VAEKit

/// The engine objects one session works on: the data, the model with its optimiser and random
/// stream, the state `undo` can return to, and which version of each the numbers describe.
///
/// Every change of the data or the model gets a new version, and says which command made it, so
/// a variable computed on an earlier version can say it is stale and why, and evaluation can draw
/// the same z for the same examples while nothing changed. Handlers compute everything first and
/// call one of the `install…`/`replace…` methods last, so a failed command changes nothing.
public final class Workbench {
    /// A model, its optimiser, its random stream and its training history, with its version.
    public struct ModelState {
        public var trainer: Trainer<Float>
        /// Unique within the session; a model `undo` brings back keeps the version it had.
        public var version: Int
        /// The version of the `model` or `open` that made its architecture: `train` and `step`
        /// change the weights (a new `version`) but keep this, so its parameter count stays current.
        public var architectureVersion: Int
        /// The command that made this state, e.g. "train epochs=2" or "model latent=2".
        public var command: String
    }

    public private(set) var dataset: Dataset?
    /// Changes with every `load`; 0 before the first.
    public private(set) var dataVersion = 0
    /// The command that loaded the data.
    public private(set) var dataCommand = ""
    public private(set) var current: ModelState?
    /// Where the model came from, for `info`: "built by 'model' (seed 0)", "opened m.safetensors".
    public private(set) var modelOrigin = ""
    /// What `open` had to assume about the file.
    public private(set) var modelAssumptions: [String] = []
    /// The state before the last `step` or `train`, and the command that changed it.
    public private(set) var undoPoint: ModelState?
    /// The command that last changed which model is current: the one that made it, or `undo`,
    /// which brings an earlier one back. A stale variable's error names it.
    public private(set) var lastModelChange = ""
    private var versionsIssued = 0
    /// Counts the random streams handed out, so each command that asks for fresh numbers draws
    /// new ones, yet a script replays identically under the same seed.
    private var streamsIssued: UInt64 = 0

    public init() {}

    public var trainer: Trainer<Float>? { current?.trainer }
    public var model: VAE<Float>? { current?.trainer.model }
    /// The current model's version; 0 without a model.
    public var modelVersion: Int { current?.version ?? 0 }
    /// The current model's architecture version (`ModelState.architectureVersion`); 0 without a model.
    public var architectureVersion: Int { current?.architectureVersion ?? 0 }

    // MARK: - Changes

    /// Makes `dataset` the session's data.
    public func installData(_ dataset: Dataset, command: String) {
        self.dataset = dataset
        versionsIssued += 1
        dataVersion = versionsIssued
        dataCommand = command
    }

    /// A new model (built or opened): no undo point, a new version.
    public func installModel(_ trainer: Trainer<Float>, origin: String, assumptions: [String] = [], command: String) {
        let version = newVersion()
        current = ModelState(trainer: trainer, version: version, architectureVersion: version, command: command)
        modelOrigin = origin
        modelAssumptions = assumptions
        undoPoint = nil
        lastModelChange = command
    }

    /// The model after `train` or `step`: a new version, and the state before it as the undo point.
    public func replaceModel(with trainer: Trainer<Float>, command: String) {
        undoPoint = current
        current = ModelState(trainer: trainer, version: newVersion(), architectureVersion: current?.architectureVersion ?? 0, command: command)
        lastModelChange = command
    }

    /// Returns to the undo point, which keeps its version; nil when there is none. `command` is
    /// how the user asked (`undo`).
    public func undo(command: String = "undo") -> ModelState? {
        guard let point = undoPoint else { return nil }
        current = point
        undoPoint = nil
        lastModelChange = command
        return point
    }

    /// An independent copy: the same data (a value), copies of the trainers, and the same
    /// versions and streams, so the copy goes on exactly as this one would (the interpreter
    /// fuzzer starts every input from a copy of one prepared session).
    func copy() -> Workbench {
        let copy = Workbench()
        copy.dataset = dataset
        copy.dataVersion = dataVersion
        copy.dataCommand = dataCommand
        copy.current = current.map { ModelState(trainer: $0.trainer.copy(), version: $0.version, architectureVersion: $0.architectureVersion, command: $0.command) }
        copy.modelOrigin = modelOrigin
        copy.modelAssumptions = modelAssumptions
        copy.undoPoint = undoPoint.map { ModelState(trainer: $0.trainer.copy(), version: $0.version, architectureVersion: $0.architectureVersion,
                                                    command: $0.command) }
        copy.versionsIssued = versionsIssued
        copy.streamsIssued = streamsIssued
        return copy
    }

    private func newVersion() -> Int {
        versionsIssued += 1
        return versionsIssued
    }

    // MARK: - Random streams

    /// A fresh random stream derived from the session seed: each call gives new numbers.
    public func randomStream(seed: UInt64) -> RandomSource {
        streamsIssued += 1
        var mixer = RandomSource(seed: seed ^ (streamsIssued &* 0x9E37_79B9_7F4A_7C15))
        return RandomSource(seed: mixer.next())
    }

    /// The draws of z for evaluating `split`: common random numbers keyed by (session seed, split)
    /// alone, so that ε for an example's j-th draw depends on nothing else: the same weights give
    /// the same numbers in any session (a model saved and opened again, or opened in a new
    /// session, gives back the ELBO it had), and two versions of a model are compared on the same
    /// ε (the difference is theirs, not the draws'). With `fresh`, a new stream for every command.
    public func evaluationDraws(split: String, seed: UInt64, fresh: Bool) -> Draws {
        if fresh { return .fresh(randomStream(seed: seed)) }
        let splitKey: UInt64 = split == "train" ? 0 : split == "test" ? 1 : 2
        return .common(seed: RandomSource.derivedSeed(seed, .evaluation, splitKey))
    }

    /// The stream of a measured step on the current model (`step`, `show-sign`): the same batch
    /// and draws while nothing changes, unless `fresh`.
    public func measurementStream(seed: UInt64, fresh: Bool) -> RandomSource {
        fresh ? randomStream(seed: seed) : RandomSource(seed: seed, stream: .measurement, UInt64(modelVersion), UInt64(dataVersion))
    }

    /// `mnist·784-400-20` for the prompt, at most `promptLabelLimit` characters, so the prompt
    /// leaves the line for typing: a deeper model keeps the ends of its summary (`784-…-20`), and
    /// a long name is cut with "…". `info` says everything in full.
    public var promptLabel: String? {
        let data = dataset.map { Self.cut($0.name, to: 14) }
        var model = self.model?.architecture.summary
        func label() -> String? {
            let parts = [data, model].compactMap { $0 }
            return parts.isEmpty ? nil : parts.joined(separator: "·")
        }
        if let summary = model, let whole = label(), whole.count > Self.promptLabelLimit {
            let layers = summary.split(separator: "-")
            if layers.count > 2, let first = layers.first, let last = layers.last { model = "\(first)-…-\(last)" }
            let room = Self.promptLabelLimit - (data.map { $0.count + 1 } ?? 0)
            model = model.map { Self.cut($0, to: max(5, room)) }
        }
        return label()
    }

    /// The longest label the prompt shows between its brackets.
    static let promptLabelLimit = 24

    private static func cut(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}

enum WorkbenchKey: SessionStateKey { typealias Value = Workbench }

extension Session {
    /// The session's engine objects (created on first use).
    public var workbench: Workbench {
        if let existing = self[state: WorkbenchKey.self] { return existing }
        let created = Workbench()
        self[state: WorkbenchKey.self] = created
        return created
    }

    /// Recomputes the prompt label after the data or the model changed.
    func refreshPrompt() { promptLabel = workbench.promptLabel }
}
