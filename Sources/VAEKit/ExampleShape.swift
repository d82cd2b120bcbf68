/// The shape of one example as a layer sees it, without the batch: a vector of D values, or an
/// image of C channels of H×W pixels, stored as PyTorch stores it (NCHW: channel by channel, each
/// channel row by row).
///
/// Because NCHW keeps each example's values contiguous in that order, every activation in the
/// engine is a matrix (N, C·H·W): Flatten and Unflatten change the shape a layer sees, never the
/// memory, and a flattened image lines up value for value with PyTorch's `x.flatten(1)`.
public enum ExampleShape: Sendable, Hashable, Codable {
    /// D values.
    case vector(Int)
    /// C×H×W.
    case image(channels: Int, height: Int, width: Int)

    /// Values per example (D, or C·H·W); nil when the product overflows.
    public var checkedCount: Int? {
        switch self {
        case .vector(let count): return count
        case .image(let channels, let height, let width): return checkedProduct([channels, height, width])
        }
    }

    /// Values per example. Only for shapes that passed `VAEArchitecture.validate` (no overflow).
    public var count: Int { checkedCount ?? .max }

    /// "784" or "64×5×5".
    public var text: String {
        switch self {
        case .vector(let count): "\(count)"
        case .image(let channels, let height, let width): "\(channels)×\(height)×\(width)"
        }
    }

    public var isImage: Bool {
        if case .image = self { return true }
        return false
    }
}

extension ExampleShape: CustomStringConvertible {
    public var description: String { text }
}

/// The product of `factors`, or nil when it overflows `Int` (sizes come from users: a product of
/// three plausible-looking numbers can overflow, and must be refused, not trapped on).
func checkedProduct(_ factors: [Int]) -> Int? {
    var result = 1
    for factor in factors {
        let (product, overflow) = result.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        result = product
    }
    return result
}

/// The sum of `terms`, or nil when it overflows.
func checkedSum(_ terms: [Int]) -> Int? {
    var result = 0
    for term in terms {
        let (sum, overflow) = result.addingReportingOverflow(term)
        if overflow { return nil }
        result = sum
    }
    return result
}
