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
    /// Train on the training and test files together, leaving no test split, as the Keras VAE
    /// example does (70,000 MNIST images). Applied last: the validation split still comes from
    /// the end of the training file, and the limit applies to each file before they are joined.
    public var trainOnTest: Bool

    public init(binarization: Binarization = .none, limit: Int? = nil, validationCount: Int? = nil, trainOnTest: Bool = false) {
        self.binarization = binarization
        self.limit = limit
        self.validationCount = validationCount
        self.trainOnTest = trainOnTest
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
    /// Channels per pixel: 1 (grey) for every loader today. Part of `shape`, so that a model for
    /// colour images (C = 3) is told apart from one for grey ones when colour data comes.
    public var channels: Int = 1
    public var train: DataSplit
    /// Absent for a CSV or IDX load given no test file.
    public var test: DataSplit?
    /// Present when `DataOptions.validationCount` asked for one.
    public var validation: DataSplit?
    /// The training split holds the test file's examples too (`DataOptions.trainOnTest`).
    public var trainIncludesTest = false

    /// The binarisation of every split; setting it changes them all (no reload needed).
    public var binarization: Binarization {
        get { train.binarization }
        set {
            train.binarization = newValue
            test?.binarization = newValue
            validation?.binarization = newValue
        }
    }

    /// D: values per example (C·H·W).
    public var dimension: Int { train.dimension }

    /// One example's shape, C×H×W as PyTorch stores it: what a model built for this data reads.
    public var shape: ExampleShape { .image(channels: channels, height: imageHeight, width: imageWidth) }

    /// "28×28" for grey images (H×W, as MNIST is described), "3×32×32" (C×H×W) for colour.
    public var shapeText: String { channels == 1 ? "\(imageHeight)×\(imageWidth)" : shape.text }

    /// The splits present, in the order train, validation, test.
    public var splits: [DataSplit] { [train] + [validation, test].compactMap { $0 } }

    /// One line for a person: name, origin, the count in each split, the image size and the
    /// binarisation, e.g. "mnist-subset: embedded MNIST subset (…); train 10,000, test 2,000; 28×28; grey levels x/255".
    public var summary: String {
        let counts = splits.map { "\($0.name) \(grouped($0.count))" }.joined(separator: ", ")
        return "\(name): \(origin); \(counts); \(shapeText); \(binarization)"
    }
}

// MARK: - Assembly

extension Dataset {
    /// A data set of `train` and `test` (each from its own file), checked and with the options
    /// applied: validation carved from the end of train, then the limit, then test merged into
    /// train when asked, then the binarisation.
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
        precondition(test.map { $0.dimension == train.dimension } ?? true && train.dimension == imageWidth * imageHeight,  // grey: one channel
                     "Dataset: splits of \(train.dimension) and \(test?.dimension ?? 0) values for \(imageWidth)×\(imageHeight) images")
        if options.trainOnTest, test == nil {
            throw .invalidOption("there is no test file to train on: \(train.source) is all there is")
        }
        var trainSplit = train
        var testSplit = test
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
        if let limit = options.limit {
            trainSplit = trainSplit.limited(to: limit)
            testSplit = testSplit?.limited(to: limit)
        }
        // Last, so that each file's part is what `limit` and `validation` say of that file, and a
        // limit never leaves the merged split without the test file's images.
        if options.trainOnTest, let test = testSplit {
            // Stream 2: neither the training file's draws (0) nor the test file's (1).
            trainSplit = trainSplit.followed(by: test, name: "train", stream: 2)
            testSplit = nil
        }
        self.init(name: name, origin: origin, note: note, imageWidth: imageWidth, imageHeight: imageHeight,
                  train: trainSplit, test: testSplit, validation: validation)
        binarization = options.binarization
        trainIncludesTest = options.trainOnTest
    }
}
