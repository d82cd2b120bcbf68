/// PyTorch's part of unpickling: which globals may appear, what the tensor-making ones build, and
/// the storages persistent ids name.

/// A storage a checkpoint's pickle names: `('storage', torch.FloatStorage, key, location, numel)`,
/// whose bytes are the zip entry `data/KEY`.
struct TorchStorage {
    var key: String
    /// The element type the storage class gives (`torch.storage.UntypedStorage` is bytes: uint8).
    var elementType: TorchElementType
    /// Elements of `elementType`.
    var count: Int
}

/// An element type named by a storage class or a dtype global; those vaesh cannot read are kept
/// by name so that only a tensor actually read from them is refused.
enum TorchElementType: Equatable {
    case known(TensorDType)
    case unsupported(String)

    var name: String {
        switch self {
        case .known(let type): type.rawValue
        case .unsupported(let name): name
        }
    }
}

/// A tensor as `_rebuild_tensor_v2` describes it: a view of a storage. Checked when built (every
/// element it reaches lies inside the storage); its values are read only when it is used.
struct TorchTensorView {
    var storage: Int
    /// In elements of `elementType`.
    var offset: Int
    var shape: [Int]
    var strides: [Int]
    var elementType: TorchElementType
    /// The neg bit (`torch._neg_view`): the stored values are the negatives of the tensor's.
    var negated: Bool
    /// Elements in the tensor (the product of `shape`).
    var count: Int
}

/// The globals a checkpoint may name: exactly those `torch.load(weights_only=True)` allows in
/// PyTorch 2.13 (`torch._weights_only_unpickler._get_allowed_globals`; a test compares them with
/// the list the fixture script dumps from torch).
enum TorchGlobals {
    static let storageTypes: [String: TensorDType] = [
        "DoubleStorage": .float64, "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    /// Storage classes torch reads and vaesh does not, with the dtype a message names.
    static let unreadableStorageTypes: [String: String] = [
        "ComplexDoubleStorage": "complex128", "ComplexFloatStorage": "complex64", "QUInt8Storage": "quint8",
        "QInt8Storage": "qint8", "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    ]
    static let tensorTypes = ["BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"]
    static let sparseTensorTypes = ["BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"]
    static let dtypes: [String] = [
        "bfloat16", "bits16", "bits1x8", "bits2x4", "bits4x2", "bits8", "bool", "complex128", "complex32", "complex64",
        "float16", "float32", "float4_e2m1fn_x2", "float64", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
        "float8_e5m2fnuz", "float8_e8m0fnu", "int16", "int32", "int64", "int8", "qint32", "qint8", "quint2x4",
        "quint4x2", "quint8", "uint16", "uint32", "uint64", "uint8",
    ] + (1...7).flatMap { ["int\($0)", "uint\($0)"] }
    static let others: Set<String> = [
        "_codecs.encode", "builtins.bytearray", "builtins.complex", "builtins.set", "collections.Counter",
        "collections.OrderedDict", "torch.Size", "torch.Tensor", "torch.device", "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout", "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
        "torch._tensor._rebuild_from_type_v2", "torch.per_channel_affine", "torch.per_channel_affine_float_qparams",
        "torch.per_channel_symmetric", "torch.per_tensor_affine", "torch.per_tensor_symmetric",
    ]
    static let rebuildFunctions: Set<String> = [
        "_rebuild_device_tensor_from_cpu_tensor", "_rebuild_device_tensor_from_numpy", "_rebuild_meta_tensor_no_storage",
        "_rebuild_nested_tensor", "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor",
        "_rebuild_sparse_tensor", "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_wrapper_subclass",
    ]

    /// Every allowed global, "module.name".
    static let allowed: Set<String> = {
        var names = others
        for (storage, _) in storageTypes { names.insert("torch.\(storage)"); names.insert("torch.cuda.\(storage)") }
        for storage in unreadableStorageTypes.keys {
            names.insert("torch.\(storage)")
            if storage.hasPrefix("Complex") { names.insert("torch.cuda.\(storage)") }
        }
        for type in tensorTypes { names.insert("torch.\(type)Tensor"); names.insert("torch.cuda.\(type)Tensor") }
        for type in sparseTensorTypes { names.insert("torch.sparse.\(type)Tensor"); names.insert("torch.cuda.sparse.\(type)Tensor") }
        for dtype in dtypes { names.insert("torch.\(dtype)") }
        for function in rebuildFunctions { names.insert("torch._utils.\(function)") }
        return names
    }()

    /// The element type a storage-class global gives, or nil when the global is no storage class.
    static func storageElementType(_ name: String) -> TorchElementType? {
        if name == "torch.storage.UntypedStorage" { return .known(.uint8) }
        let short = name.hasPrefix("torch.cuda.") ? String(name.dropFirst(11)) : name.hasPrefix("torch.") ? String(name.dropFirst(6)) : ""
        if let type = storageTypes[short] { return .known(type) }
        if let dtype = unreadableStorageTypes[short] { return .unsupported(dtype) }
        return nil
    }

    /// The element type a dtype global (`torch.float32`) names, or nil.
    static func dtype(_ name: String) -> TorchElementType? {
        guard name.hasPrefix("torch."), dtypes.contains(String(name.dropFirst(6))) else { return nil }
        let short = String(name.dropFirst(6))
        return TensorDType(rawValue: short).map { .known($0) } ?? .unsupported(short)
    }
}

extension TorchUnpickler {
    // MARK: - Globals

    /// The value a GLOBAL pushes: allowed names only, refused by name otherwise (before anything
    /// uses it, as torch refuses it).
    mutating func global(module: String, name: String) throws(TorchCheckpointError) -> PickleValue {
        let full = module + "." + name
        guard TorchGlobals.allowed.contains(full) else {
            throw .pythonObject(file: file, className: full, wholeFile: stack.isEmpty && marks.isEmpty && isInstantiatedNext)
        }
        return .global(full)
    }

    /// Whether the opcodes after a GLOBAL make an instance of it (`)` and NEWOBJ, after any memo
    /// puts), as `torch.save(model)` pickles the model itself.
    private var isInstantiatedNext: Bool {
        var at = position
        while at < bytes.count {
            switch bytes[at] {
            case 0x71: at += 2          // BINPUT
            case 0x72: at += 5          // LONG_BINPUT
            case 0x94: at += 1          // MEMOIZE
            case 0x29: return at + 1 < bytes.count && bytes[at + 1] == 0x81  // EMPTY_TUPLE NEWOBJ
            default: return false
            }
        }
        return false
    }

    /// REDUCE: a call of an allowed global. The tensor and container makers are interpreted; the
    /// other allowed globals give opaque values, as nothing vaesh reads needs what they build.
    mutating func call(_ callable: PickleValue, arguments: PickleValue) throws(TorchCheckpointError) -> PickleValue {
        guard case .global(let name) = callable else {
            throw failure("REDUCE calls \(callable.kind(in: objects)), not an allowed function")
        }
        guard let arguments = objects.elements(arguments) else {
            throw failure("REDUCE of \(Quoting.quoted(name)) with \(arguments.kind(in: objects)) for its arguments, not a tuple")
        }
        switch name {
        case "collections.OrderedDict", "collections.Counter":
            return try dictionary(from: arguments, type: name)
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v3":
            return try rebuildTensor(arguments, function: name)
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = arguments.first, case .tensor = data else {
                throw failure("\(name) of \(arguments.first?.kind(in: objects) ?? "nothing"), not a tensor")
            }
            return data
        case "torch._tensor._rebuild_from_type_v2":
            // (func, new_type, args, state): a plain Tensor or Parameter with Python attributes.
            guard arguments.count == 4, case .global(let type) = arguments[1],
                  type == "torch.Tensor" || type == "torch.nn.parameter.Parameter" else {
                return .opaque("a tensor subclass (torch._tensor._rebuild_from_type_v2)")
            }
            return try call(arguments[0], arguments: arguments[2])
        default:
            return .opaque(name)
        }
    }

    /// NEWOBJ: `cls.__new__(cls, *args)`; torch allows it for Parameter and its allowed classes.
    mutating func newObject(_ type: PickleValue, arguments: PickleValue) throws(TorchCheckpointError) -> PickleValue {
        guard case .global(let name) = type else {
            throw failure("NEWOBJ of \(type.kind(in: objects)), not an allowed class")
        }
        let items = objects.elements(arguments) ?? []
        switch name {
        case "collections.OrderedDict", "collections.Counter":
            return objects.add(.dict(keys: [], values: [], index: [:]))
        case "torch.nn.parameter.Parameter":
            if let data = items.first, case .tensor = data { return data }
            return .opaque(name)
        default:
            return .opaque(name)
        }
    }

    /// BUILD on the value on top of the stack: torch allows it for OrderedDict (attributes such
    /// as `_metadata`, which change no entry), Parameter and its allowed classes.
    /// A tensor is refused: its BUILD would replace its data (`Tensor.set_`), which no state dict needs.
    mutating func build(_ instance: PickleValue, state: PickleValue) throws(TorchCheckpointError) {
        switch instance {
        case .opaque:
            return
        case .object(let index):
            if case .dict = objects[index] { return }
        default:
            break
        }
        throw failure("BUILD on \(instance.kind(in: objects)); vaesh builds only OrderedDicts and the classes torch allows")
    }

    // MARK: - Containers and tensors

    /// `OrderedDict()`, or `OrderedDict([(k, v), …])` as protocols 0 and 1 write it.
    private mutating func dictionary(from arguments: [PickleValue], type: String) throws(TorchCheckpointError) -> PickleValue {
        let dictionary = objects.add(.dict(keys: [], values: [], index: [:]))
        guard let pairs = arguments.first else { return dictionary }
        guard arguments.count == 1, let items = objects.elements(pairs, orList: true) else {
            throw failure("\(type) called with \(arguments.count) arguments; expected none or a list of pairs")
        }
        var flat: [PickleValue] = []
        for item in items {
            guard let pair = objects.elements(item, orList: true), pair.count == 2 else {
                throw failure("\(type) called with \(item.kind(in: objects)) where a (key, value) pair belongs")
            }
            flat += pair
        }
        push(dictionary)
        try setItems(flat)
        return try pop()
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`,
    /// `_rebuild_tensor(storage, offset, size, stride)`, and
    /// `_rebuild_tensor_v3(untyped storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`.
    private mutating func rebuildTensor(_ arguments: [PickleValue], function: String) throws(TorchCheckpointError) -> PickleValue {
        let isV3 = function.hasSuffix("_v3")
        let expected = function.hasSuffix("_v2") ? 6...7 : isV3 ? 7...8 : 4...4
        guard expected.contains(arguments.count) else {
            throw failure("\(function) with \(arguments.count) arguments, expected \(expected.lowerBound)")
        }
        guard case .storage(let storageIndex) = arguments[0] else {
            throw failure("\(function) of \(arguments[0].kind(in: objects)), not a storage")
        }
        let storage = storages[storageIndex]
        var elementType = storage.elementType
        var storageCount = storage.count
        if isV3 {
            guard case .global(let dtypeName) = arguments[6], let dtype = TorchGlobals.dtype(dtypeName) else {
                throw failure("\(function) with \(arguments[6].kind(in: objects)) for its dtype")
            }
            guard storage.elementType == .known(.uint8) else {
                throw failure("\(function) of a \(storage.elementType.name) storage; it takes an untyped (byte) storage")
            }
            elementType = dtype
            if case .known(let type) = dtype { storageCount = storage.count / type.size }
        }
        guard case .int(let offset) = arguments[1], offset >= 0 else {
            throw failure("\(function) with storage offset \(arguments[1].kind(in: objects)); expected a non-negative int")
        }
        let shape = try integers(arguments[2], what: "size", function: function)
        let strides = try integers(arguments[3], what: "stride", function: function)
        guard strides.count == shape.count else {
            throw failure("\(function) with \(shape.count) sizes but \(strides.count) strides")
        }
        var negated = false
        let metadataIndex = isV3 ? 7 : 6
        if arguments.count > metadataIndex, let metadata = objects.dictionary(arguments[metadataIndex]) {
            for (key, value) in metadata {
                guard case .string(let flag) = key, flag == "neg" || flag == "conj" else {
                    throw failure("\(function) with tensor metadata \(key.kind(in: objects)) vaesh does not know")
                }
                if flag == "neg", value == .bool(true) { negated = true }
                // The conj bit changes nothing for the real dtypes vaesh reads.
            }
        }
        let view = try checkedView(storage: storageIndex, storageCount: storageCount, offset: offset, shape: shape,
                                   strides: strides, elementType: elementType, negated: negated, function: function)
        tensors.append(view)
        return .tensor(tensors.count - 1)
    }

    /// The view, once every element it reaches is known to lie inside its storage.
    private func checkedView(storage: Int, storageCount: Int, offset: Int, shape: [Int], strides: [Int],
                             elementType: TorchElementType, negated: Bool, function: String) throws(TorchCheckpointError) -> TorchTensorView {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw failure("\(function) with a negative size in \(Quoting.shape(shape))") }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw failure("\(function) with a negative stride in \(Quoting.shape(strides))") }
        guard let count = StoredTensor.elementCount(shape) else {
            throw failure("a tensor of shape \(Quoting.shape(shape)), too large to address")
        }
        if count > 0 {
            // The last element: offset + Σ (size − 1) · stride, overflow checked.
            var last = offset
            for (size, stride) in zip(shape, strides) {
                let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = last.addingReportingOverflow(step)
                guard !overflow, !overflow2 else {
                    throw failure("a tensor whose strides \(Quoting.shape(strides)) reach past any storage")
                }
                last = sum
            }
            guard last < storageCount else {
                throw failure("a tensor of shape \(Quoting.shape(shape)) with offset \(offset) and strides \(Quoting.shape(strides)) reaches element \(last) of storage \(Quoting.quoted(storages[storage].key)), which holds \(storageCount)")
            }
        }
        return TorchTensorView(storage: storage, offset: offset, shape: shape, strides: strides,
                               elementType: elementType, negated: negated, count: count)
    }

    private func integers(_ value: PickleValue, what: String, function: String) throws(TorchCheckpointError) -> [Int] {
        guard let items = objects.elements(value) else {
            throw failure("\(function) with \(value.kind(in: objects)) for its \(what), not a tuple")
        }
        var result: [Int] = []
        for item in items {
            guard case .int(let integer) = item else {
                throw failure("\(function) with \(item.kind(in: objects)) in its \(what), not an int")
            }
            result.append(integer)
        }
        return result
    }

    /// BINPERSID: `('storage', storage class, key, location, numel)`, the one persistent id torch
    /// writes. Two ids with one key must agree (torch.save refuses to write two views of one
    /// storage with different dtypes).
    mutating func persistentLoad(_ id: PickleValue) throws(TorchCheckpointError) -> PickleValue {
        guard let fields = objects.elements(id), fields.count == 5 else {
            throw failure("a persistent id that is \(id.kind(in: objects)), not ('storage', type, key, location, numel)")
        }
        switch fields[0] {
        case .string("storage"), .bytes(Array("storage".utf8)): break
        default: throw failure("a persistent id of kind \(fields[0].kind(in: objects)); torch only loads 'storage'")
        }
        guard case .global(let typeName) = fields[1], let elementType = TorchGlobals.storageElementType(typeName) else {
            throw failure("a storage of type \(fields[1].kind(in: objects)), not a storage class")
        }
        let key: String
        switch fields[2] {
        case .string(let text): key = text
        case .int(let number): key = String(number)
        default: throw failure("a storage key that is \(fields[2].kind(in: objects))")
        }
        guard !key.isEmpty, key.utf8.count <= 64, !key.contains("/"), key != ".", key != ".." else {
            throw failure("a storage key \(Quoting.quoted(key)) that names no entry of data/")
        }
        guard case .int(let count) = fields[4], count >= 0 else {
            throw failure("storage \(Quoting.quoted(key)) with \(fields[4].kind(in: objects)) elements")
        }
        if let existing = storageByKey[key] {
            let known = storages[existing]
            guard known.elementType == elementType, known.count == count else {
                throw failure("storage \(Quoting.quoted(key)) is named as \(known.count) \(known.elementType.name) elements and as \(count) \(elementType.name) elements")
            }
            return .storage(existing)
        }
        storages.append(TorchStorage(key: key, elementType: elementType, count: count))
        storageByKey[key] = storages.count - 1
        return .storage(storages.count - 1)
    }
}
