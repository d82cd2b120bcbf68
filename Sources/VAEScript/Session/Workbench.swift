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

    /// A fresh random stream derived from the session seed.
    public func randomStream(seed: UInt64) -> RandomSource {
        streamsIssued += 1
        var mixer = RandomSource(seed: seed ^ (streamsIssued &* 0x9E37_79B9_7F4A_7C15))
        return RandomSource(seed: mixer.next())
    }

    /// `mnist·784-400-20` for the prompt.
    public var promptLabel: String? {
        let parts = [dataset?.name, model?.architecture.summary].compactMap { $0 }
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
