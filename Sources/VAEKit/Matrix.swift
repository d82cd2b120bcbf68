/// A dense row-major matrix that owns its memory.
///
/// `Matrix` is a reference type on purpose: the engine allocates its workspaces once and writes
/// them in place on every step, with stable pointers for BLAS (as llm.c does with its activation
/// block). Call `copy()` for an independent matrix. Element (r, c) lives at `pointer[r * columns + c]`.
public final class Matrix<T: VAEScalar>: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// The first element; valid for the matrix's lifetime. `rows * columns` elements.
    public let pointer: UnsafeMutablePointer<T>

    public var count: Int { rows * columns }

    /// A `rows`×`columns` matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: T = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows)×\(columns)")
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        precondition(!overflow, "Matrix: shape \(rows)×\(columns) overflows")
        self.rows = rows
        self.columns = columns
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    /// A `rows`×`columns` matrix holding `elements` in row-major order.
    public convenience init(rows: Int, columns: Int, elements: [T]) {
        precondition(elements.count == rows * columns, "Matrix: \(elements.count) elements for \(rows)×\(columns)")
        self.init(rows: rows, columns: columns)
        elements.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
        }
    }

    deinit { pointer.deallocate() }

    public subscript(row: Int, column: Int) -> T {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix: index out of range")
            return pointer[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix: index out of range")
            pointer[row * columns + column] = newValue
        }
    }

    /// The elements as a buffer, for reading or writing in place.
    public var buffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The elements in row-major order, copied into an array.
    public var elements: [T] { Array(buffer) }

    /// Row `row` as a buffer of `columns` elements.
    public func row(_ row: Int) -> UnsafeMutableBufferPointer<T> {
        precondition(row >= 0 && row < rows, "Matrix: row out of range")
        return UnsafeMutableBufferPointer(start: pointer + row * columns, count: columns)
    }

    /// An independent copy.
    public func copy() -> Matrix<T> {
        let result = Matrix(rows: rows, columns: columns)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    /// Copies `other`'s elements into this matrix; the shapes must match.
    public func assign(from other: Matrix<T>) {
        precondition(other.rows == rows && other.columns == columns, "Matrix: shape mismatch in assign")
        pointer.update(from: other.pointer, count: count)
    }

    /// Sets every element to `value`.
    public func fill(_ value: T) { buffer.update(repeating: value) }

    /// This matrix converted to another scalar type.
    public func converted<U: VAEScalar>(to: U.Type = U.self) -> Matrix<U> {
        let result = Matrix<U>(rows: rows, columns: columns)
        for i in 0..<count { result.pointer[i] = U(pointer[i]) }
        return result
    }

    /// True when every element is finite.
    public var isFinite: Bool {
        for i in 0..<count where !pointer[i].isFinite { return false }
        return true
    }
}

extension Matrix: CustomStringConvertible {
    public var description: String { "Matrix<\(T.self)>(\(rows)×\(columns))" }
}
