import VAEKit

/// The engine objects one session works on: the data, the model with its optimiser and random
/// stream, and the state `undo` can return to.
///
/// Handlers compute everything first and assign here last, so a failed command changes nothing.
public final class Workbench {
    public var dataset: Dataset?
    /// The model, its optimiser, its random stream and its training history, together.
    public var trainer: Trainer<Float>?
    /// Where the model came from, for `info`: "built by 'model' (seed 0)", "opened m.safetensors".
    public var modelOrigin = ""
    /// What `open` had to assume about the file.
    public var modelAssumptions: [String] = []
    /// The state before the last `step` or `train`, and the command that changed it.
    public var undoPoint: (trainer: Trainer<Float>, command: String)?
    /// Counts the random streams handed out, so each command draws fresh numbers yet a script
    /// replays identically under the same seed.
    private var streamsIssued: UInt64 = 0

    public init() {}

    public var model: VAE<Float>? { trainer?.model }

    /// An independent copy: the same data (a value) and copies of the trainers.
    func copy() -> Workbench {
        let copy = Workbench()
        copy.dataset = dataset
        copy.trainer = trainer?.copy()
        copy.modelOrigin = modelOrigin
        copy.modelAssumptions = modelAssumptions
        copy.undoPoint = undoPoint.map { (trainer: $0.trainer.copy(), command: $0.command) }
        copy.streamsIssued = streamsIssued
        return copy
    }

    /// A fresh random stream derived from the session seed.
    public func randomStream(seed: UInt64) -> RandomSource {
        streamsIssued += 1
        var mixer = RandomSource(seed: seed ^ (streamsIssued &* 0x9E37_79B9_7F4A_7C15))
        return RandomSource(seed: mixer.next())
    }

    /// `mnist·784-400-20` for the prompt.
    public var promptLabel: String? {
        let parts = [dataset?.name, model?.configuration.summary].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "·")
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

/// The data splits a term command can run on.
enum SplitName: String, CaseIterable {
    case train, test, validation
}

extension CommandContext {
    /// The loaded data, or "no data yet: run 'load mnist' first".
    func requireData() throws(ScriptError) -> Dataset {
        guard let dataset = session.workbench.dataset else {
            throw missing("data", remedy: "run 'load mnist' (or 'load idx', 'load csv') first")
        }
        return dataset
    }

    /// The model's trainer, or "no model yet: run 'model' or 'open FILE' first".
    func requireTrainer() throws(ScriptError) -> Trainer<Float> {
        guard let trainer = session.workbench.trainer else {
            throw missing("model", remedy: "run 'model' or 'open FILE' first")
        }
        return trainer
    }

    /// Data and model that fit each other.
    func requireDataAndModel() throws(ScriptError) -> (Dataset, Trainer<Float>) {
        let trainer = try requireTrainer()
        let dataset = try requireData()
        guard dataset.dimension == trainer.model.inputSize else {
            throw ScriptError(ModelError.inputSizeMismatch(model: trainer.model.inputSize, data: dataset.dimension), at: location)
        }
        return (dataset, trainer)
    }

    /// The split named by the `split` argument.
    func split(of dataset: Dataset, named name: String) throws(ScriptError) -> DataSplit {
        switch SplitName(rawValue: name) {
        case .train: return dataset.train
        case .test:
            guard let test = dataset.test else {
                throw failure(argument: "split", "\(dataset.name) has no test split", hint: "use split=train, or load a test file too")
            }
            return test
        case .validation:
            guard let validation = dataset.validation else {
                throw failure(argument: "split", "\(dataset.name) has no validation split", hint: "load with validation=N to carve one from train")
            }
            return validation
        case nil:
            throw failure(argument: "split", "unknown split '\(name)'")
        }
    }

    /// A random stream for this command, from the session seed.
    func randomStream() -> RandomSource { session.workbench.randomStream(seed: settings.seed) }
}

extension Format {
    /// 60000 → "60,000".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }
}
