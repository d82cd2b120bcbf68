import Foundation

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

/// A loaded data set: a training split, and test and validation splits when there are any, with
/// where it came from.
///
/// Every loader is a pure function that returns a new value; nothing is printed. The pixels are
/// stored once, as bytes, and converted to the model's scalar by `DataSplit.fillBatch` a batch at
/// a time.
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

// MARK: - Entry points

extension Dataset {
    /// MNIST: from `folder` when given (it must hold the four standard files); otherwise full
    /// MNIST from the data folder (`DataFolder.resolved(environment:)`) when all four files are
    /// there, else the embedded subset, with a `note` saying how to fetch the full set.
    ///
    /// A data folder holding some but not all of the four files is an error rather than a silent
    /// fallback, since it means an interrupted copy or a mistake worth seeing.
    public static func mnist(folder: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment,
                             options: DataOptions = DataOptions()) throws(DataError) -> Dataset {
        if let folder {
            return try loadFolder(folder, name: "mnist", origin: "MNIST from \(folder)", options: options)
        }
        let dataFolder = DataFolder.resolved(environment: environment)
        let found = DataFolder.standardFiles(in: dataFolder)
        if found.count == StandardFile.allCases.count {
            return try loadFolder(dataFolder, name: "mnist", origin: "full MNIST from \(dataFolder)",
                                  options: options, inDataFolder: true)
        }
        if let missing = StandardFile.allCases.first(where: { found[$0] == nil }), !found.isEmpty {
            throw .missingStandardFile(folder: dataFolder, file: missing.rawValue, inDataFolder: true)
        }
        var dataset = try embeddedMNIST(options: options)
        dataset.note = "full MNIST not found in \(dataFolder); scripts/fetch-mnist installs it there"
        return dataset
    }

    /// The MNIST subset that ships inside VAEKit: the first 10,000 training and 2,000 test images.
    public static func embeddedMNIST(options: DataOptions = DataOptions()) throws(DataError) -> Dataset {
        guard let url = Bundle.module.url(forResource: "MNIST", withExtension: nil) else {
            throw .embeddedSubsetMissing
        }
        return try loadFolder(url.path, name: "mnist-subset",
                              origin: "embedded MNIST subset (the first 10,000 training and 2,000 test images of MNIST)",
                              options: options)
    }

    /// Any folder of the four standard IDX files (MNIST, Fashion-MNIST, KMNIST…), each named
    /// `train-images-idx3-ubyte` or `train-images.idx3-ubyte` (and likewise), raw or `.gz`.
    /// Files whose names start with `._` (macOS metadata) are ignored.
    public static func folder(_ path: String, name: String = "idx",
                              options: DataOptions = DataOptions()) throws(DataError) -> Dataset {
        try loadFolder(path, name: name, origin: "IDX files in \(path)", options: options)
    }

    /// IDX files named one by one. `labels` and `testLabels` are optional; a test split needs
    /// `testImages`.
    public static func idx(images: String, labels: String? = nil, testImages: String? = nil,
                           testLabels: String? = nil, options: DataOptions = DataOptions()) throws(DataError) -> Dataset {
        let train = try ImageFile.load(images: images, labels: labels, name: "train", stream: 0)
        var test: ImageFile?
        if let testImages {
            test = try ImageFile.load(images: testImages, labels: testLabels, name: "test", stream: 1)
        } else if let testLabels {
            throw .invalidOption("\(testLabels): test labels given without test images")
        }
        let origin = "IDX file \(images)" + (testImages.map { " with test file \($0)" } ?? "")
        return try assemble(name: "idx", origin: origin, train: train, test: test, options: options)
    }

    /// A CSV file with one image per row, and optionally a test file of the same layout.
    /// - Parameters:
    ///   - hasHeader: nil to detect (a first row with a non-numeric cell is a header).
    ///   - labelColumn: see `CSVLabelColumn`; the layout found in `path` is used for `testPath` too.
    ///   - scale: 255 for grey levels, 1 for values in [0, 1], or detect from the largest value.
    public static func csv(path: String, testPath: String? = nil, hasHeader: Bool? = nil,
                           labelColumn: CSVLabelColumn = .automatic, scale: CSVScale = .automatic,
                           options: DataOptions = DataOptions()) throws(DataError) -> Dataset {
        let trainTable = try CSV.read(path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
        let train = ImageFile(csv: trainTable, path: path, name: "train", stream: 0)
        var test: ImageFile?
        if let testPath {
            let column: CSVLabelColumn = trainTable.labelColumn.map { .column($0) } ?? .none
            let testTable = try CSV.read(testPath, hasHeader: hasHeader, labelColumn: column, scale: trainTable.scale)
            test = ImageFile(csv: testTable, path: testPath, name: "test", stream: 1)
        }
        var layout: [String] = []
        if trainTable.hasHeader { layout.append("header") }
        layout.append(trainTable.labelColumn.map { "labels in column \($0)" } ?? "no labels")
        layout.append(trainTable.scale == .byte ? "values 0…255" : "values 0…1")
        let origin = "CSV file \(path)" + (testPath.map { " with test file \($0)" } ?? "")
            + " (\(layout.joined(separator: ", ")))"
        return try assemble(name: "csv", origin: origin, train: train, test: test, options: options)
    }
}

// MARK: - Assembly

extension Dataset {
    private static func loadFolder(_ path: String, name: String, origin: String, options: DataOptions,
                                   inDataFolder: Bool = false) throws(DataError) -> Dataset {
        switch PathKind(path) {
        case .missing: throw .folderNotFound(path: path)
        case .file: throw .notAFolder(path: path)
        case .folder: break
        }
        let found = DataFolder.standardFiles(in: path)
        func file(_ file: StandardFile) throws(DataError) -> String {
            guard let found = found[file] else {
                throw .missingStandardFile(folder: path, file: file.rawValue, inDataFolder: inDataFolder)
            }
            return found
        }
        // Check all four before reading any, so a missing file is reported before a damaged one.
        for standard in StandardFile.allCases { _ = try file(standard) }
        let train = try ImageFile.load(images: file(.trainImages), labels: file(.trainLabels), name: "train", stream: 0)
        let test = try ImageFile.load(images: file(.testImages), labels: file(.testLabels), name: "test", stream: 1)
        return try assemble(name: name, origin: origin, train: train, test: test, options: options)
    }

    /// Checks that train and test agree and are not empty, then applies the options: validation
    /// carved from the end of train, then the limit, then the binarisation.
    private static func assemble(name: String, origin: String, train: ImageFile, test: ImageFile?,
                                 options: DataOptions) throws(DataError) -> Dataset {
        if let limit = options.limit, limit < 1 {
            throw .invalidOption("limit must be at least 1, not \(limit)")
        }
        if let count = options.validationCount, count < 0 {
            throw .invalidOption("validation count must be 0 or more, not \(count)")
        }
        guard train.split.count > 0 else { throw .emptyDataset(path: train.split.source) }
        if let test {
            guard test.split.count > 0 else { throw .emptyDataset(path: test.split.source) }
            guard test.width == train.width && test.height == train.height else {
                throw .imageSizeMismatch(train: train.split.source, trainShape: "\(train.width)×\(train.height)",
                                         test: test.split.source, testShape: "\(test.width)×\(test.height)")
            }
        }
        var trainSplit = train.split
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
        var testSplit = test?.split
        if let limit = options.limit {
            trainSplit = trainSplit.limited(to: limit)
            testSplit = testSplit?.limited(to: limit)
        }
        var dataset = Dataset(name: name, origin: origin, note: nil, imageWidth: train.width, imageHeight: train.height,
                              train: trainSplit, test: testSplit, validation: validation)
        dataset.binarization = options.binarization
        return dataset
    }
}

/// The examples of one file (or images/labels pair) with their image size, before the options.
private struct ImageFile {
    var split: DataSplit
    var width: Int
    var height: Int

    /// An IDX images file, (N, rows, columns) or (N, D), with its optional labels file (N).
    static func load(images: String, labels: String?, name: String, stream: UInt64) throws(DataError) -> ImageFile {
        let array = try IDX.read(images)
        let dimensions = array.dimensions
        let width: Int, height: Int
        switch dimensions.count {
        case 3:
            (height, width) = (dimensions[1], dimensions[2])
        case 2:
            (width, height) = squareOrColumn(dimensions[1])
        default:
            let hint = dimensions.count == 1 ? " (a labels file?)" : ""
            throw .unsupportedRank(path: images, rank: dimensions.count,
                                   expected: "3 (count, rows, columns) or 2 (count, values) for images\(hint)")
        }
        if dimensions[0] > 0 && (width == 0 || height == 0) {
            throw .zeroDimension(path: images, dimensions: dimensions)
        }
        // With no images the header's product is 0 whatever the image size, so the size itself
        // can still overflow (e.g. 0 × 4,160,749,567 × 4,292,412,420).
        let (dimension, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow else { throw .sizeOverflow(path: images, dimensions: dimensions) }
        var labelValues: [UInt8]?
        if let labels {
            let labelArray = try IDX.read(labels)
            guard labelArray.dimensions.count == 1 else {
                throw .unsupportedRank(path: labels, rank: labelArray.dimensions.count, expected: "1 (count) for labels")
            }
            guard labelArray.dimensions[0] == dimensions[0] else {
                throw .countMismatch(images: images, imageCount: dimensions[0], labels: labels,
                                     labelCount: labelArray.dimensions[0])
            }
            labelValues = labelArray.elements
        }
        let split = DataSplit(name: name, source: images, storage: .bytes(array.elements), dimension: dimension,
                              labels: labelValues, stream: stream, first: 0, count: dimensions[0])
        return ImageFile(split: split, width: width, height: height)
    }

    init(split: DataSplit, width: Int, height: Int) {
        self.split = split
        self.width = width
        self.height = height
    }

    init(csv table: CSVTable, path: String, name: String, stream: UInt64) {
        (width, height) = squareOrColumn(table.dimension)
        split = DataSplit(name: name, source: path, storage: table.storage, dimension: table.dimension,
                          labels: table.labels, stream: stream, first: 0, count: table.rows)
    }
}

/// A square side×side when `dimension` is a perfect square, else dimension×1.
private func squareOrColumn(_ dimension: Int) -> (width: Int, height: Int) {
    let side = Int(Double(dimension).squareRoot().rounded())
    return side * side == dimension ? (side, side) : (dimension, 1)
}

/// 60000 as "60,000".
private func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (offset, digit) in digits.enumerated() {
        if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return (value < 0 ? "-" : "") + result
}
