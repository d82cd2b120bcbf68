/// What the restricted unpickler builds: Python's plain values, and references into tables for
/// containers, storages and tensors.
///
/// Containers live in `PickleObjects` and values refer to them by index, as Python objects refer
/// to each other: a list appended to after it was memoised is the same list wherever the memo put
/// it, and a list may hold itself. Indices rather than class references mean a cycle cannot leak,
/// and a walk that visits each container once stays linear in the file's size however often a
/// container is shared (a "billion laughs" pickle shares one tuple 2^64 times in 600 bytes).
enum PickleValue: Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (LONG1/LONG4): kept as its byte count only; nothing vaesh reads needs one.
    case bigInteger(bytes: Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A list, tuple or dict, by index in `PickleObjects`.
    case object(Int)
    /// A global the unpickler allows, by name ("collections.OrderedDict").
    case global(String)
    /// A storage, by index in `TorchUnpickler.storages`.
    case storage(Int)
    /// A tensor, by index in `TorchUnpickler.tensors`.
    case tensor(Int)
    /// Something `torch.load(weights_only=True)` would build but vaesh does not interpret (a
    /// `torch.Size`, a set, a quantized tensor…), named by what made it. Reading one where a
    /// tensor is needed is an error naming it.
    case opaque(String)

    /// "a list", "an int", "torch.Size": what a message calls the value.
    func kind(in objects: PickleObjects) -> String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInteger: "an int"
        case .float: "a float"
        case .string: "a string"
        case .bytes: "bytes"
        case .object(let index): objects[index].kind
        case .global(let name): "the global \(Quoting.quoted(name))"
        case .storage: "a storage"
        case .tensor: "a tensor"
        case .opaque(let name): "a \(Quoting.quoted(name)) object"
        }
    }
}

/// A dict key: the hashable values a state dict or an optimizer state uses. Python's rules for
/// equal keys hold (True == 1 and 1.0 == 1 are one key).
enum PickleKey: Hashable {
    case none
    case int(Int)
    case float(UInt64)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleKey])
}

/// The containers an unpickling made. `PickleValue.object(i)` is `self[i]`.
struct PickleObjects {
    enum Object {
        case list([PickleValue])
        case tuple([PickleValue])
        /// Insertion-ordered, as Python's dicts are; `index` finds a key's position.
        case dict(keys: [PickleValue], values: [PickleValue], index: [PickleKey: Int])
        /// A set (EMPTY_SET, ADDITEMS): kept only so that its additions are legal.
        case set

        var kind: String {
            switch self {
            case .list: "a list"
            case .tuple: "a tuple"
            case .dict: "a dict"
            case .set: "a set"
            }
        }
    }

    private(set) var all: [Object] = []

    subscript(index: Int) -> Object { all[index] }

    mutating func add(_ object: Object) -> PickleValue {
        all.append(object)
        return .object(all.count - 1)
    }

    mutating func append(_ items: [PickleValue], toList index: Int) -> Bool {
        guard case .list(var list) = all[index] else { return false }
        all[index] = .set  // release the array so the append does not copy it
        list.append(contentsOf: items)
        all[index] = .list(list)
        return true
    }

    /// `dict[key] = value`, keeping the first position of a repeated key as Python does.
    mutating func set(_ value: PickleValue, for key: PickleValue, key hashable: PickleKey, inDict index: Int) -> Bool {
        guard case .dict(var keys, var values, var positions) = all[index] else { return false }
        all[index] = .set
        if let position = positions[hashable] {
            values[position] = value
        } else {
            positions[hashable] = keys.count
            keys.append(key)
            values.append(value)
        }
        all[index] = .dict(keys: keys, values: values, index: positions)
        return true
    }

    /// The dict at `index` as (key, value) pairs, or nil when it is no dict.
    func dictionary(_ value: PickleValue) -> [(key: PickleValue, value: PickleValue)]? {
        guard case .object(let index) = value, case .dict(let keys, let values, _) = all[index] else { return nil }
        return Array(zip(keys, values)).map { (key: $0.0, value: $0.1) }
    }

    /// The elements of a tuple (or, when `orList`, a list), or nil.
    func elements(_ value: PickleValue, orList: Bool = false) -> [PickleValue]? {
        guard case .object(let index) = value else { return nil }
        switch all[index] {
        case .tuple(let items): return items
        case .list(let items) where orList: return items
        default: return nil
        }
    }

    /// The value of `key` in the dict `value`, or nil.
    func lookup(_ key: String, in value: PickleValue) -> PickleValue? {
        guard case .object(let index) = value, case .dict(_, let values, let positions) = all[index],
              let position = positions[.string(key)] else { return nil }
        return values[position]
    }

    /// The key `value` makes, with at most `budget` elements in nested tuples (hashing a shared
    /// tuple 64 levels deep would visit 2^64 leaves); nil for an unhashable or too large key.
    func key(for value: PickleValue, budget: inout Int) -> PickleKey? {
        budget -= 1
        guard budget >= 0 else { return nil }
        switch value {
        case .none: return PickleKey.none
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .int(let integer): return .int(integer)
        case .float(let number):
            if let integer = Int(exactly: number) { return .int(integer) }
            return .float(number.isNaN ? Double.nan.bitPattern : (number == 0 ? 0 : number.bitPattern))
        case .string(let text): return .string(text)
        case .bytes(let bytes): return .bytes(bytes)
        case .object(let index):
            guard case .tuple(let items) = all[index] else { return nil }
            var keys: [PickleKey] = []
            for item in items {
                guard let key = key(for: item, budget: &budget) else { return nil }
                keys.append(key)
            }
            return .tuple(keys)
        case .global(let name), .opaque(let name): return .string("<\(name)>")
        case .bigInteger, .storage, .tensor: return nil
        }
    }
}
