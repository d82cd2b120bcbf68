/// One named tensor inside a flat block of parameters or buffers, e.g. `fc1.weight` with shape
/// [400, 784] or `encoder.1.running_var` with shape [32].
public struct ParameterSlot: Sendable, Equatable {
    public let name: String
    /// PyTorch's layout: [out, in] for a Linear weight, [out, in, kh, kw] for a Conv2d's, [in, out,
    /// kh, kw] for a ConvTranspose2d's, [out] for a bias, [] for `num_batches_tracked`.
    public let shape: [Int]
    /// Index of the first element in the flat block.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// All of a model's parameters in one flat block, with their gradients beside them and a table of
/// named slots into it (llm.c's layout).
///
/// This is the one enumeration of parameters: the optimiser is one loop over `values`, the
/// gradients are one block beside them, and a checkpoint walks `slots`. Layers keep offsets, never pointers, so
/// the optimiser may swap `values` for a buffer of the same shape (that is how it rolls back a step).
public final class ParameterStore<T: VAEScalar>: @unchecked Sendable {
    public let slots: [ParameterSlot]
    /// (1, P) where P is the total parameter count.
    public internal(set) var values: Matrix<T>
    /// (1, P); `computeGradients` writes every element of it.
    public let gradients: Matrix<T>

    public var count: Int { values.count }

    init(slots: [ParameterSlot]) {
        self.slots = slots
        let total = slots.reduce(0) { $0 + $1.count }
        values = Matrix(rows: 1, columns: total)
        gradients = Matrix(rows: 1, columns: total)
    }

    /// The slot called `name`, or nil.
    public func slot(named name: String) -> ParameterSlot? { slots.first { $0.name == name } }

    /// The values of `slot`, as a buffer into the flat block.
    public func values(of slot: ParameterSlot) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: values.pointer + slot.offset, count: slot.count)
    }

    /// The gradients of `slot`, as a buffer into the flat gradient block.
    public func gradients(of slot: ParameterSlot) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: gradients.pointer + slot.offset, count: slot.count)
    }

    public func zeroGradients() { gradients.fill(0) }

    /// An independent copy of the values (gradients start at zero).
    func copy() -> ParameterStore<T> {
        let result = ParameterStore(slots: slots)
        result.values.assign(from: values)
        return result
    }
}

/// A model's buffers: tensors it keeps and updates that are not learned by gradient (BatchNorm's
/// running mean, running variance and batch count), in one flat block with named slots, apart
/// from the parameters so the optimiser never sees them. Checkpoints carry them under PyTorch's names.
public final class BufferStore<T: VAEScalar>: @unchecked Sendable {
    public let slots: [ParameterSlot]
    /// (1, B) where B is the total count of buffer values (at least one element is allocated).
    public let values: Matrix<T>

    public var count: Int { slots.reduce(0) { $0 + $1.count } }

    init(slots: [ParameterSlot]) {
        self.slots = slots
        values = Matrix(rows: 1, columns: slots.reduce(0) { $0 + $1.count })
    }

    public func slot(named name: String) -> ParameterSlot? { slots.first { $0.name == name } }

    /// The values of `slot`, as a buffer into the flat block.
    public func values(of slot: ParameterSlot) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: values.pointer + slot.offset, count: slot.count)
    }

    /// An independent copy.
    func copy() -> BufferStore<T> {
        let result = BufferStore(slots: slots)
        result.values.assign(from: values)
        return result
    }
}

/// Adds named slots one after another: the layout of a parameter or buffer block.
struct SlotList {
    private(set) var slots: [ParameterSlot] = []
    var nextOffset: Int { slots.last.map { $0.offset + $0.count } ?? 0 }

    /// Appends a slot and returns its offset.
    mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = nextOffset
        slots.append(ParameterSlot(name: name, shape: shape, offset: offset))
        return offset
    }
}
