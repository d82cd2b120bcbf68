/// The restricted unpickler for a checkpoint's `data.pkl`: it builds exactly the objects
/// `torch.load(weights_only=True)` builds for tensors and containers, and never executes or
/// imports anything.
///
/// A pickle is a program for a stack machine; this one runs it over `PickleValue`s. Globals are
/// names checked against the list `torch.load(weights_only=True)` allows (`TorchGlobals`); the few
/// that make tensors and containers are interpreted (`TorchUnpickler+Torch.swift`), the rest of
/// that list become opaque values, and any other global is refused by name before anything else
/// happens, as torch refuses it. Opcodes are those of protocols 2 to 5 as CPython's pickler writes
/// them (torch writes protocol 2; protocols 3 to 5 add bytes, framing, memoize and stack globals,
/// which `torch.load(weights_only=True)` itself refuses but which change nothing about what may be
/// built). The text opcodes of protocols 0 and 1 that call or import (`INST`, `OBJ`, `PERSID`…)
/// are refused by name.
///
/// Memory stays linear in the pickle's length: every opcode pushes at most one value, strings and
/// byte strings are checked against the bytes left before they are copied, the memo is a
/// dictionary (a LONG_BINPUT at index 4 billion costs one entry), containers are shared by index
/// (`PickleObjects`), and dict keys are hashed within a budget.
struct TorchUnpickler {
    /// The pickle's bytes; `position` is the next opcode.
    let bytes: [UInt8]
    private(set) var position = 0
    /// The file and entry (`archive/data.pkl`) for messages.
    let file: String
    let entry: String

    private(set) var stack: [PickleValue] = []
    /// Where each open MARK began in `stack`, innermost last.
    private(set) var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// The byte offset of the opcode being run, for messages.
    private(set) var opcodeStart = 0

    var objects = PickleObjects()
    var storages: [TorchStorage] = []
    var storageByKey: [String: Int] = [:]
    var tensors: [TorchTensorView] = []

    init(bytes: [UInt8], file: String, entry: String) {
        self.bytes = bytes
        self.file = file
        self.entry = entry
    }

    /// Runs the pickle to its STOP and returns the value it leaves.
    mutating func run() throws(TorchCheckpointError) -> PickleValue {
        while true {
            opcodeStart = position
            let opcode = try byte()
            if opcode == 0x2E { // STOP
                return try pop()
            }
            try execute(opcode)
        }
    }

    /// An error at the current opcode.
    func failure(_ detail: String) -> TorchCheckpointError {
        .pickle(file: file, entry: entry, offset: opcodeStart, detail: detail)
    }

    // MARK: - Opcodes

    private mutating func execute(_ opcode: UInt8) throws(TorchCheckpointError) {
        switch opcode {
        // Protocol, framing, marks and the stack
        case 0x80: // PROTO
            let version = try byte()
            guard (2...5).contains(version) else { throw failure("pickle protocol \(version); PyTorch writes protocol 2 (vaesh reads 2 to 5)") }
        case 0x95: // FRAME: a length hint for buffered readers; the opcodes inside are read as usual
            _ = try integer(bytes: 8)
        case 0x28: // MARK
            marks.append(stack.count)
        case 0x30: // POP
            _ = try pop()
        case 0x31: // POP_MARK
            _ = try popMark()
        case 0x32: // DUP
            push(try top())

        // Scalars
        case 0x4E: push(.none)                                                  // NONE
        case 0x88: push(.bool(true))                                            // NEWTRUE
        case 0x89: push(.bool(false))                                           // NEWFALSE
        case 0x4B: push(.int(Int(try byte())))                                  // BININT1
        case 0x4D: push(.int(try integer(bytes: 2)))                            // BININT2
        case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try integer(bytes: 4))))) // BININT
        case 0x8A: push(try long(length: Int(try byte())))                      // LONG1
        case 0x8B: push(try long(length: try length(bytes: 4)))                 // LONG4
        case 0x47: // BINFLOAT: big-endian
            let raw = try take(8)
            push(.float(Double(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))

        // Strings and bytes
        case 0x58: push(try text(length: try length(bytes: 4)))                 // BINUNICODE
        case 0x8C: push(try text(length: Int(try byte())))                      // SHORT_BINUNICODE
        case 0x8D: push(try text(length: try length(bytes: 8)))                 // BINUNICODE8
        case 0x55: push(.bytes(try take(Int(try byte()))))                      // SHORT_BINSTRING (Python 2 str)
        case 0x54: push(.bytes(try take(try length(bytes: 4))))                 // BINSTRING
        case 0x43: push(.bytes(try take(Int(try byte()))))                      // SHORT_BINBYTES
        case 0x42: push(.bytes(try take(try length(bytes: 4))))                 // BINBYTES
        case 0x8E: push(.bytes(try take(try length(bytes: 8))))                 // BINBYTES8
        case 0x96: _ = try take(try length(bytes: 8)); push(.opaque("bytearray")) // BYTEARRAY8

        // Containers
        case 0x29: push(objects.add(.tuple([])))                                // EMPTY_TUPLE
        case 0x5D: push(objects.add(.list([])))                                 // EMPTY_LIST
        case 0x7D: push(objects.add(.dict(keys: [], values: [], index: [:])))   // EMPTY_DICT
        case 0x8F: push(objects.add(.set))                                      // EMPTY_SET
        case 0x74: push(objects.add(.tuple(try popMark())))                     // TUPLE
        case 0x85: push(objects.add(.tuple([try pop()])))                       // TUPLE1
        case 0x86: // TUPLE2
            let second = try pop()
            push(objects.add(.tuple([try pop(), second])))
        case 0x87: // TUPLE3
            let third = try pop(), second = try pop()
            push(objects.add(.tuple([try pop(), second, third])))
        case 0x91: _ = try popMark(); push(.opaque("frozenset"))                // FROZENSET
        case 0x61: try appendToList([try pop()])                                // APPEND
        case 0x65: try appendToList(try popMark())                              // APPENDS
        case 0x73: // SETITEM
            let value = try pop()
            try setItems([try pop(), value])
        case 0x75: try setItems(try popMark())                                  // SETITEMS
        case 0x90: // ADDITEMS: only a set accepts them; its contents are not kept
            _ = try popMark()
            guard case .object(let index) = try top(), case .set = objects[index] else {
                throw failure("ADDITEMS on \(try top().kind(in: objects)), not a set")
            }

        // The memo
        case 0x71: try put(Int(try byte()))                                     // BINPUT
        case 0x72: try put(try integer(bytes: 4))                               // LONG_BINPUT
        case 0x94: try put(memo.count)                                          // MEMOIZE
        case 0x68: try get(Int(try byte()))                                     // BINGET
        case 0x6A: try get(try integer(bytes: 4))                               // LONG_BINGET

        // Globals, calls and storages: torch's rules (TorchUnpickler+Torch.swift)
        case 0x63: // GLOBAL: "module\nname\n"
            let module = try line(), name = try line()
            push(try global(module: module, name: name))
        case 0x93: // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard case .string(let nameText) = name, case .string(let moduleText) = module else {
                throw failure("STACK_GLOBAL needs two strings, found \(module.kind(in: objects)) and \(name.kind(in: objects))")
            }
            push(try global(module: moduleText, name: nameText))
        case 0x52: // REDUCE: callable(*args)
            let arguments = try pop()
            let callable = try pop()
            push(try call(callable, arguments: arguments))
        case 0x81: // NEWOBJ: cls.__new__(cls, *args)
            let arguments = try pop()
            let type = try pop()
            push(try newObject(type, arguments: arguments))
        case 0x92: // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
            let keywords = try pop(), arguments = try pop(), type = try pop()
            guard objects.dictionary(keywords)?.isEmpty ?? false else {
                throw failure("NEWOBJ_EX with keyword arguments, which no tensor or container needs")
            }
            push(try newObject(type, arguments: arguments))
        case 0x62: // BUILD: inst.__setstate__(state)
            let state = try pop()
            try build(try top(), state: state)
        case 0x51: // BINPERSID: a storage in data/KEY
            push(try persistentLoad(try pop()))

        default:
            throw failure(Self.unsupported(opcode))
        }
    }

    /// Why an opcode is refused: named when it is a pickle opcode vaesh does not run.
    static func unsupported(_ opcode: UInt8) -> String {
        let names: [UInt8: String] = [
            0x49: "INT", 0x4C: "LONG", 0x53: "STRING", 0x56: "UNICODE", 0x46: "FLOAT", 0x67: "GET", 0x70: "PUT",
            0x6C: "LIST", 0x64: "DICT", 0x69: "INST", 0x6F: "OBJ", 0x50: "PERSID", 0x82: "EXT1", 0x83: "EXT2",
            0x84: "EXT4", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
        ]
        let hex = "0x" + String(opcode, radix: 16, uppercase: true).leftPadded(to: 2)
        let shown = (0x21...0x7E).contains(opcode) ? " '\(Character(Unicode.Scalar(opcode)))'" : ""
        if let name = names[opcode] {
            return "pickle opcode \(hex)\(shown) (\(name)) is not one torch.load(weights_only=True) runs"
        }
        return "unknown pickle opcode \(hex)\(shown)"
    }

    // MARK: - The stack

    mutating func push(_ value: PickleValue) {
        stack.append(value)
    }

    /// The top value, which must lie above the innermost MARK (as in CPython).
    private func top() throws(TorchCheckpointError) -> PickleValue {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else { throw failure("the pickle's stack is empty here") }
        return last
    }

    mutating func pop() throws(TorchCheckpointError) -> PickleValue {
        let value = try top()
        stack.removeLast()
        return value
    }

    /// The values pushed since the innermost MARK, which is closed.
    private mutating func popMark() throws(TorchCheckpointError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw failure("no MARK to close") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func put(_ index: Int) throws(TorchCheckpointError) {
        memo[index] = try top()
    }

    private mutating func get(_ index: Int) throws(TorchCheckpointError) {
        guard let value = memo[index] else { throw failure("memo entry \(index) is read before it is written") }
        push(value)
    }

    private mutating func appendToList(_ items: [PickleValue]) throws(TorchCheckpointError) {
        let target = try top()
        guard case .object(let index) = target, objects.append(items, toList: index) else {
            throw failure("APPEND to \(target.kind(in: objects)); only lists take APPEND")
        }
    }

    /// dict[k] = v for the pairs in `items`, into the dict on top of the stack.
    mutating func setItems(_ items: [PickleValue]) throws(TorchCheckpointError) {
        guard items.count % 2 == 0 else { throw failure("SETITEMS with an odd number of values (\(items.count))") }
        let target = try top()
        guard case .object(let index) = target, case .dict = objects[index] else {
            throw failure("SETITEM on \(target.kind(in: objects)); only dicts take items")
        }
        for pair in stride(from: 0, to: items.count, by: 2) {
            var budget = 64
            guard let key = objects.key(for: items[pair], budget: &budget) else {
                throw failure("a dict key that is \(items[pair].kind(in: objects)) (unhashable, or a tuple of more than 64 values)")
            }
            _ = objects.set(items[pair + 1], for: items[pair], key: key, inDict: index)
        }
    }

    // MARK: - Reading operands

    private mutating func byte() throws(TorchCheckpointError) -> UInt8 {
        guard position < bytes.count else {
            throw failure("the pickle ends without a STOP opcode (\(entry) is truncated)")
        }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next `count` bytes, checked against what is left before anything is allocated.
    private mutating func take(_ count: Int) throws(TorchCheckpointError) -> [UInt8] {
        guard count <= bytes.count - position else {
            throw failure("a value of \(Quoting.bytes(count)) runs past the end of the pickle (\(Quoting.bytes(bytes.count - position)) left)")
        }
        defer { position += count }
        return Array(bytes[position ..< position + count])
    }

    /// A little-endian unsigned integer of 2, 4 or 8 bytes; 8-byte values beyond Int.max are refused.
    private mutating func integer(bytes count: Int) throws(TorchCheckpointError) -> Int {
        let raw = try take(count)
        let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let result = Int(exactly: value) else { throw failure("a length or index of \(value), too large to address") }
        return result
    }

    /// A length operand, which the caller checks against the bytes left.
    private mutating func length(bytes count: Int) throws(TorchCheckpointError) -> Int {
        try integer(bytes: count)
    }

    /// A two's-complement little-endian integer of `length` bytes (LONG1, LONG4).
    private mutating func long(length: Int) throws(TorchCheckpointError) -> PickleValue {
        let raw = try take(length)
        guard !raw.isEmpty else { return .int(0) }
        guard raw.count <= 8 else { return .bigInteger(bytes: raw.count) }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if raw.count < 8, let last = raw.last, last & 0x80 != 0 {
            value |= ~0 << (8 * UInt64(raw.count))  // sign-extend
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    private mutating func text(length: Int) throws(TorchCheckpointError) -> PickleValue {
        let raw = try take(length)
        guard let text = String(validating: raw, as: UTF8.self) else { throw failure("a string that is not valid UTF-8") }
        return .string(text)
    }

    /// A GLOBAL operand: text up to a newline, which must come within 256 bytes.
    private mutating func line() throws(TorchCheckpointError) -> String {
        let end = min(bytes.count, position + 256)
        guard let newline = bytes[position ..< end].firstIndex(of: 0x0A) else {
            throw failure(end == bytes.count ? "the pickle ends inside a GLOBAL name (\(entry) is truncated)"
                                             : "a GLOBAL name longer than 256 bytes")
        }
        defer { position = newline + 1 }
        guard let text = String(validating: bytes[position ..< newline], as: UTF8.self) else {
            throw failure("a GLOBAL name that is not valid UTF-8")
        }
        return text
    }
}

extension String {
    /// `self` with zeros in front up to `width` characters ("0A").
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
