/// One named tensor from a checkpoint file (safetensors or PyTorch), in Float32 whatever its dtype
/// on disk, which it remembers.
///
/// Both readers make these, and the safetensors writer takes them, so the language maps either
/// kind of file onto a model the same way.
public struct StoredTensor: Sendable, Equatable {
    /// The tensor's name in the file, e.g. "fc1.weight".
    public var name: String
    /// Dimensions, outermost first (PyTorch's `Linear.weight` is [out, in]). [] is a scalar.
    public var shape: [Int]
    /// The element type the file stored (what `values` were converted from).
    public var dtype: TensorDType
    /// The elements in row-major order; `shape`'s product of them. Exact for float32, float16 and
    /// bfloat16; float64 and integers beyond 2^24 are rounded to the nearest Float.
    public var values: [Float]
    /// The exact elements of an integer or boolean tensor (nil for floating-point ones): a
    /// BatchNorm's `num_batches_tracked` counter is an int64 a Float cannot always hold.
    public var integers: [Int64]?

    /// A tensor; `values.count` must equal the product of `shape` (a programmer error otherwise).
    public init(name: String, shape: [Int], dtype: TensorDType = .float32, values: [Float], integers: [Int64]? = nil) {
        precondition(StoredTensor.elementCount(shape) == values.count,
                     "StoredTensor '\(name)': \(values.count) values for shape \(shape)")
        precondition(integers.map { $0.count == values.count && !dtype.isFloatingPoint } ?? dtype.isFloatingPoint,
                     "StoredTensor '\(name)': integers are given exactly when the dtype is an integer type")
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.values = values
        self.integers = integers
    }

    /// The product of `shape`, or nil if a dimension is negative or the product overflows.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Row-major strides for `shape`, as PyTorch's `contiguous()` lays a tensor out (a size-0
    /// dimension counts as 1, as in PyTorch).
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step &*= max(shape[axis], 1)
        }
        return strides
    }
}

/// The element types vaesh reads from checkpoint files, named as PyTorch names them.
public enum TensorDType: String, Sendable, CaseIterable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8, uint8, uint16, uint32, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32, .uint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16: true
        default: false
        }
    }

    /// Element `index` of little-endian (or, when `swapped`, big-endian) `bytes`, as a Float.
    /// The caller has checked that the element lies inside `bytes`.
    @inline(__always)
    func float(at index: Int, in bytes: UnsafeRawBufferPointer, swapped: Bool) -> Float {
        switch self {
        case .float32: Float(bitPattern: load(UInt32.self, index, bytes, swapped))
        case .float64: Float(Double(bitPattern: load(UInt64.self, index, bytes, swapped)))
        case .float16: HalfPrecision.float(load(UInt16.self, index, bytes, swapped))
        case .bfloat16: HalfPrecision.float(bfloat16: load(UInt16.self, index, bytes, swapped))
        default: Float(integer(at: index, in: bytes, swapped: swapped))
        }
    }

    /// Element `index` of an integer or boolean tensor's bytes, exactly (0 for floating dtypes).
    @inline(__always)
    func integer(at index: Int, in bytes: UnsafeRawBufferPointer, swapped: Bool) -> Int64 {
        switch self {
        case .int64: Int64(bitPattern: load(UInt64.self, index, bytes, swapped))
        case .int32: Int64(Int32(bitPattern: load(UInt32.self, index, bytes, swapped)))
        case .uint32: Int64(load(UInt32.self, index, bytes, swapped))
        case .int16: Int64(Int16(bitPattern: load(UInt16.self, index, bytes, swapped)))
        case .uint16: Int64(load(UInt16.self, index, bytes, swapped))
        case .int8: Int64(Int8(bitPattern: bytes[index]))
        case .uint8: Int64(bytes[index])
        case .bool: bytes[index] == 0 ? 0 : 1
        case .float64, .float32, .float16, .bfloat16: 0
        }
    }

    @inline(__always)
    private func load<Word: FixedWidthInteger>(_: Word.Type, _ index: Int, _ bytes: UnsafeRawBufferPointer, _ swapped: Bool) -> Word {
        let word = bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<Word>.size, as: Word.self)
        return swapped ? Word(bigEndian: word) : Word(littleEndian: word)
    }

    /// `count` elements read from `bytes` at the storage indices `indices` yields (all checked
    /// to lie inside), negated when `negated`: the values, and for integer dtypes the exact integers.
    func elements(count: Int, from bytes: UnsafeRawBufferPointer, swapped: Bool = false, negated: Bool = false,
                  indices: some Sequence<Int>) -> (values: [Float], integers: [Int64]?) {
        if isFloatingPoint {
            let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                var position = 0
                for index in indices where position < count {
                    let value = float(at: index, in: bytes, swapped: swapped)
                    buffer[position] = negated ? -value : value
                    position += 1
                }
                initialized = position
            }
            return (values, nil)
        }
        let integers = [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            var position = 0
            for index in indices where position < count {
                let value = integer(at: index, in: bytes, swapped: swapped)
                buffer[position] = negated ? 0 &- value : value
                position += 1
            }
            initialized = position
        }
        return (integers.map { Float($0) }, integers)
    }
}
