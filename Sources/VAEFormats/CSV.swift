// CSV with one image per row, as Kaggle's and other MNIST exports write it:
//
//     label,pixel0,pixel1,…,pixel783        ← optional header
//     5,0,0,…,0                             ← optional label column, then D pixel values
//
// Cells are separated by commas; blank lines are skipped; CRLF line ends, a UTF-8 byte-order
// mark, spaces around cells and double quotes around a cell are accepted. Lines and columns
// count from 1 in messages.
//
// Storage: values on the 1/255 grid (integers 0…255 at scale 255, or x/255 at scale 1, to within
// 0.001 of a grey level, which is what printing x/255 with 6 digits gives) are stored as bytes,
// exactly like IDX images. A file holding any other value is stored as Float, exactly, at 4 bytes
// per pixel. The file is parsed twice, once to learn its shape and range and once to fill
// storage of the right size and kind, so the text and the final storage are the only large
// buffers ever held.

/// Which column of a CSV file holds the labels.
public enum CSVLabelColumn: Sendable, Equatable {
    /// A header cell named label, labels, class, target, digit or y marks it; else, when the row
    /// has one more cell than a perfect square (785 = 28² + 1) the first column; else none.
    case automatic
    /// No labels: every column is a pixel.
    case none
    /// The first column.
    case first
    /// The last column.
    case last
    /// Column `n`, counting from 1 as the error messages do.
    case column(Int)
}

/// The range of a CSV file's pixel values.
public enum CSVScale: Sendable, Equatable {
    /// 0…1 when no value exceeds 1, else 0…255.
    case automatic
    /// Grey levels 0…255 (scale 255).
    case byte
    /// Values 0…1 (scale 1).
    case unit

    /// The scale whose largest value is `maximum`: 255 or 1; nil otherwise.
    public init?(maximum: Double) {
        switch maximum {
        case 255: self = .byte
        case 1: self = .unit
        default: return nil
        }
    }

    /// "0…255" or "0…1" (automatic reads as 0…255, the widest it accepts).
    public var rangeText: String { self == .unit ? "0…1" : "0…255" }
    var maximum: Double { self == .unit ? 1 : 255 }
}

/// A CSV file's examples, with what was decided about its layout.
public struct CSVTable: Sendable {
    public var pixels: PixelArray
    /// N labels when there is a label column.
    public var labels: [UInt8]?
    /// N.
    public var rows: Int
    /// D: pixel columns.
    public var dimension: Int
    public var hasHeader: Bool
    /// The label column, counting from 1, or nil.
    public var labelColumn: Int?
    /// `.byte` or `.unit`, never `.automatic`.
    public var scale: CSVScale
}

public enum CSV {
    /// Header names that mark the label column under `.automatic`.
    static let labelNames: Set<String> = ["label", "labels", "class", "target", "digit", "y"]

    /// Largest distance from the 1/255 grid (in grey levels) still stored as a byte.
    static let gridTolerance = 1e-3

    /// Reads the CSV file at `path` (raw or gzip'd). `hasHeader` nil means: a first row with any
    /// cell that is not a number is a header.
    public static func read(_ path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                            scale: CSVScale) throws(DataFileError) -> CSVTable {
        let bytes = try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try LocalFile.contents(of: path) }
        return try decode(bytes, name: path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
    }

    /// Decodes CSV text held in memory (raw or gzip'd), as `read` does; `name` stands for the path
    /// in messages. The entry point the fuzzer drives.
    public static func decode(_ bytes: [UInt8], name path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                              scale: CSVScale) throws(DataFileError) -> CSVTable {
        var text = bytes
        if Zlib.isGzip(text) {
            do throws(Zlib.Failure) { text = try Zlib.inflate(text) } catch {
                switch error {
                case .truncated: throw .corruptGzip(path: path, reason: "the compressed stream ends early (truncated file)")
                case .corrupt(let reason): throw .corruptGzip(path: path, reason: reason)
                }
            }
        }
        return try text.withUnsafeBufferPointer { buffer in
            Result { () throws(DataFileError) in
                try parse(CSVText(buffer), path: path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
            }
        }.get()
    }

    private static func parse(_ text: CSVText, path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                              scale: CSVScale) throws(DataFileError) -> CSVTable {
        // MARK: Layout: header, column count, label column.
        guard let firstLine = text.firstNonBlankLine() else { throw .emptyDataset(path: path) }
        let firstCells = text.cells(of: firstLine)
        let header = hasHeader ?? firstCells.contains { text.number(in: $0) == nil }
        let columns = firstCells.count
        var labelIndex: Int?
        switch labelColumn {
        case .none: labelIndex = nil
        case .first: labelIndex = 0
        case .last: labelIndex = columns - 1
        case .column(let n):
            guard n >= 1 && n <= columns else { throw .csvLabelColumnOutOfRange(path: path, column: n, columns: columns) }
            labelIndex = n - 1
        case .automatic:
            if header, let named = firstCells.firstIndex(where: { labelNames.contains(text.name(in: $0)) }) {
                labelIndex = named
            } else if isPerfectSquare(columns - 1) && !isPerfectSquare(columns) {
                labelIndex = 0
            }
        }
        let dimension = columns - (labelIndex == nil ? 0 : 1)
        guard dimension > 0 else { throw .csvNoPixels(path: path, line: firstLine.number) }
        let dataStart = header ? firstLine.end : firstLine.start

        // MARK: Pass 1: check every cell, count rows, learn the range.
        var rows = 0
        var largest = 0.0
        var onByteGrid = true      // every value an integer (scale 255)
        var onUnitGrid = true      // every value·255 within tolerance of an integer (scale 1)
        let limitText = scale.rangeText
        let maximum = scale.maximum
        let tolerance = gridTolerance
        try text.forEachRow(from: dataStart) { line, cells throws(DataFileError) in
            guard cells.count == columns else {
                throw .csvColumnCount(path: path, line: line, found: cells.count, expected: columns, firstLine: firstLine.number)
            }
            for (column, cell) in cells.enumerated() {
                guard let value = text.number(in: cell) else {
                    throw .csvNotANumber(path: path, line: line, column: column + 1, cell: text.string(in: cell))
                }
                if column == labelIndex {
                    // Range first, so the conversion to Int below cannot trap.
                    guard value >= 0 && value <= 255 && Double(Int(value)) == value else {
                        throw .csvBadLabel(path: path, line: line, column: column + 1, cell: text.string(in: cell))
                    }
                    continue
                }
                guard value >= 0 && value <= maximum else {
                    throw .csvValueOutOfRange(path: path, line: line, column: column + 1,
                                              cell: text.string(in: cell), range: limitText)
                }
                largest = max(largest, value)
                // value is in 0…255 here, so Int(…) is an exact truncation (and cheaper than rounded()).
                if onByteGrid && Double(Int(value)) != value { onByteGrid = false }
                if onUnitGrid {
                    let grey = value * 255
                    if abs(grey - Double(Int(grey + 0.5))) > tolerance { onUnitGrid = false }
                }
            }
            rows += 1
        }
        guard rows > 0 else { throw .emptyDataset(path: path) }
        let resolvedScale: CSVScale = scale == .automatic ? (largest > 1 ? .byte : .unit) : scale
        let asBytes = resolvedScale == .byte ? onByteGrid : onUnitGrid

        // MARK: Pass 2: fill storage of the right kind and size.
        var labels: [UInt8]? = labelIndex == nil ? nil : []
        labels?.reserveCapacity(rows)
        var bytes: [UInt8] = []
        var fractions: [Float] = []
        if asBytes { bytes.reserveCapacity(rows * dimension) } else { fractions.reserveCapacity(rows * dimension) }
        let toGrey = resolvedScale == .byte ? 1.0 : 255.0
        let toUnit = resolvedScale == .byte ? 1.0 / 255 : 1.0
        text.forEachRowChecked(from: dataStart) { cells in
            for (column, cell) in cells.enumerated() {
                // Pass 1 checked every cell, so each parses.
                let value = text.number(in: cell) ?? 0
                if column == labelIndex {
                    labels?.append(UInt8(value))
                } else if asBytes {
                    // Non-negative and within 0.001 of an integer ≤ 255: adding ½ and truncating rounds.
                    bytes.append(UInt8(value * toGrey + 0.5))
                } else {
                    fractions.append(Float(value * toUnit))
                }
            }
        }
        return CSVTable(pixels: asBytes ? .bytes(bytes) : .fractions(fractions), labels: labels, rows: rows,
                        dimension: dimension, hasHeader: header, labelColumn: labelIndex.map { $0 + 1 },
                        scale: resolvedScale)
    }

    private static func isPerfectSquare(_ n: Int) -> Bool {
        guard n > 0 else { return false }
        let root = Int(Double(n).squareRoot().rounded())
        return root * root == n
    }
}
