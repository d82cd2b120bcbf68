import Glibc
import Testing
import VAEFormats
import VAEKit

/// The wording of every DataFileError, as a table: each is one line naming the file and what is wrong.
@Suite struct DataErrorTests {
    static let table: [(DataFileError, String)] = [
        (.file(FileError(path: "a.idx", operation: .open, failure: .system(ENOENT))), "a.idx: no such file"),
        (.file(FileError(path: "dir", operation: .open, failure: .system(ENOENT), expected: "a folder")), "dir: no such folder"),
        (.file(FileError(path: "dir", operation: .open, failure: .isFolder)), "dir: is a folder, not a file"),
        (.file(FileError(path: "a.idx", operation: .open, failure: .notFolder, expected: "a folder")), "a.idx: is a file, not a folder"),
        (.file(FileError(path: "fifo", operation: .open, failure: .notRegularFile)), "fifo: not a regular file (a pipe, socket or device)"),
        (.file(FileError(path: "a.idx", operation: .read, failure: .system(EACCES))), "a.idx: cannot read: permission denied"),
        (.missingStandardFile(folder: "dir", file: "train-labels", inDataFolder: false),
         "dir: no train-labels file (looked for train-labels-idx1-ubyte.gz, train-labels-idx1-ubyte, "
         + "train-labels.idx1-ubyte.gz, train-labels.idx1-ubyte)"),
        (.embeddedSubsetDamaged, "the MNIST subset built into vaesh does not decode: this vaesh binary is damaged"),
        (.badMagic(path: "a.idx", found: [0x1F, 0x8C, 0, 0xFF]),
         "a.idx: not an IDX file: magic number 1F 8C 00 FF, expected 00 00 08 followed by the rank"),
        (.unsupportedElementType(path: "a.idx", code: 0x0D),
         "a.idx: unsupported IDX element type float (Float32) (0x0D); only unsigned byte (0x08) is read"),
        (.unsupportedRank(path: "a.idx", rank: 9, expected: "1 to 8"), "a.idx: IDX rank 9, expected 1 to 8"),
        (.zeroDimension(path: "a.idx", dimensions: [5, 0, 28]), "a.idx: IDX dimensions 5×0×28 include a zero size"),
        (.sizeOverflow(path: "a.idx", dimensions: [1 << 40, 1 << 40]),
         "a.idx: IDX dimensions 1099511627776×1099511627776 are too large to address"),
        (.truncated(path: "train-images.gz", expected: 47_040_016, found: 1024),
         "train-images.gz: truncated: expected 47040016 bytes, found 1024"),
        (.trailingData(path: "a.idx", expected: 16, found: 20), "a.idx: longer than its header declares: expected 16 bytes, found 20"),
        (.trailingData(path: "a.gz", expected: 16, found: nil), "a.gz: longer than its header declares: expected 16 bytes, found more"),
        (.implausibleSize(path: "a.gz", declared: 1_000_000, compressedSize: 30),
         "a.gz: header declares 1000000 bytes, more than 30 gzip'd bytes can hold"),
        (.corruptGzip(path: "a.gz", reason: "invalid distance too far back"), "a.gz: corrupt gzip stream: invalid distance too far back"),
        (.countMismatch(images: "i", imageCount: 60_000, labels: "l", labelCount: 59_999), "l: 59999 labels for the 60000 images in i"),
        (.imageSizeMismatch(train: "tr", trainShape: "28×28", test: "te", testShape: "32×32"),
         "te: images are 32×32 but those in tr are 28×28"),
        (.emptyDataset(path: "e.csv"), "e.csv: no examples"),
        (.csvNotANumber(path: "c.csv", line: 3, column: 4, cell: "abc"), "c.csv: line 3, column 4: 'abc' is not a number"),
        (.csvNotANumber(path: "c.csv", line: 3, column: 4, cell: ""), "c.csv: line 3, column 4: empty cell is not a number"),
        (.csvNotANumber(path: "c.csv", line: 1, column: 1, cell: "a\nb"), "c.csv: line 1, column 1: 'a b' is not a number"),
        (.csvColumnCount(path: "c.csv", line: 9, found: 3, expected: 785, firstLine: 1), "c.csv: line 9: 3 cells, expected 785 as on line 1"),
        (.csvValueOutOfRange(path: "c.csv", line: 2, column: 5, cell: "256", range: "0…255"),
         "c.csv: line 2, column 5: value 256 is outside 0…255"),
        (.csvBadLabel(path: "c.csv", line: 2, column: 1, cell: "x1"), "c.csv: line 2, column 1: label 'x1' is not an integer in 0…255"),
        (.csvLabelColumnOutOfRange(path: "c.csv", column: 9, columns: 4), "c.csv: label column 9 is not among columns 1…4"),
        (.csvNoPixels(path: "c.csv", line: 1), "c.csv: line 1: a label but no pixel values"),
    ]

    @Test func everyMessage() {
        for (error, expected) in Self.table {
            #expect(error.message == expected)
            #expect(error.description == expected)
            #expect(!error.message.contains("\n"))
            #expect(!error.message.hasSuffix("."))
        }
    }

    @Test func hints() {
        #expect(DataFileError.truncated(path: "a", expected: 2, found: 1).hint
                == "the file is damaged or incomplete: fetch it again (scripts/fetch-mnist for MNIST)")
        #expect(DataFileError.badMagic(path: "a", found: [1, 2, 3, 4]).hint
                == "IDX files (MNIST, Fashion-MNIST, KMNIST) start 00 00 08 then the rank, raw or gzip'd")
        #expect(DataFileError.csvValueOutOfRange(path: "a", line: 1, column: 1, cell: "2", range: "0…1").hint
                == "choose the scale the file uses: 255 for grey levels 0…255, 1 for values in 0…1")
        #expect(DataFileError.file(FileError(path: "a", operation: .open, failure: .system(ENOENT))).hint == nil)
        for (error, _) in Self.table {
            if let hint = error.hint { #expect(!hint.contains("\n")) }
        }
    }

    @Test func theEnginesOwnErrorsAboutOptions() {
        let error: any EngineError = DataError.emptySplit(source: "x")
        #expect(error.message == "x: no examples")
        #expect(DataError.invalidOption("limit must be at least 1, not 0").message == "limit must be at least 1, not 0")
        let described: any DescribedError = DataFileError.emptyDataset(path: "e.csv")
        #expect(described.message == "e.csv: no examples")
    }
}
