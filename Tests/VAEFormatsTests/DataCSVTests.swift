import Foundation
import Testing
@testable import VAEFormats
@testable import VAEKit
import VAEScript

@Suite struct DataCSVTests {
    /// A 2×2-pixel CSV with a header and labels first, Kaggle style.
    static let kaggle = """
        label,pixel0,pixel1,pixel2,pixel3
        7,0,255,128,3
        2,10,20,30,40
        """

    @Test func headerLabelsAndGreyLevels() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("train.csv", text: Self.kaggle)
            let dataset = try Dataset.csv(path: path)
            #expect(dataset.name == "csv")
            #expect(dataset.origin == "CSV file \(path) (header, labels in column 1, values 0…255)")
            #expect(dataset.train.count == 2 && dataset.test == nil)
            #expect((dataset.imageWidth, dataset.imageHeight) == (2, 2))
            #expect(dataset.train.labels == [7, 2])
            #expect(dataset.train.image(0) == [0, 1, Float(128) / 255, Float(3) / 255])
            guard case .bytes = dataset.train.storage else {
                Issue.record("grey levels should be stored as bytes")
                return
            }
        }
    }

    @Test func noHeaderNoLabelsUnitScaleOffTheGridKeptExactly() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("fractions.csv", text: "0.1,0.2,0.3\n1,0,0.25\n")
            let dataset = try Dataset.csv(path: path)
            #expect(dataset.origin == "CSV file \(path) (no labels, values 0…1)")
            #expect(dataset.train.labels == nil)
            #expect((dataset.imageWidth, dataset.imageHeight) == (3, 1))
            #expect(dataset.train.image(0) == [0.1, 0.2, 0.3])
            #expect(dataset.train.image(1) == [1, 0, 0.25])
            guard case .fractions = dataset.train.storage else {
                Issue.record("values off the 1/255 grid should be stored as Float")
                return
            }
        }
    }

    @Test func unitScaleOnTheGridIsStoredAsBytes() throws {
        try withTemporaryFolder { folder in
            // x/255 printed with 6 digits, as an export of PyTorch's ToTensor() would be.
            let values = [0, 1, 128, 255]
            let row = values.map { String(format: "%.6f", Double($0) / 255) }.joined(separator: ",")
            let path = try folder.write("unit.csv", text: row + "\n" + row + "\n")
            let dataset = try Dataset.csv(path: path, labelColumn: .none, scale: .unit)
            guard case .bytes(let bytes) = dataset.train.storage else {
                Issue.record("values on the 1/255 grid should be stored as bytes")
                return
            }
            #expect(Array(bytes.prefix(4)) == [0, 1, 128, 255])
        }
    }

    @Test func automaticLabelColumn() throws {
        try withTemporaryFolder { folder in
            // 5 cells = 2² + 1: the first is the label (the pjreddie/Kaggle layout without header).
            let five = try folder.write("five.csv", text: "3,0,0,0,0\n4,1,1,1,1\n")
            #expect(try Dataset.csv(path: five).train.labels == [3, 4])
            // 4 cells is itself a square: no label.
            let four = try folder.write("four.csv", text: "3,0,0,0\n")
            #expect(try Dataset.csv(path: four).train.labels == nil)
            // A header names it, anywhere.
            let named = try folder.write("named.csv", text: "p0,p1,Class,p2\n0,0,9,0\n")
            let dataset = try Dataset.csv(path: named)
            #expect(dataset.train.labels == [9])
            #expect(dataset.train.dimension == 3)
        }
    }

    @Test func explicitLabelColumnsAndHeader() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("explicit.csv", text: "10,20,3\n30,40,4\n")
            let last = try Dataset.csv(path: path, labelColumn: .last)
            #expect(last.train.labels == [3, 4] && last.train.dimension == 2)
            let second = try Dataset.csv(path: path, labelColumn: .column(2))
            #expect(second.train.labels == [20, 40])
            #expect(second.train.image(0) == [Float(10) / 255, Float(3) / 255])
            let first = try Dataset.csv(path: path, labelColumn: .first)
            #expect(first.train.labels == [10, 30])
            // Told there is a header, the first row is skipped even though it is numeric.
            let skipped = try Dataset.csv(path: path, hasHeader: true, labelColumn: .none)
            #expect(skipped.train.count == 1)
            #expect(skipped.origin == "CSV file \(path) (header, no labels, values 0…255)")
        }
    }

    @Test func scaleOption() throws {
        try withTemporaryFolder { folder in
            // All values ≤ 1: automatic reads 0…1, but the caller can say 255.
            let path = try folder.write("binary.csv", text: "0,1,1,0\n")
            #expect(try Dataset.csv(path: path).train.image(0) == [0, 1, 1, 0])
            #expect(try Dataset.csv(path: path, scale: .byte).train.image(0) == [0, Float(1) / 255, Float(1) / 255, 0])
            #expect(CSVScale(maximum: 255) == .byte && CSVScale(maximum: 1) == .unit && CSVScale(maximum: 100) == nil)
        }
    }

    @Test func tolerantSyntax() throws {
        try withTemporaryFolder { folder in
            // BOM, CRLF, blank lines, spaces, quotes, signs and exponents.
            let text = "\u{FEFF}\"label\", a ,b\r\n\r\n1, 2.55e2 ,\"0\"\r\n  \r\n2,+1e0,-0\r\n"
            let path = try folder.write("tolerant.csv", text: text)
            let dataset = try Dataset.csv(path: path)
            #expect(dataset.train.labels == [1, 2])
            #expect(dataset.train.image(0) == [1, 0])
            #expect(dataset.train.image(1) == [Float(1) / 255, 0])
        }
    }

    @Test func gzippedCSV() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("train.csv.gz", Zlib.compress(Array(Self.kaggle.utf8)))
            #expect(try Dataset.csv(path: path).train.labels == [7, 2])
            let cut = try folder.write("cut.csv.gz", Array(Zlib.compress(Array(Self.kaggle.utf8)).dropLast(5)))
            #expect(dataError { _ = try Dataset.csv(path: cut) }?.message
                    == "\(cut): corrupt gzip stream: the compressed stream ends early (truncated file)")
        }
    }

    @Test func testFileUsesTheTrainingLayout() throws {
        try withTemporaryFolder { folder in
            let train = try folder.write("train.csv", text: Self.kaggle)
            let test = try folder.write("test.csv", text: "label,pixel0,pixel1,pixel2,pixel3\n1,1,1,1,1\n")
            let dataset = try Dataset.csv(path: train, testPath: test)
            #expect(dataset.test?.count == 1 && dataset.test?.labels == [1])
            #expect(dataset.origin == "CSV file \(train) with test file \(test) (header, labels in column 1, values 0…255)")
            let wide = try folder.write("wide.csv", text: "label,a,b,c,d,e,f,g,h,i\n1,1,1,1,1,1,1,1,1,1\n")
            #expect(dataError { _ = try Dataset.csv(path: train, testPath: wide) }?.message
                    == "\(wide): images are 3×3 but those in \(train) are 2×2")
        }
    }

    @Test func limitAndValidationApplyToCSV() throws {
        try withTemporaryFolder { folder in
            let rows = (0..<10).map { "\($0),\($0),\($0)" }.joined(separator: "\n")
            let path = try folder.write("ten.csv", text: rows)
            let dataset = try Dataset.csv(path: path, labelColumn: .first,
                                          options: DataOptions(limit: 4, validationCount: 3))
            #expect(dataset.train.labels == [0, 1, 2, 3])
            #expect(dataset.validation?.labels == [7, 8, 9])
        }
    }

    // MARK: Bad input: (file contents, options, expected message after "<path>: ")

    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var labelColumn: CSVLabelColumn = .automatic
        var scale: CSVScale = .automatic
        var hasHeader: Bool? = nil
        var message: String
        var testDescription: String { message }
    }

    static let badInput: [Case] = [
        Case(text: "1,2,3\n4,x5,6\n", message: "line 2, column 2: 'x5' is not a number"),
        Case(text: "1,2,3\n\n\n4,5,\n", message: "line 4, column 3: empty cell is not a number"),
        Case(text: "a,b\n1,2\nnan,2\n", message: "line 3, column 1: 'nan' is not a number"),
        Case(text: "1,2,3\n4,1e,6\n", message: "line 2, column 2: '1e' is not a number"),
        Case(text: "1,2,3\n4,5\n", message: "line 2: 2 cells, expected 3 as on line 1"),
        Case(text: "h1,h2,h3\n1,2,3,4\n", message: "line 2: 4 cells, expected 3 as on line 1"),
        Case(text: "1,2,300\n", message: "line 1, column 3: value 300 is outside 0…255"),
        Case(text: "1,-2,3\n", labelColumn: .none, message: "line 1, column 2: value -2 is outside 0…255"),
        Case(text: "0.5,2\n", labelColumn: .none, scale: .unit, message: "line 1, column 2: value 2 is outside 0…1"),
        Case(text: "3.5,1,2,3,4\n", message: "line 1, column 1: label '3.5' is not an integer in 0…255"),
        Case(text: "256,1,2,3,4\n", message: "line 1, column 1: label '256' is not an integer in 0…255"),
        Case(text: "1,2\n", labelColumn: .column(3), message: "label column 3 is not among columns 1…2"),
        Case(text: "1,2\n", labelColumn: .column(0), message: "label column 0 is not among columns 1…2"),
        Case(text: "7\n", labelColumn: .first, message: "line 1: a label but no pixel values"),
        Case(text: "label,a,b\n", message: "no examples"),
        Case(text: "", message: "no examples"),
        Case(text: "\n \n\n", message: "no examples"),
    ]

    @Test(arguments: badInput)
    func badInputIsReportedWithLineAndColumn(_ input: Case) throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("bad.csv", text: input.text)
            let error = dataError {
                _ = try Dataset.csv(path: path, hasHeader: input.hasHeader, labelColumn: input.labelColumn, scale: input.scale)
            }
            #expect(error?.message == "\(path): \(input.message)")
        }
    }

    @Test func missingFile() {
        #expect(dataError { _ = try Dataset.csv(path: "/no/such/file.csv") }?.message == "/no/such/file.csv: no such file")
    }

    @Test func longCellsAreClippedInMessages() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("long.csv", text: "1,2\n1,abcdefghijklmnopqrstuvwxyz\n")
            #expect(dataError { _ = try Dataset.csv(path: path) }?.message
                    == "\(path): line 2, column 2: 'abcdefghijklmnopqrst…' is not a number")
        }
    }

    @Test(arguments: [("0", 0.0), ("255", 255), ("0.5", 0.5), ("1e2", 100), ("-0.25", -0.25), (".5", 0.5),
                      ("5.", 5), ("0.003922", 0.003922), ("1.0000000000000000001", 1), ("12345678901234567890", 1.2345678901234567890e19),
                      (" 7 ", 7), ("\"8\"", 8), ("1E-3", 0.001), ("0.1", 0.1), ("0.7", 0.7)])
    func numbersParseExactly(text: String, value: Double) {
        let bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeBufferPointer { CSVText($0).number(in: 0..<bytes.count) }
        #expect(parsed == value)
    }

    @Test(arguments: ["", "-", "+", ".", "e5", "1e", "1e+", "0x10", "1,5", "inf", "nan", "1 2", "--1"])
    func nonNumbersAreRefused(text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { CSVText($0).number(in: 0..<bytes.count) } == nil)
    }
}
