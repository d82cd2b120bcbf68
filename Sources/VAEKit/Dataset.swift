/// Options every loader takes.
public struct DataOptions: Sendable, Equatable {
    /// How grey levels become values (grey levels x/255 by default).
    public var binarization: Binarization
    /// Keep at most this many training examples, and at most this many test examples (the first
    /// ones in file order). Applied after the validation split is carved out. Must be ≥ 1.
    public var limit: Int?
    /// Carve a validation split of this many examples from the END of the training file (the
    /// "last N" convention of the 50,000/10,000 MNIST split), so it is the same set on every run
    /// and never overlaps train. 0 or nil: no validation split.
    public var validationCount: Int?

    public init(binarization: Binarization = .none, limit: Int? = nil, validationCount: Int? = nil) {
        self.binarization = binarization
        self.limit = limit
        self.validationCount = validationCount
    }
}

/// A data set: a training split, and test and validation splits when there are any, with where it
/// came from.
///
/// The formats module reads the files; `init(name:origin:…)` checks the splits and applies the
/// options. The pixels are stored once, as the file held them, and converted to the model's scalar
/// by `DataSplit.fillBatch` a batch at a time.
public struct Dataset: Sendable {
    /// "mnist" (full MNIST from the data folder), "mnist-subset" (the embedded subset), "idx" or "csv".
    public var name: String
    /// Which set, from where, in one sentence, e.g. "full MNIST from /root/.local/share/vaesh/mnist".
    public var origin: String
    /// Anything the caller should pass on, e.g. that full MNIST was not found and how to get it.
    public var note: String?
    /// Image size: 28×28 for MNIST; for CSV, a square side when D is a square, else D×1.
    public var imageWidth: Int
    public var imageHeight: Int
    public var train: DataSplit
    /// Absent for a CSV or IDX load given no test file.
    public var test: DataSplit?
    /// Present when `DataOptions.validationCount` asked for one.
    public var validation: DataSplit?

    /// The binarisation of every split; setting it changes them all (no reload needed).
    public var binarization: Binarization {
        get { train.binarization }
        set {
            train.binarization = newValue
            test?.binarization = newValue
            validation?.binarization = newValue
        }
    }

    /// D: values per example.
    public var dimension: Int { train.dimension }

    /// The splits present, in the order train, validation, test.
    public var splits: [DataSplit] { [train] + [validation, test].compactMap { $0 } }

    /// One line for a person: name, origin, the count in each split, the image size and the
    /// binarisation, e.g. "mnist-subset: embedded MNIST subset (…); train 10,000, test 2,000; 28×28; grey levels x/255".
    public var summary: String {
        let counts = splits.map { "\($0.name) \(grouped($0.count))" }.joined(separator: ", ")
        return "\(name): \(origin); \(counts); \(imageWidth)×\(imageHeight); \(binarization)"
    }
}

// MARK: - Assembly

extension Dataset {
    /// A data set of `train` and `test` (each from its own file), checked and with the options
    /// applied: validation carved from the end of train, then the limit, then the binarisation.
    public init(name: String, origin: String, note: String? = nil, imageWidth: Int, imageHeight: Int,
                train: DataSplit, test: DataSplit?, options: DataOptions) throws(DataError) {
        if let limit = options.limit, limit < 1 {
            throw .invalidOption("limit must be at least 1, not \(limit)")
        }
        if let count = options.validationCount, count < 0 {
            throw .invalidOption("validation count must be 0 or more, not \(count)")
        }
        guard train.count > 0 else { throw .emptySplit(source: train.source) }
        if let test, test.count == 0 { throw .emptySplit(source: test.source) }
        precondition(test.map { $0.dimension == train.dimension } ?? true && train.dimension == imageWidth * imageHeight,
                     "Dataset: splits of \(train.dimension) and \(test?.dimension ?? 0) values for \(imageWidth)×\(imageHeight) images")
        var trainSplit = train
        var validation: DataSplit?
        if let count = options.validationCount, count > 0 {
            guard count < trainSplit.count else {
                throw .invalidOption("validation count \(count) leaves no training examples: "
                                     + "\(trainSplit.source) has \(trainSplit.count)")
            }
            validation = trainSplit.examples(trainSplit.count - count..<trainSplit.count)
            validation?.name = "validation"
            trainSplit = trainSplit.examples(0..<trainSplit.count - count)
        }
        var testSplit = test
        if let limit = options.limit {
            trainSplit = trainSplit.limited(to: limit)
            testSplit = testSplit?.limited(to: limit)
        }
        self.init(name: name, origin: origin, note: note, imageWidth: imageWidth, imageHeight: imageHeight,
                  train: trainSplit, test: testSplit, validation: validation)
        binarization = options.binarization
    }
}
