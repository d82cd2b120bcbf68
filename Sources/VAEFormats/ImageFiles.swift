import Foundation

/// Pixels as a file stores them: once, in the file's own precision. Full MNIST's 60,000 training
/// images take 47 MB as bytes, 188 MB as Float.
public enum PixelArray: Sendable, Equatable {
    /// Grey levels 0…255; the value is x/255. IDX files, and CSV files whose values all sit on the
    /// 1/255 grid.
    case bytes([UInt8])
    /// Values already in [0, 1]: CSV files with other fractions, kept exactly as Float.
    case fractions([Float])

    /// Values held.
    public var count: Int {
        switch self {
        case .bytes(let values): values.count
        case .fractions(let values): values.count
        }
    }
}

/// The examples of one file (an IDX images file with its labels file, or a CSV file): N images of
/// height × width, row-major, with a label each when the source has labels.
public struct ImageArray: Sendable {
    /// The file the images came from, as the caller spelled it.
    public var source: String
    /// N.
    public var count: Int
    public var width: Int
    public var height: Int
    /// N·height·width values.
    public var pixels: PixelArray
    /// N labels, when the source has them.
    public var labels: [UInt8]?

    /// D: values per image.
    public var dimension: Int { width * height }

    /// An IDX images file, (N, rows, columns) or (N, D), with its optional labels file (N).
    /// Rank-2 images are square when D is a square, else one row of D. The images are checked
    /// before the labels are read, so a file's own fault is reported before its labels'.
    public static func idx(images: String, labels: String?) throws(DataFileError) -> ImageArray {
        let array = try IDX.read(images)
        let size = try imageSize(array, named: images)
        var labelFile: (IDXArray, String)?
        if let labels { labelFile = (try IDX.read(labels), labels) }
        return try assemble(array, named: images, size: size, labels: labelFile)
    }

    /// IDX images and labels already read (`named` stands for the images' path in messages, the
    /// labels carry theirs), with the same checks as files.
    public static func idx(images array: IDXArray, named images: String, labels: (IDXArray, String)?) throws(DataFileError) -> ImageArray {
        try assemble(array, named: images, size: imageSize(array, named: images), labels: labels)
    }

    /// The width and height of IDX images, checked.
    private static func imageSize(_ array: IDXArray, named images: String) throws(DataFileError) -> (width: Int, height: Int) {
        let dimensions = array.dimensions
        let width: Int, height: Int
        switch dimensions.count {
        case 3:
            (height, width) = (dimensions[1], dimensions[2])
        case 2:
            (width, height) = squareOrRow(dimensions[1])
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
        guard !width.multipliedReportingOverflow(by: height).overflow else {
            throw .sizeOverflow(path: images, dimensions: dimensions)
        }
        return (width, height)
    }

    /// Checked images with their labels, checked against them.
    private static func assemble(_ array: IDXArray, named images: String, size: (width: Int, height: Int),
                                 labels labelFile: (IDXArray, String)?) throws(DataFileError) -> ImageArray {
        let count = array.dimensions[0]
        var labelValues: [UInt8]?
        if let (labelArray, labels) = labelFile {
            guard labelArray.dimensions.count == 1 else {
                throw .unsupportedRank(path: labels, rank: labelArray.dimensions.count, expected: "1 (count) for labels")
            }
            guard labelArray.dimensions[0] == count else {
                throw .countMismatch(images: images, imageCount: count, labels: labels, labelCount: labelArray.dimensions[0])
            }
            labelValues = labelArray.elements
        }
        return ImageArray(source: images, count: count, width: size.width, height: size.height,
                          pixels: .bytes(array.elements), labels: labelValues)
    }

    /// The images of a CSV table read from `path`: square when D is a square, else one row of D.
    public init(csv table: CSVTable, path: String) {
        (width, height) = squareOrRow(table.dimension)
        source = path
        count = table.rows
        pixels = table.pixels
        labels = table.labels
    }

    public init(source: String, count: Int, width: Int, height: Int, pixels: PixelArray, labels: [UInt8]?) {
        precondition(pixels.count == count * width * height && (labels?.count ?? count) == count,
                     "ImageArray: \(pixels.count) values and \(labels?.count ?? count) labels for \(count) images of \(width)×\(height)")
        self.source = source
        self.count = count
        self.width = width
        self.height = height
        self.pixels = pixels
        self.labels = labels
    }
}

/// A training file and an optional test file of one data set, checked to agree: neither is empty,
/// and their images have one size.
public struct ImageFiles: Sendable {
    public var train: ImageArray
    public var test: ImageArray?
    /// Which set, from where, in one sentence, e.g. "full MNIST from /root/.local/share/vaesh/mnist".
    public var origin: String
    /// Anything the caller should pass on, e.g. that full MNIST was not found and how to get it.
    public var note: String?

    public init(train: ImageArray, test: ImageArray?, origin: String, note: String? = nil) throws(DataFileError) {
        guard train.count > 0 else { throw .emptyDataset(path: train.source) }
        if let test {
            guard test.count > 0 else { throw .emptyDataset(path: test.source) }
            guard test.width == train.width && test.height == train.height else {
                throw .imageSizeMismatch(train: train.source, trainShape: "\(train.height)×\(train.width)",
                                         test: test.source, testShape: "\(test.height)×\(test.width)")
            }
        }
        self.train = train
        self.test = test
        self.origin = origin
        self.note = note
    }

    /// IDX files named one by one; a test split needs `testImages`.
    public static func idx(images: String, labels: String?, testImages: String?, testLabels: String?) throws(DataFileError) -> ImageFiles {
        let train = try ImageArray.idx(images: images, labels: labels)
        let test = try testImages.map { path throws(DataFileError) in try ImageArray.idx(images: path, labels: testLabels) }
        let origin = "IDX file \(images)" + (testImages.map { " with test file \($0)" } ?? "")
        return try ImageFiles(train: train, test: test, origin: origin)
    }

    /// A CSV file with one image per row, and optionally a test file read with its layout.
    /// - Parameters:
    ///   - hasHeader: nil to detect (a first row with a non-numeric cell is a header).
    ///   - labelColumn: see `CSVLabelColumn`; the layout found in `path` is used for `testPath` too.
    ///   - scale: 255 for grey levels, 1 for values in [0, 1], or detect from the largest value.
    public static func csv(path: String, testPath: String?, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                           scale: CSVScale) throws(DataFileError) -> ImageFiles {
        let trainTable = try CSV.read(path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
        var test: ImageArray?
        if let testPath {
            let column: CSVLabelColumn = trainTable.labelColumn.map { .column($0) } ?? .none
            let testTable = try CSV.read(testPath, hasHeader: hasHeader, labelColumn: column, scale: trainTable.scale)
            test = ImageArray(csv: testTable, path: testPath)
        }
        var layout: [String] = []
        if trainTable.hasHeader { layout.append("header") }
        layout.append(trainTable.labelColumn.map { "labels in column \($0)" } ?? "no labels")
        layout.append(trainTable.scale == .byte ? "values 0…255" : "values 0…1")
        let origin = "CSV file \(path)" + (testPath.map { " with test file \($0)" } ?? "")
            + " (\(layout.joined(separator: ", ")))"
        return try ImageFiles(train: ImageArray(csv: trainTable, path: path), test: test, origin: origin)
    }
}

/// A square side×side when `dimension` is a perfect square, else dimension×1.
func squareOrRow(_ dimension: Int) -> (width: Int, height: Int) {
    let side = Int(Double(dimension).squareRoot().rounded())
    return side * side == dimension ? (side, side) : (dimension, 1)
}
