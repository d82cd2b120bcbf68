/// Why a file is not a PyTorch checkpoint vaesh can read.
///
/// Every case carries the file as the caller named it; `message` is one line, `<file>: <problem>`,
/// with names from the file escaped (`Quoting`). Files that PyTorch wrote but vaesh does not read
/// (the legacy format, a pickled model, TorchScript) say so and give, as the hint, the one line of
/// Python that converts them.
public enum TorchCheckpointError: FileFormatError, Equatable {
    /// The file could not be opened or read.
    case file(FileError)

    // MARK: - Not a torch.save zip checkpoint

    /// `torch.save` before PyTorch 1.6, or with `_use_new_zipfile_serialization=False`.
    case legacyFormat(file: String)
    /// A pickle without the zip container (`pickle.dump`, or torch.save to a non-zip format).
    case barePickle(file: String)
    /// `torch.jit.save`: a TorchScript archive (code and constants, not a state dict).
    case torchScript(file: String)
    /// Neither kind of checkpoint: not a zip archive, a pickle or a safetensors header (`TensorFile`
    /// reads a file named `.safetensors` as one anyway, so that its errors say what is damaged).
    case unrecognised(file: String, firstBytes: [UInt8])

    // MARK: - The zip container

    /// The archive as a whole is damaged, truncated or laid out as PyTorch never writes it.
    case archive(file: String, detail: String)
    /// One entry of the archive (a CRC mismatch, a compression method, a size).
    case entry(file: String, entry: String, detail: String)

    // MARK: - The pickle

    /// `data.pkl` (the `entry`) is malformed or uses something the restricted unpickler refuses,
    /// at byte `offset`.
    case pickle(file: String, entry: String, offset: Int, detail: String)
    /// The pickle names a global `torch.load(weights_only=True)` refuses: a Python class or
    /// function. `wholeFile` when it is the class of the pickled object itself (`torch.save(model)`).
    case pythonObject(file: String, className: String, wholeFile: Bool)

    // MARK: - What the pickle holds

    /// One tensor of the state dict cannot be read: `name` as the file spells it.
    case tensor(file: String, name: String, detail: String)
    /// No state dict (a dict of tensors) could be found; `detail` says what the file holds.
    case noStateDict(file: String, detail: String)
    /// Several state dicts are candidates; `keys` name them.
    case ambiguous(file: String, keys: [String])

    /// The file the error is about, as the caller named it.
    public var file: String {
        switch self {
        case .file(let error): error.path
        case .legacyFormat(let file), .barePickle(let file), .torchScript(let file), .unrecognised(let file, _), .archive(let file, _),
             .entry(let file, _, _), .pickle(let file, _, _, _), .pythonObject(let file, _, _),
             .tensor(let file, _, _), .noStateDict(let file, _), .ambiguous(let file, _):
            file
        }
    }

    public var fileError: FileError? {
        if case .file(let error) = self { return error }
        return nil
    }

    public var problem: String {
        typealias Q = Quoting
        return switch self {
        case .file(let error):
            error.problem
        case .legacyFormat:
            "a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6, or with _use_new_zipfile_serialization=False), which vaesh does not read"
        case .barePickle:
            "a Python pickle without PyTorch's zip container, which vaesh does not read"
        case .torchScript:
            "a TorchScript archive (torch.jit.save), not a torch.save checkpoint of tensors"
        case .unrecognised(_, let bytes):
            bytes.isEmpty ? "an empty file, not a checkpoint"
                : "neither a PyTorch checkpoint (torch.save writes a zip archive, which starts with PK) nor a safetensors file: it starts with "
                    + bytes.prefix(8).map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
                    + " (" + Q.quoted(String(decoding: bytes.prefix(8).map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)) + ")"
        case .archive(_, let detail):
            "not a readable PyTorch zip archive: \(detail)"
        case .entry(_, let entry, let detail):
            "archive entry \(Q.quoted(entry)): \(detail)"
        case .pickle(_, let entry, let offset, let detail):
            "\(Q.shown(entry)), byte \(offset): \(detail)"
        case .pythonObject(_, let className, true):
            "this file stores a whole Python object of class \(Q.quoted(className)) (a pickled model), not a state dict; save model.state_dict() instead"
        case .pythonObject(_, let className, false):
            "this file stores a Python object of class \(Q.quoted(className)); save model.state_dict() instead"
        case .tensor(_, let name, let detail):
            "tensor \(Q.quoted(name)): \(detail)"
        case .noStateDict(_, let detail):
            "no state dict (a dict of tensors) in this file: \(detail)"
        case .ambiguous(_, let keys):
            "\(keys.count) state dicts in this file (\(Q.list(keys))); vaesh will not guess which is the model"
        }
    }

    public var hint: String? {
        let path = Self.pythonString(file)
        let stem = Self.pythonString(Self.stem(of: file) + "-state.pt")
        switch self {
        case .file(let error):
            return error.hint
        case .legacyFormat:
            return "convert it in Python: import torch; torch.save(torch.load(\(path), weights_only=True), \(stem))"
        case .barePickle:
            return "save with torch.save(model.state_dict(), \(path)) instead of pickle.dump"
        case .torchScript:
            return "convert it in Python: import torch; torch.save(torch.jit.load(\(path)).state_dict(), \(stem))"
        case .unrecognised:
            return "vaesh opens what torch.save(model.state_dict(), path) writes, and safetensors files"
        case .pythonObject(_, _, true):
            return "convert it in Python, where the class can be imported: import torch; torch.save(torch.load(\(path), weights_only=False).state_dict(), \(stem)) (weights_only=False runs code from the file: only for a file you trust)"
        case .pythonObject:
            return "torch.load(weights_only=True) refuses it too: keep only tensors, numbers, strings, lists and dicts in a checkpoint (vars(args) rather than args), or save model.state_dict() on its own"
        case .archive, .entry:
            return "the file is truncated or damaged, or was not written by torch.save"
        case .ambiguous(_, let keys):
            return "save the one you mean on its own in Python: import torch; torch.save(torch.load(\(path))[\(Self.pythonString(keys.first ?? ""))], \(stem))"
        case .noStateDict:
            return "vaesh reads torch.save(model.state_dict(), path), alone or in a checkpoint dict (under 'state_dict', 'model_state_dict', 'model', 'net', …)"
        case .pickle, .tensor:
            return nil
        }
    }

    /// `text` as a Python string literal in single quotes, with every character that could break
    /// the line escaped the way Python reads it back (not cut short, unlike a name in a message:
    /// the hint is meant to be pasted).
    static func pythonString(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: escaped += "\\\\"
            case 0x27: escaped += "\\'"
            case 0 ..< 0x20, 0x7F ... 0x9F: escaped += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            case 0x2028, 0x2029: escaped += "\\u" + String(scalar.value, radix: 16)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "'" + escaped + "'"
    }

    /// "runs/vae.pt" → "runs/vae".
    static func stem(of path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path }
        return String(path[..<dot])
    }
}
