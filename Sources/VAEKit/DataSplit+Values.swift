/// Whether the values a model sees are 0 and 1 only.
///
/// A Bernoulli likelihood is a normalised likelihood of binary data. On grey levels in [0, 1] (the
/// PyTorch example feeds MNIST that way) x·log ŷ + (1 − x)·log(1 − ŷ) is a cross-entropy: it is
/// never the log of a probability of x, and its totals are not comparable with published
/// binarised-MNIST figures. The language uses this to say so.
extension DataSplit {
    /// True under any binarisation, and when every stored value of this split is 0 or 255 (as
    /// bytes) or 0 or 1 (as fractions). Scans the split once (about 10 ms for 47 MB).
    public var valuesAreBinary: Bool {
        if binarization != .none { return true }
        let range = first * dimension..<(first + count) * dimension
        switch storage {
        case .bytes(let values):
            return values[range].allSatisfy { $0 == 0 || $0 == 255 }
        case .fractions(let values):
            return values[range].allSatisfy { $0 == 0 || $0 == 1 }
        }
    }
}

extension Dataset {
    /// True when every split's values are 0 or 1 (see `DataSplit.valuesAreBinary`).
    public var valuesAreBinary: Bool { splits.allSatisfy(\.valuesAreBinary) }
}
