/// Why named tensors (from a checkpoint file) do not describe a model the engine can build.
///
/// Every case carries the file as the caller named it, for the message: `<file>: <problem>`. The
/// file's own faults (a damaged header, a missing file) are the formats module's errors; these
/// are about what its tensors say.
public enum CheckpointError: EngineError, Equatable {
    /// The model needs a tensor the file lacks; `available` lists the file's tensors.
    case missingTensor(file: String, tensor: String, available: [String])
    /// The tensor exists with a different shape than the model needs.
    case shapeMismatch(file: String, tensor: String, shape: [Int], expected: [Int])
    /// Anything else that stops the tensors from describing the expected model (a layout it cannot
    /// recognise, a metadata value it cannot parse, a tensor left over).
    case incompatible(file: String, detail: String, hint: String?)

    /// The file the error is about, as the caller named it.
    public var file: String {
        switch self {
        case .missingTensor(let file, _, _), .shapeMismatch(let file, _, _, _), .incompatible(let file, _, _): file
        }
    }

    public var message: String {
        let problem = switch self {
        case .missingTensor(_, let tensor, _):
            "missing tensor \(Self.quoted(tensor))"
        case .shapeMismatch(_, let tensor, let shape, let expected):
            "tensor \(Self.quoted(tensor)) has shape \(Self.shape(shape)), expected \(Self.shape(expected))"
        case .incompatible(_, let detail, _):
            detail
        }
        return "\(file): \(problem)"
    }

    public var hint: String? {
        switch self {
        case .missingTensor(_, _, let available):
            guard !available.isEmpty else { return "the file holds no tensors" }
            // Up to ten names, then a count of the rest, so the hint stays one readable line.
            let names = available.prefix(10).map(Self.quoted).joined(separator: ", ")
            return "the file holds " + names + (available.count > 10 ? " and \(available.count - 10) more" : "")
        case .incompatible(_, _, let hint):
            return hint
        case .shapeMismatch:
            return nil
        }
    }

    /// A name from a file in quotes, cut at 120 characters, control characters shown as �: a
    /// hostile tensor name cannot break the line.
    static func quoted(_ name: String) -> String {
        let cut = name.count > 120 ? name.prefix(120) + "…" : Substring(name)
        let scalars = cut.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "\u{FFFD}" : $0 }
        return "'" + String(String.UnicodeScalarView(scalars)) + "'"
    }

    static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
