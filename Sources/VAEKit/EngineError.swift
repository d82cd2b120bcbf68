/// An error the engine reports to its caller: one line that names what is wrong (and the file,
/// when there is one), plus an optional hint on what to do about it.
///
/// Each area has its own typed enum (`DataError`, `CheckpointError`, …) conforming to this, so the
/// language layer can render every engine error the same way without knowing the areas.
public protocol EngineError: Error, CustomStringConvertible {
    /// One line, no trailing period, e.g. "train-images.gz: truncated: expected 47040016 bytes, found 1024".
    var message: String { get }
    /// What the user can do about it, or nil.
    var hint: String? { get }
}

extension EngineError {
    public var hint: String? { nil }
    public var description: String { message }
}
