import Foundation
import VAEFormats
import VAEKit

// Where files become data sets: the formats module reads the files (IDX, CSV, MNIST folders, the
// embedded subset), and the engine's `Dataset` checks the splits and applies the options. Each
// loader throws the formats' `DataFileError` for a file's fault and the engine's `DataError` for
// the options'.

extension Dataset {
    /// MNIST: from `folder` when given; otherwise full MNIST from the data folder when all four
    /// files are there, else the embedded subset, with a note saying how to fetch the full set.
    public static func mnist(folder: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment,
                             options: DataOptions = DataOptions()) throws -> Dataset {
        let found = try MNISTFolder.read(folder: folder, environment: environment)
        return try Dataset(found.files, name: found.name, options: options)
    }

    /// The MNIST subset that ships inside vaesh: the first 10,000 training and 2,000 test images.
    public static func embeddedMNIST(options: DataOptions = DataOptions()) throws -> Dataset {
        try Dataset(MNISTFolder.embeddedSubset(), name: "mnist-subset", options: options)
    }

    /// Any folder of the four standard IDX files (MNIST, Fashion-MNIST, KMNIST…).
    public static func folder(_ path: String, name: String = "idx", options: DataOptions = DataOptions()) throws -> Dataset {
        try Dataset(MNISTFolder.files(in: path, origin: "IDX files in \(path)"), name: name, options: options)
    }

    /// IDX files named one by one. `labels` and `testLabels` are optional; a test split needs
    /// `testImages`.
    public static func idx(images: String, labels: String? = nil, testImages: String? = nil,
                           testLabels: String? = nil, options: DataOptions = DataOptions()) throws -> Dataset {
        if testImages == nil, let testLabels {
            throw DataError.invalidOption("\(testLabels): test labels given without test images")
        }
        let files = try ImageFiles.idx(images: images, labels: labels, testImages: testImages, testLabels: testLabels)
        return try Dataset(files, name: "idx", options: options)
    }

    /// A CSV file with one image per row, and optionally a test file of the same layout.
    public static func csv(path: String, testPath: String? = nil, hasHeader: Bool? = nil,
                           labelColumn: CSVLabelColumn = .automatic, scale: CSVScale = .automatic,
                           options: DataOptions = DataOptions()) throws -> Dataset {
        let files = try ImageFiles.csv(path: path, testPath: testPath, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
        return try Dataset(files, name: "csv", options: options)
    }

    /// The data set of files the formats module read, with `options` applied.
    init(_ files: ImageFiles, name: String, options: DataOptions) throws(DataError) {
        func split(_ images: ImageArray, _ name: String, stream: UInt64) -> DataSplit {
            let storage: PixelStorage = switch images.pixels {
            case .bytes(let values): .bytes(values)
            case .fractions(let values): .fractions(values)
            }
            return DataSplit(name: name, source: images.source, storage: storage, dimension: images.dimension,
                             labels: images.labels, stream: stream)
        }
        try self.init(name: name, origin: files.origin, note: files.note,
                      imageWidth: files.train.width, imageHeight: files.train.height,
                      train: split(files.train, "train", stream: 0), test: files.test.map { split($0, "test", stream: 1) },
                      options: options)
    }
}
