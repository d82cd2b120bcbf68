// Scanning CSV text held in memory: lines, cells and numbers, without allocating per cell.

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
    func forEachRow(from start: Int, _ body: (Int, [Range<Int>]) throws(DataFileError) -> Void) throws(DataFileError) {
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
