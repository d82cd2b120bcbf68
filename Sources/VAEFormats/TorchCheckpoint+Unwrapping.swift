/// Finding the state dict inside what a checkpoint pickled.
///
/// A state dict is a dict whose keys are all strings and whose values are all tensors. Around it,
/// people save:
/// - nothing (`torch.save(model.state_dict(), path)`);
/// - a checkpoint dict: `{'model_state_dict': …, 'optimizer_state_dict': …, 'epoch': …}`, Lightning's
///   `{'state_dict': …, 'optimizer_states': …, …}`, `{'net': …, 'acc': …}`, `{'model': …}`. The state
///   dict is taken when exactly one of the usual keys holds one, or, failing that, when exactly one
///   value of the dict is one; two candidates are refused rather than guessed between;
/// - a prefix on every name: `module.` (DataParallel), `_orig_mod.` (torch.compile), `model.` (a
///   LightningModule holding the network as `self.model`). It is removed when every name has it.
/// Every step taken is returned, so that `open` can say what it read.
extension TorchCheckpoint {
    /// The keys that hold a model's state dict in the checkpoints people write, most usual first.
    static let stateDictKeys = ["state_dict", "model_state_dict", "model", "net", "network", "module", "model_state", "weights"]
    /// The prefixes taken off when every name has one.
    static let prefixes = ["module.", "_orig_mod.", "model."]

    /// The state dict's entries (name after unwrapping, name in the file, tensor index) and the
    /// steps that reached it.
    static func stateDict(in root: PickleValue, objects: PickleObjects, tensors: [TorchTensorView],
                          file: String) throws(TorchCheckpointError) -> (pairs: [(String, String, Int)], unwrapping: [TorchUnwrapping]) {
        var unwrapping: [TorchUnwrapping] = []
        var current = root
        var probe = StateDictProbe(objects: objects)
        // Each step goes one dict deeper; four is more than any checkpoint nests.
        for _ in 0 ..< 4 {
            if let entries = stateDictEntries(current, objects: objects) {
                return (stripPrefixes(entries, unwrapping: &unwrapping), unwrapping)
            }
            guard let dictionary = objects.dictionary(current) else { break }
            let candidates = dictionary.filter { probe.isStateDictOrWrapper($0.value) }
            let known = candidates.filter { pair in stateDictKeys.contains { pair.key == .string($0) } }
            let chosen = known.count == 1 ? known : candidates
            guard chosen.count == 1, case .string(let key) = chosen[0].key else {
                if chosen.count > 1 {
                    throw .ambiguous(file: file, keys: chosen.map { describeKey($0.key, objects: objects) })
                }
                break
            }
            let others = dictionary.map(\.key).filter { $0 != chosen[0].key }.map { describeKey($0, objects: objects) }
            unwrapping.append(.entry(key: key, others: others))
            current = chosen[0].value
        }
        throw .noStateDict(file: file, detail: describe(current, objects: objects, tensors: tensors))
    }

    /// The (name, tensor) entries when `value` is a state dict, else nil.
    fileprivate static func stateDictEntries(_ value: PickleValue, objects: PickleObjects) -> [(String, Int)]? {
        guard let dictionary = objects.dictionary(value), !dictionary.isEmpty else { return nil }
        var entries: [(String, Int)] = []
        for (key, item) in dictionary {
            guard case .string(let name) = key, case .tensor(let index) = item else { return nil }
            entries.append((name, index))
        }
        return entries
    }

    private static func stripPrefixes(_ entries: [(String, Int)], unwrapping: inout [TorchUnwrapping]) -> [(String, String, Int)] {
        var names = entries.map(\.0)
        var changed = true
        while changed {
            changed = false
            for prefix in prefixes where names.allSatisfy({ $0.hasPrefix(prefix) && $0.count > prefix.count }) {
                names = names.map { String($0.dropFirst(prefix.count)) }
                unwrapping.append(.prefix(prefix))
                changed = true
            }
        }
        return zip(names, entries).map { ($0, $1.0, $1.1) }
    }

    /// A dict key as a message shows it: a string as itself, anything else by its kind.
    private static func describeKey(_ key: PickleValue, objects: PickleObjects) -> String {
        switch key {
        case .string(let text): text
        case .int(let number): String(number)
        default: key.kind(in: objects)
        }
    }

    /// What the file holds instead of a state dict, in a few words.
    private static func describe(_ value: PickleValue, objects: PickleObjects, tensors: [TorchTensorView]) -> String {
        if case .tensor(let index) = value {
            return "it holds one tensor of shape \(Quoting.shape(tensors[index].shape)), not a dict of named tensors"
        }
        guard let dictionary = objects.dictionary(value) else {
            return "it holds \(value.kind(in: objects))"
        }
        if dictionary.isEmpty { return "it holds an empty dict" }
        let keys = dictionary.map { describeKey($0.key, objects: objects) }
        let nonTensors = dictionary.filter { if case .tensor = $0.value { false } else { true } }
        if nonTensors.count < dictionary.count, let first = nonTensors.first {
            return "it holds a dict of \(dictionary.count) entries (\(Quoting.list(keys))) mixing tensors with other values (\(Quoting.quoted(describeKey(first.key, objects: objects))) is \(first.value.kind(in: objects)))"
        }
        return "it holds a dict of \(Quoting.list(keys)), none of them a dict of tensors"
    }
}

/// Which containers are state dicts, or dicts one step from one (a checkpoint inside a
/// checkpoint), each container examined once: a dict whose every value is the same shared dict
/// must not cost its size squared.
private struct StateDictProbe {
    let objects: PickleObjects
    private var known: [Int: Bool] = [:]

    init(objects: PickleObjects) { self.objects = objects }

    mutating func isStateDict(_ value: PickleValue) -> Bool {
        guard case .object(let index) = value else { return false }
        if let answer = known[index] { return answer }
        let answer = TorchCheckpoint.stateDictEntries(value, objects: objects) != nil
        known[index] = answer
        return answer
    }

    mutating func isStateDictOrWrapper(_ value: PickleValue) -> Bool {
        isStateDict(value) || TorchCheckpoint.stateDictKeys.contains { key in
            objects.lookup(key, in: value).map { isStateDict($0) } ?? false
        }
    }
}
