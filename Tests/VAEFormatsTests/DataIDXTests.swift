import Foundation
import Testing
@testable import VAEFormats
import VAEKit
import VAEScript

// MARK: - Fixtures shared by the Data*Tests files
//
// Every fixture is made by the tests, in a fresh temporary folder, from the same IDX writer and
// zlib the loader uses, so nothing binary is committed and nothing touches the network.

/// A fresh temporary folder, removed when `body` returns.
func withTemporaryFolder<R>(_ body: (TemporaryFolder) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.path + "/vaesh-data-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(TemporaryFolder(path: path))
}

struct TemporaryFolder {
    let path: String

    /// Writes `bytes` to `name` in this folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func subfolder(_ name: String) throws -> TemporaryFolder {
        let sub = path + "/" + name
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return TemporaryFolder(path: sub)
    }
}

enum DataFixture {
    /// `count` images of `rows`×`columns` with a known pattern: pixel (n, r, c) = (n·31 + r·7 + c·13) mod 256.
    static func images(count: Int, rows: Int = 4, columns: Int = 3) -> IDXArray {
        var elements: [UInt8] = []
        for n in 0..<count { for r in 0..<rows { for c in 0..<columns { elements.append(pixel(n, r, c)) } } }
        return IDXArray(dimensions: [count, rows, columns], elements: elements)
    }

    static func pixel(_ n: Int, _ r: Int, _ c: Int) -> UInt8 { UInt8((n * 31 + r * 7 + c * 13) % 256) }

    /// Labels n mod 10.
    static func labels(count: Int) -> IDXArray {
        IDXArray(dimensions: [count], elements: (0..<count).map { UInt8($0 % 10) })
    }

    static func bytes(_ array: IDXArray, gzip: Bool = false) -> [UInt8] {
        let raw = IDX.encode(array)
        return gzip ? Zlib.compress(raw) : raw
    }

    /// Writes an MNIST-style folder of four files with `trainCount`/`testCount` examples, spelled
    /// with "-" or "." before idx, gzip'd or not.
    static func mnistFolder(_ folder: TemporaryFolder, trainCount: Int = 12, testCount: Int = 5,
                            dot: Bool = false, gzip: Bool = true) throws {
        let separator = dot ? "." : "-"
        let suffix = gzip ? ".gz" : ""
        try folder.write("train-images\(separator)idx3-ubyte\(suffix)", bytes(images(count: trainCount), gzip: gzip))
        try folder.write("train-labels\(separator)idx1-ubyte\(suffix)", bytes(labels(count: trainCount), gzip: gzip))
        try folder.write("t10k-images\(separator)idx3-ubyte\(suffix)", bytes(images(count: testCount), gzip: gzip))
        try folder.write("t10k-labels\(separator)idx1-ubyte\(suffix)", bytes(labels(count: testCount), gzip: gzip))
    }
}

/// The `DataFileError` `body` throws, or nil when it succeeds (any other error is recorded as an issue).
func dataError(_ body: () throws -> Void) -> DataFileError? {
    caught(DataFileError.self, body)
}

/// The engine's `DataError` (about the options) `body` throws, or nil when it succeeds.
func optionError(_ body: () throws -> Void) -> DataError? {
    caught(DataError.self, body)
}

/// The error of type `E` that `body` throws, or nil when it succeeds; another error is an issue.
func caught<E: Error>(_ type: E.Type, _ body: () throws -> Void) -> E? {
    do {
        try body()
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record("not a \(E.self): \(error)")
        return nil
    }
}

// MARK: - IDX

@Suite struct DataIDXTests {
    @Test func readsRawUnsignedByteImages() throws {
        try withTemporaryFolder { folder in
            let images = DataFixture.images(count: 6)
            let path = try folder.write("images.idx", DataFixture.bytes(images))
            let read = try IDX.read(path)
            #expect(read == images)
            #expect(read.dimensions == [6, 4, 3])
        }
    }

    @Test func readsGzipByItsMagicNumberWhateverTheName() throws {
        try withTemporaryFolder { folder in
            let images = DataFixture.images(count: 6)
            let named = try folder.write("images.idx.gz", DataFixture.bytes(images, gzip: true))
            let unnamed = try folder.write("images-no-suffix", DataFixture.bytes(images, gzip: true))
            #expect(try IDX.read(named) == images)
            #expect(try IDX.read(unnamed) == images)
        }
    }

    @Test func readsConcatenatedGzipMembersAsOneFile() throws {
        try withTemporaryFolder { folder in
            let raw = IDX.encode(DataFixture.images(count: 6))
            let split = raw.count / 2
            let path = try folder.write("two-members.gz",
                                        Zlib.compress(Array(raw[..<split])) + Zlib.compress(Array(raw[split...])))
            #expect(try IDX.read(path) == DataFixture.images(count: 6))
        }
    }

    @Test func loadsImagesAndLabelsWithValuesOverTwoHundredFiftyFive() throws {
        try withTemporaryFolder { folder in
            let images = try folder.write("i", DataFixture.bytes(DataFixture.images(count: 7)))
            let labels = try folder.write("l", DataFixture.bytes(DataFixture.labels(count: 7), gzip: true))
            let dataset = try Dataset.idx(images: images, labels: labels)
            #expect(dataset.name == "idx")
            #expect(dataset.origin == "IDX file \(images)")
            #expect(dataset.train.count == 7 && dataset.test == nil && dataset.validation == nil)
            #expect((dataset.imageWidth, dataset.imageHeight) == (3, 4))
            #expect(dataset.train.dimension == 12)
            #expect(dataset.train.labels == [0, 1, 2, 3, 4, 5, 6])
            // Example 5, row 2, column 1 is stored as a byte and read back as x/255.
            let image = dataset.train.image(5)
            #expect(image[2 * 3 + 1] == Float(DataFixture.pixel(5, 2, 1)) / 255)
        }
    }

    @Test func rankTwoImagesAreSquareWhenTheyCanBe() throws {
        try withTemporaryFolder { folder in
            let square = try folder.write("square", IDX.encode(IDXArray(dimensions: [2, 9], elements: Array(repeating: 1, count: 18))))
            let line = try folder.write("line", IDX.encode(IDXArray(dimensions: [2, 6], elements: Array(repeating: 1, count: 12))))
            let a = try Dataset.idx(images: square)
            let b = try Dataset.idx(images: line)
            #expect((a.imageWidth, a.imageHeight) == (3, 3))
            #expect((b.imageWidth, b.imageHeight) == (6, 1))
        }
    }

    @Test func testSplitFromSeparateFiles() throws {
        try withTemporaryFolder { folder in
            let images = try folder.write("train", DataFixture.bytes(DataFixture.images(count: 8)))
            let testImages = try folder.write("test", DataFixture.bytes(DataFixture.images(count: 3)))
            let testLabels = try folder.write("test-labels", DataFixture.bytes(DataFixture.labels(count: 3)))
            let dataset = try Dataset.idx(images: images, testImages: testImages, testLabels: testLabels)
            #expect(dataset.train.labels == nil)
            #expect(dataset.test?.count == 3)
            #expect(dataset.test?.labels == [0, 1, 2])
            #expect(dataset.origin == "IDX file \(images) with test file \(testImages)")
        }
    }

    // MARK: Bad input

    @Test func missingFileAndFolderInsteadOfFile() throws {
        try withTemporaryFolder { folder in
            let missing = folder.path + "/nope.idx"
            #expect(dataError { _ = try Dataset.idx(images: missing) }?.message == "\(missing): no such file")
            #expect(dataError { _ = try Dataset.idx(images: folder.path) }?.message == "\(folder.path): is a folder, not a file")
        }
    }

    @Test func wrongMagicNumber() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("data.csv", text: "label,pixel0\n1,2\n")
            let error = dataError { _ = try IDX.read(path) }
            #expect(error == .badMagic(path: path, found: Array("labe".utf8)))
            #expect(error?.message == "\(path): not an IDX file: magic number 6C 61 62 65, expected 00 00 08 followed by the rank")
            // An unknown element-type code is not an IDX magic number either.
            let unknown = try folder.write("unknown", [0, 0, 0x07, 1, 0, 0, 0, 0])
            #expect(dataError { _ = try IDX.read(unknown) }?.message
                    == "\(unknown): not an IDX file: magic number 00 00 07 01, expected 00 00 08 followed by the rank")
        }
    }

    @Test(arguments: [(UInt8(0x09), "signed byte"), (0x0B, "short (Int16)"), (0x0C, "int (Int32)"),
                      (0x0D, "float (Float32)"), (0x0E, "double (Float64)")])
    func otherElementTypesAreRefusedByName(code: UInt8, name: String) throws {
        try withTemporaryFolder { folder in
            let bytes = IDX.encode(IDXArray(dimensions: [1, 2, 2], elements: Array(repeating: 0, count: 4 * 4)),
                                   elementType: code)
            let path = try folder.write("typed.idx", bytes)
            let hex = String(code, radix: 16, uppercase: true)
            #expect(dataError { _ = try IDX.read(path) }?.message
                    == "\(path): unsupported IDX element type \(name) (0x0\(hex)); only unsigned byte (0x08) is read")
        }
    }

    @Test func badRanks() throws {
        try withTemporaryFolder { folder in
            let rankZero = try folder.write("rank0", [0, 0, 8, 0])
            #expect(dataError { _ = try IDX.read(rankZero) }?.message == "\(rankZero): IDX rank 0, expected 1 to 8")
            // A labels file given as images.
            let labels = try folder.write("labels", DataFixture.bytes(DataFixture.labels(count: 3)))
            #expect(dataError { _ = try Dataset.idx(images: labels) }?.message
                    == "\(labels): IDX rank 1, expected 3 (count, rows, columns) or 2 (count, values) for images (a labels file?)")
            // Images given as labels.
            let images = try folder.write("images", DataFixture.bytes(DataFixture.images(count: 3)))
            #expect(dataError { _ = try Dataset.idx(images: images, labels: images) }?.message
                    == "\(images): IDX rank 3, expected 1 (count) for labels")
        }
    }

    @Test func truncatedRawFiles() throws {
        try withTemporaryFolder { folder in
            let full = DataFixture.bytes(DataFixture.images(count: 10))    // 16 + 120 bytes
            let cut = try folder.write("cut", Array(full.dropLast(12)))
            #expect(dataError { _ = try IDX.read(cut) }?.message == "\(cut): truncated: expected 136 bytes, found 124")
            let shortHeader = try folder.write("short-header", Array(full.prefix(9)))
            #expect(dataError { _ = try IDX.read(shortHeader) }?.message == "\(shortHeader): truncated: expected 16 bytes, found 9")
            let tiny = try folder.write("tiny", [0, 0])
            #expect(dataError { _ = try IDX.read(tiny) }?.message == "\(tiny): truncated: expected 4 bytes, found 2")
            let empty = try folder.write("empty", [])
            #expect(dataError { _ = try IDX.read(empty) }?.message == "\(empty): truncated: expected 4 bytes, found 0")
        }
    }

    @Test func longerThanDeclared() throws {
        try withTemporaryFolder { folder in
            let path = try folder.write("long", DataFixture.bytes(DataFixture.images(count: 2)) + [1, 2, 3])
            #expect(dataError { _ = try IDX.read(path) }?.message
                    == "\(path): longer than its header declares: expected 40 bytes, found 43")
            let gz = try folder.write("long.gz", Zlib.compress(DataFixture.bytes(DataFixture.images(count: 2)) + [1, 2, 3]))
            #expect(dataError { _ = try IDX.read(gz) }?.message
                    == "\(gz): longer than its header declares: expected 40 bytes, found more")
        }
    }

    /// Headers that claim huge sizes are refused from the header alone: nothing that size is allocated.
    @Test func hugeHeadersNeverAllocate() throws {
        try withTemporaryFolder { folder in
            // 4,294,967,295³ overflows 64 bits.
            let overflowing: [UInt8] = [0, 0, 8, 3] + Array(repeating: 0xFF, count: 12)
            let overflow = try folder.write("overflow", overflowing)
            #expect(dataError { _ = try IDX.read(overflow) }?.message
                    == "\(overflow): IDX dimensions 4294967295×4294967295×4294967295 are too large to address")
            let overflowGz = try folder.write("overflow.gz", Zlib.compress(overflowing))
            #expect(dataError { _ = try IDX.read(overflowGz) } == .sizeOverflow(path: overflowGz, dimensions: [4294967295, 4294967295, 4294967295]))
            // 4,000,000,000 × 28 × 28 bytes (3 TB) does not overflow, but the file is 16 bytes long.
            let huge: [UInt8] = [0, 0, 8, 3, 0xEE, 0x6B, 0x28, 0x00, 0, 0, 0, 28, 0, 0, 0, 28]
            let raw = try folder.write("huge", huge)
            #expect(dataError { _ = try IDX.read(raw) }?.message
                    == "\(raw): truncated: expected 3136000000016 bytes, found 16")
            let compressed = Zlib.compress(huge)
            let gz = try folder.write("huge.gz", compressed)
            #expect(dataError { _ = try IDX.read(gz) }?.message
                    == "\(gz): header declares 3136000000016 bytes, more than \(compressed.count) gzip'd bytes can hold")
        }
    }

    @Test func gzipStreamThatHoldsLessThanItsHeaderDeclares() throws {
        try withTemporaryFolder { folder in
            // A valid gzip stream whose IDX content is cut short.
            let path = try folder.write("short.gz", Zlib.compress(Array(DataFixture.bytes(DataFixture.images(count: 10)).dropLast(12))))
            #expect(dataError { _ = try IDX.read(path) }?.message == "\(path): truncated: expected 136 bytes, found 124")
        }
    }

    /// A header that lies within what its gzip'd length could hold is caught as the data runs out.
    @Test func plausibleButFalseGzipHeader() throws {
        try withTemporaryFolder { folder in
            var random = RandomSource(seed: 9)
            let noise = (0..<3000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Declares 1,000 images of 28×28 (784 kB, under 1032 × 3 kB); holds 3,000 bytes.
            let header = IDX.encode(IDXArray(dimensions: [1000, 28, 28], elements: []))
            let path = try folder.write("liar.gz", Zlib.compress(header + noise))
            #expect(dataError { _ = try IDX.read(path) }?.message == "\(path): truncated: expected 784016 bytes, found 3016")
        }
    }

    @Test func truncatedGzipFile() throws {
        try withTemporaryFolder { folder in
            let compressed = DataFixture.bytes(DataFixture.images(count: 50), gzip: true)
            for keep in [3, 12, compressed.count / 2, compressed.count - 4] {
                let path = try folder.write("cut-\(keep).gz", Array(compressed.prefix(keep)))
                #expect(dataError { _ = try IDX.read(path) }?.message
                        == "\(path): corrupt gzip stream: the compressed stream ends early (truncated file)")
            }
        }
    }

    @Test func corruptGzipStreams() throws {
        try withTemporaryFolder { folder in
            var compressed = DataFixture.bytes(DataFixture.images(count: 50), gzip: true)
            // The CRC-32 in the trailer (the 8th to 5th bytes from the end).
            var badCRC = compressed
            badCRC[badCRC.count - 8] ^= 0xFF
            let crcPath = try folder.write("crc.gz", badCRC)
            #expect(dataError { _ = try IDX.read(crcPath) }?.message == "\(crcPath): corrupt gzip stream: incorrect data check")
            // The length in the trailer.
            var badLength = compressed
            badLength[badLength.count - 1] ^= 0xFF
            let lengthPath = try folder.write("length.gz", badLength)
            #expect(dataError { _ = try IDX.read(lengthPath) }?.message == "\(lengthPath): corrupt gzip stream: incorrect length check")
            // Garbage after the stream.
            let garbage = try folder.write("garbage.gz", compressed + Array("junk".utf8))
            #expect(dataError { _ = try IDX.read(garbage) }?.message
                    == "\(garbage): corrupt gzip stream: 4 unexpected bytes after the end of the stream")
            // Damage in the deflate data itself: some error, always a corrupt-gzip one naming the file.
            compressed[12] ^= 0xFF
            let damaged = try folder.write("damaged.gz", compressed)
            let error = dataError { _ = try IDX.read(damaged) }
            guard case .corruptGzip(let path, _)? = error else {
                Issue.record("expected corruptGzip, got \(String(describing: error))")
                return
            }
            #expect(path == damaged)
        }
    }

    @Test func imageAndLabelCountsMustAgree() throws {
        try withTemporaryFolder { folder in
            let images = try folder.write("images", DataFixture.bytes(DataFixture.images(count: 5)))
            let labels = try folder.write("labels", DataFixture.bytes(DataFixture.labels(count: 4)))
            #expect(dataError { _ = try Dataset.idx(images: images, labels: labels) }?.message
                    == "\(labels): 4 labels for the 5 images in \(images)")
        }
    }

    @Test func trainAndTestImagesMustHaveOneSize() throws {
        try withTemporaryFolder { folder in
            let train = try folder.write("train", DataFixture.bytes(DataFixture.images(count: 5, rows: 4, columns: 3)))
            let test = try folder.write("test", DataFixture.bytes(DataFixture.images(count: 5, rows: 3, columns: 4)))
            #expect(dataError { _ = try Dataset.idx(images: train, testImages: test) }?.message
                    == "\(test): images are 3×4 but those in \(train) are 4×3")   // H×W, as everywhere
        }
    }

    @Test func emptyDataSets() throws {
        try withTemporaryFolder { folder in
            let empty = try folder.write("empty", DataFixture.bytes(DataFixture.images(count: 0)))
            let some = try folder.write("some", DataFixture.bytes(DataFixture.images(count: 3)))
            #expect(dataError { _ = try Dataset.idx(images: empty) }?.message == "\(empty): no examples")
            #expect(dataError { _ = try Dataset.idx(images: some, testImages: empty) }?.message == "\(empty): no examples")
            let zeroWide = try folder.write("zero-wide", IDX.encode(IDXArray(dimensions: [3, 28, 0], elements: [])))
            #expect(dataError { _ = try Dataset.idx(images: zeroWide) }?.message
                    == "\(zeroWide): IDX dimensions 3×28×0 include a zero size")
        }
    }

    @Test func testLabelsNeedTestImages() throws {
        try withTemporaryFolder { folder in
            let images = try folder.write("images", DataFixture.bytes(DataFixture.images(count: 3)))
            #expect(optionError { _ = try Dataset.idx(images: images, testLabels: "t10k-labels") }?.message
                    == "t10k-labels: test labels given without test images")
        }
    }
}

// MARK: - zlib

@Suite struct DataZlibTests {
    @Test(arguments: [0, 1, 100, 300_000])
    func gzipRoundTrip(count: Int) throws {
        var random = RandomSource(seed: UInt64(count))
        // Half random, half runs, so deflate has something to do either way.
        let bytes = (0..<count).map { i in i % 1000 < 500 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(i / 1000 % 256) }
        let compressed = Zlib.compress(bytes)
        #expect(Zlib.isGzip(compressed))
        #expect(try Zlib.inflate(compressed) == bytes)
    }

    @Test func gzipHeaderIsFixedSoOutputIsReproducible() {
        let compressed = Zlib.compress(Array("vaesh".utf8))
        // ID1 ID2 CM FLG, MTIME = 0.
        #expect(Array(compressed.prefix(8)) == [0x1F, 0x8B, 8, 0, 0, 0, 0, 0])
        #expect(Zlib.compress(Array("vaesh".utf8)) == compressed)
    }

    @Test func zlibFormatForPNG() throws {
        let bytes = Array(repeating: UInt8(7), count: 1000)
        let compressed = Zlib.compress(bytes, format: .zlib)
        #expect(compressed.first == 0x78)          // CMF: deflate, 32 KiB window
        #expect(!Zlib.isGzip(compressed))
        // The reader detects zlib as well as gzip headers (inflateInit2 with 15 + 32).
        let reader = try GzipReader(compressed)
        var output = [UInt8](repeating: 0, count: 1001)
        let count = try output.withUnsafeMutableBytes { try reader.read(into: $0) }
        #expect(count == 1000 && Array(output.prefix(1000)) == bytes && reader.isAtEnd)
    }

    @Test func crc32CheckValue() {
        // The CRC-32 check value of "123456789" (IEEE 802.3).
        let crc = Array("123456789".utf8).withUnsafeBytes { Zlib.crc32($0) }
        #expect(crc == 0xCBF4_3926)
        let split = Array("123456789".utf8)
        let continued = split[5...].withUnsafeBytes { tail in
            split[..<5].withUnsafeBytes { head in Zlib.crc32(tail, continuing: Zlib.crc32(head)) }
        }
        #expect(continued == 0xCBF4_3926)
    }

    @Test func failures() {
        let compressed = Zlib.compress(Array(repeating: 1, count: 5000))
        #expect(throws: Zlib.Failure.truncated) { try Zlib.inflate(Array(compressed.dropLast(6))) }
        #expect(throws: Zlib.Failure.truncated) { try Zlib.inflate([]) }
        var crc = compressed
        crc[crc.count - 6] ^= 1
        #expect(throws: Zlib.Failure.corrupt("incorrect data check")) { try Zlib.inflate(crc) }
        #expect(throws: Zlib.Failure.corrupt("unknown compression method")) { try Zlib.inflate([0x1F, 0x8B, 0x09, 0, 0, 0, 0, 0, 0, 0]) }
    }
}
