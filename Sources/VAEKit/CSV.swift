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
    var rangeText: String { self == .unit ? "0…1" : "0…255" }
    var maximum: Double { self == .unit ? 1 : 255 }
}

/// A CSV file's examples, with what was decided about its layout.
struct CSVTable {
    var storage: PixelStorage
    /// N labels when there is a label column.
    var labels: [UInt8]?
    /// N.
    var rows: Int
    /// D: pixel columns.
    var dimension: Int
    var hasHeader: Bool
    /// The label column, counting from 1, or nil.
    var labelColumn: Int?
    /// `.byte` or `.unit`, never `.automatic`.
    var scale: CSVScale
}

enum CSV {
    /// Header names that mark the label column under `.automatic`.
    static let labelNames: Set<String> = ["label", "labels", "class", "target", "digit", "y"]

    /// Largest distance from the 1/255 grid (in grey levels) still stored as a byte.
    static let gridTolerance = 1e-3

    /// Reads the CSV file at `path` (raw or gzip'd). `hasHeader` nil means: a first row with any
    /// cell that is not a number is a header.
    static func read(_ path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                     scale: CSVScale) throws(DataError) -> CSVTable {
        try decode(LocalFile.contents(of: path), name: path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
    }

    /// Decodes CSV text held in memory (raw or gzip'd), as `read` does; `name` stands for the path
    /// in messages. The entry point the fuzzer drives.
    static func decode(_ bytes: [UInt8], name path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                       scale: CSVScale) throws(DataError) -> CSVTable {
        var text = bytes
        if Zlib.isGzip(text) {
            do throws(Zlib.Failure) { text = try Zlib.gunzip(text) } catch {
                switch error {
                case .truncated: throw .corruptGzip(path: path, reason: "the compressed stream ends early (truncated file)")
                case .corrupt(let reason): throw .corruptGzip(path: path, reason: reason)
                }
            }
        }
        return try text.withUnsafeBufferPointer { buffer in
            Result { () throws(DataError) in
                try parse(CSVText(buffer), path: path, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
            }
        }.get()
    }

    private static func parse(_ text: CSVText, path: String, hasHeader: Bool?, labelColumn: CSVLabelColumn,
                              scale: CSVScale) throws(DataError) -> CSVTable {
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
        try text.forEachRow(from: dataStart) { line, cells throws(DataError) in
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
        return CSVTable(storage: asBytes ? .bytes(bytes) : .fractions(fractions), labels: labels, rows: rows,
                        dimension: dimension, hasHeader: header, labelColumn: labelIndex.map { $0 + 1 },
                        scale: resolvedScale)
    }

    private static func isPerfectSquare(_ n: Int) -> Bool {
        guard n > 0 else { return false }
        let root = Int(Double(n).squareRoot().rounded())
        return root * root == n
    }
}

// MARK: - Scanning

/// A line of the text: bytes start..<contentEnd, without its line break; `end` is past the break.
struct CSVLine {
    var number: Int
    var start: Int
    var contentEnd: Int
    var end: Int
}

/// Read-only scanning of CSV text held in memory.
struct CSVText {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Past a UTF-8 byte-order mark, if any.
    let origin: Int
    /// 10^0 … 10^22, held here so the per-cell parse does not go through a global's lazy initialiser.
    private let powers = powerOfTen

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        origin = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// The line that begins at `start`, numbered `number`.
    func line(at start: Int, number: Int) -> CSVLine {
        var index = start
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
        var contentEnd = index
        if contentEnd > start && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        return CSVLine(number: number, start: start, contentEnd: contentEnd, end: min(index + 1, bytes.count))
    }

    func isBlank(_ line: CSVLine) -> Bool {
        (line.start..<line.contentEnd).allSatisfy { bytes[$0] == 0x20 || bytes[$0] == 0x09 }
    }

    func firstNonBlankLine() -> CSVLine? {
        var start = origin
        var number = 1
        while start < bytes.count {
            let line = line(at: start, number: number)
            if !isBlank(line) { return line }
            start = line.end
            number += 1
        }
        return nil
    }

    /// The cells of `line`, as byte ranges (commas split; a comma inside double quotes does not).
    func cells(of line: CSVLine) -> [Range<Int>] {
        var cells: [Range<Int>] = []
        appendCells(of: line, to: &cells)
        return cells
    }

    func appendCells(of line: CSVLine, to cells: inout [Range<Int>]) {
        var cellStart = line.start
        var quoted = false
        for index in line.start..<line.contentEnd {
            let byte = bytes[index]
            if byte == 0x22 {
                quoted.toggle()
            } else if byte == 0x2C && !quoted {
                cells.append(cellStart..<index)
                cellStart = index + 1
            }
        }
        cells.append(cellStart..<line.contentEnd)
    }

    /// Calls `body` with the line number and cells of every non-blank line from byte `start` on.
    func forEachRow(from start: Int, _ body: (Int, [Range<Int>]) throws(DataError) -> Void) throws(DataError) {
        var position = start
        // Line numbers count every line break before `start`.
        var number = 1 + (origin..<start).reduce(0) { $0 + (bytes[$1] == 0x0A ? 1 : 0) }
        var cells: [Range<Int>] = []
        while position < bytes.count {
            let line = line(at: position, number: number)
            if !isBlank(line) {
                cells.removeAll(keepingCapacity: true)
                appendCells(of: line, to: &cells)
                try body(number, cells)
            }
            position = line.end
            number += 1
        }
    }

    /// `forEachRow` for a body that cannot fail (the second pass).
    func forEachRowChecked(from start: Int, _ body: ([Range<Int>]) -> Void) {
        var position = start
        var cells: [Range<Int>] = []
        while position < bytes.count {
            let line = line(at: position, number: 0)
            if !isBlank(line) {
                cells.removeAll(keepingCapacity: true)
                appendCells(of: line, to: &cells)
                body(cells)
            }
            position = line.end
        }
    }

    /// The cell's bytes without surrounding spaces, tabs and one pair of double quotes.
    func trimmed(_ cell: Range<Int>) -> Range<Int> {
        var lower = cell.lowerBound, upper = cell.upperBound
        while lower < upper && (bytes[lower] == 0x20 || bytes[lower] == 0x09) { lower += 1 }
        while upper > lower && (bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09) { upper -= 1 }
        if upper - lower >= 2 && bytes[lower] == 0x22 && bytes[upper - 1] == 0x22 {
            lower += 1
            upper -= 1
        }
        return lower..<upper
    }

    /// The cell as text, as written (for messages).
    func string(in cell: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[trimmed(cell)]), as: UTF8.self)
    }

    /// The cell as a lower-cased name (for header matching).
    func name(in cell: Range<Int>) -> String { string(in: cell).lowercased() }

    /// The cell as a finite decimal number ([+-]digits[.digits][e[+-]digits]), or nil.
    ///
    /// Up to 19 significant digits with a power of ten within ±22 are exact (the mantissa and the
    /// power are both exact doubles, and one division or multiplication rounds once); longer or
    /// larger numbers go through the standard library's correctly rounded parser.
    func number(in cell: Range<Int>) -> Double? {
        let range = trimmed(cell)
        var index = range.lowerBound
        let end = range.upperBound
        guard index < end else { return nil }
        var negative = false
        if bytes[index] == 0x2B || bytes[index] == 0x2D {
            negative = bytes[index] == 0x2D
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var significant = 0
        var exponent = 0
        var exact = true
        while index < end, bytes[index] &- 0x30 < 10 {
            accumulate(bytes[index] &- 0x30, &mantissa, &significant, &exact)
            if !exact { exponent += 1 }
            digits += 1
            index += 1
        }
        if index < end && bytes[index] == 0x2E {
            index += 1
            while index < end, bytes[index] &- 0x30 < 10 {
                if exact {
                    accumulate(bytes[index] &- 0x30, &mantissa, &significant, &exact)
                    if exact { exponent -= 1 }
                }
                digits += 1
                index += 1
            }
        }
        guard digits > 0 else { return nil }
        if index < end && (bytes[index] == 0x65 || bytes[index] == 0x45) {
            index += 1
            var exponentNegative = false
            if index < end && (bytes[index] == 0x2B || bytes[index] == 0x2D) {
                exponentNegative = bytes[index] == 0x2D
                index += 1
            }
            var written = 0
            var exponentDigits = 0
            while index < end, bytes[index] &- 0x30 < 10 {
                written = min(written * 10 + Int(bytes[index] &- 0x30), 100_000)
                exponentDigits += 1
                index += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard index == end else { return nil }
        if exact && abs(exponent) <= 22 {
            let value = exponent >= 0 ? Double(mantissa) * powers[exponent] : Double(mantissa) / powers[-exponent]
            return negative ? -value : value
        }
        // Rare: too many digits for the exact path. Let the standard library round it.
        guard let value = Double(string(in: cell)), value.isFinite else { return nil }
        return value
    }

    private func accumulate(_ digit: UInt8, _ mantissa: inout UInt64, _ significant: inout Int, _ exact: inout Bool) {
        guard exact else { return }
        if significant == 0 && digit == 0 { return }  // leading zeros add nothing
        if significant >= 15 {
            // More than 15 significant digits may not be an exact double: use the slow path.
            exact = false
            return
        }
        mantissa = mantissa * 10 + UInt64(digit)
        significant += 1
    }
}

/// 10^0 … 10^22, every one an exact double.
private let powerOfTen: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}
