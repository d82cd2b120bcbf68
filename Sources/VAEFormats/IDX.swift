// The IDX format, in which MNIST, Fashion-MNIST and KMNIST ship (LeCun's description):
//
//     offset  bytes      what
//     0       2          zero
//     2       1          element type: 08 unsigned byte, 09 signed byte, 0B Int16, 0C Int32,
//                        0D Float32, 0E Float64
//     3       1          rank R
//     4       4·R        the dimensions, big-endian UInt32 each, slowest-varying first
//     4+4R    ∏dims·w    the elements, row-major (w = the element's width in bytes)
//
// So "train-images" is 00 00 08 03 | 60000 28 28 | 47,040,000 bytes, and "train-labels" is
// 00 00 08 01 | 60000 | 60,000 bytes. Files may be gzip'd; the reader sniffs the gzip magic number
// rather than trusting a ".gz" in the name.
//
// Order of checks, so that a lying header never allocates: magic and element type, rank, each
// dimension, the product of the dimensions (with overflow checks), that product against the file's
// length (raw) or against what its compressed length could possibly hold (gzip); only then the
// data is allocated and read, and the reader insists on exactly the declared length.

/// An IDX element type, as coded in the third byte of the magic number.
public enum IDXElementType: UInt8, CaseIterable, Sendable {
    case unsignedByte = 0x08
    case signedByte = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    /// The name the IDX description uses.
    public var name: String {
        switch self {
        case .unsignedByte: "unsigned byte"
        case .signedByte: "signed byte"
        case .int16: "short (Int16)"
        case .int32: "int (Int32)"
        case .float32: "float (Float32)"
        case .float64: "double (Float64)"
        }
    }

    /// Bytes per element.
    var width: Int {
        switch self {
        case .unsignedByte, .signedByte: 1
        case .int16: 2
        case .int32, .float32: 4
        case .float64: 8
        }
    }
}

/// The contents of an unsigned-byte IDX file: its dimensions and its elements, without the header.
public struct IDXArray: Sendable, Equatable {
    /// Slowest-varying first, e.g. [60000, 28, 28].
    public var dimensions: [Int]
    /// ∏dimensions bytes, row-major.
    public var elements: [UInt8]

    public init(dimensions: [Int], elements: [UInt8]) {
        self.dimensions = dimensions
        self.elements = elements
    }
}

public enum IDX {
    /// The largest rank accepted; real files use 1 (labels) to 4.
    static let maximumRank = 8

    /// Storage reserved up front for a gzip'd file's data (more than MNIST's 47 MB training images).
    static let initialGzipCapacity = 1 << 26

    /// Reads the IDX file at `path`, raw or gzip'd. Only the unsigned-byte type is read; the other
    /// types are refused by name.
    public static func read(_ path: String) throws(DataFileError) -> IDXArray {
        let file = try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try LocalFile(path: path) }
        let sniff = try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try file.read(upTo: 2) }
        if sniff.count == 2 && Zlib.isGzip(sniff) {
            let compressed = sniff + (try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try file.readRest() })
            return try readGzip(path: path, compressed: compressed)
        }
        return try readRaw(path: path, file: file, firstBytes: sniff)
    }

    /// Decodes an IDX file held in memory, raw or gzip'd, with exactly the checks `read` makes;
    /// `name` stands for the path in messages. The entry point the fuzzer drives.
    public static func decode(_ bytes: [UInt8], name: String) throws(DataFileError) -> IDXArray {
        if Zlib.isGzip(bytes) { return try readGzip(path: name, compressed: bytes) }
        return try readRaw(path: name, file: InMemoryFile(bytes), firstBytes: [])
    }

    /// The bytes of an IDX file holding `array` (the writer tests and tools use).
    public static func encode(_ array: IDXArray, elementType: UInt8 = IDXElementType.unsignedByte.rawValue) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, elementType, UInt8(array.dimensions.count)]
        for dimension in array.dimensions {
            let value = UInt32(dimension)
            bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        return bytes + array.elements
    }

    // MARK: - Header

    /// What the header declares.
    private struct Header {
        var dimensions: [Int]
        /// 4 + 4·rank.
        var headerSize: Int
        /// ∏dimensions (elements are single bytes).
        var dataSize: Int
        /// headerSize + dataSize: the whole file's declared length.
        var totalSize: Int { headerSize + dataSize }
    }

    /// Checks the magic number in `magic` (4 bytes); returns the rank.
    private static func rank(fromMagic magic: [UInt8], path: String) throws(DataFileError) -> Int {
        guard magic[0] == 0, magic[1] == 0, let type = IDXElementType(rawValue: magic[2]) else {
            throw .badMagic(path: path, found: magic)
        }
        guard type == .unsignedByte else { throw .unsupportedElementType(path: path, code: magic[2]) }
        let rank = Int(magic[3])
        guard rank >= 1 && rank <= maximumRank else {
            throw .unsupportedRank(path: path, rank: rank, expected: "1 to \(maximumRank)")
        }
        return rank
    }

    /// Decodes the big-endian dimensions and their product, refusing an overflow.
    private static func header(dimensionBytes bytes: [UInt8], path: String) throws(DataFileError) -> Header {
        var dimensions: [Int] = []
        for start in stride(from: 0, to: bytes.count, by: 4) {
            let value = UInt32(bytes[start]) << 24 | UInt32(bytes[start + 1]) << 16
                | UInt32(bytes[start + 2]) << 8 | UInt32(bytes[start + 3])
            dimensions.append(Int(value))
        }
        var product = 1
        for dimension in dimensions {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .sizeOverflow(path: path, dimensions: dimensions) }
            product = next
        }
        let headerSize = 4 + 4 * dimensions.count
        guard product <= Int.max - headerSize else { throw .sizeOverflow(path: path, dimensions: dimensions) }
        return Header(dimensions: dimensions, headerSize: headerSize, dataSize: product)
    }

    // MARK: - Raw files

    private static func readRaw(path: String, file: some IDXByteSource, firstBytes: [UInt8]) throws(DataFileError) -> IDXArray {
        var magic = firstBytes
        magic += try readExactly(4 - magic.count, from: file)
        guard magic.count == 4 else { throw .truncated(path: path, expected: 4, found: magic.count) }
        let rank = try rank(fromMagic: magic, path: path)
        let dimensionBytes = try readExactly(4 * rank, from: file)
        guard dimensionBytes.count == 4 * rank else {
            throw .truncated(path: path, expected: 4 + 4 * rank, found: 4 + dimensionBytes.count)
        }
        let header = try header(dimensionBytes: dimensionBytes, path: path)
        // The file's length is known: compare before allocating anything for the data.
        if file.size < header.totalSize {
            throw .truncated(path: path, expected: header.totalSize, found: file.size)
        }
        if file.size > header.totalSize {
            throw .trailingData(path: path, expected: header.totalSize, found: file.size)
        }
        let elements = try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try file.readRest() }
        // The file may have shrunk since fstat; readRest returns what was there.
        guard elements.count == header.dataSize else {
            throw .truncated(path: path, expected: header.totalSize, found: header.headerSize + elements.count)
        }
        return IDXArray(dimensions: header.dimensions, elements: elements)
    }

    private static func readExactly(_ count: Int, from file: some IDXByteSource) throws(DataFileError) -> [UInt8] {
        try FileError.wrapped(in: DataFileError.file) { () throws(FileError) in try file.read(upTo: count) }
    }

    // MARK: - Gzip'd files

    private static func readGzip(path: String, compressed: [UInt8]) throws(DataFileError) -> IDXArray {
        let reader: GzipReader
        do throws(Zlib.Failure) { reader = try GzipReader(compressed) } catch { throw gzipError(error, path: path) }

        let magic = try inflate(4, from: reader, path: path, expectedTotal: 4, alreadyRead: 0)
        let rank = try rank(fromMagic: magic, path: path)
        let dimensionBytes = try inflate(4 * rank, from: reader, path: path, expectedTotal: 4 + 4 * rank, alreadyRead: 4)
        let header = try header(dimensionBytes: dimensionBytes, path: path)

        // The decompressed length is unknown until the stream is read, but deflate expands at most
        // 1032:1, so a header that claims more than that is refused before allocating.
        let (bound, overflow) = compressed.count.multipliedReportingOverflow(by: Zlib.maximumExpansion)
        if !overflow && header.totalSize > bound {
            throw .implausibleSize(path: path, declared: header.totalSize, compressedSize: compressed.count)
        }

        // Even under that bound, memory follows the data actually inflated, not the header's word:
        // storage starts at min(declared, 64 MB) and at most doubles as real bytes arrive, so a
        // header that lies within the bound costs at most twice what the stream really holds.
        var elements: [UInt8] = []
        elements.reserveCapacity(min(header.dataSize, initialGzipCapacity))
        var chunk = [UInt8](repeating: 0, count: min(header.dataSize, 1 << 20))
        while elements.count < header.dataSize {
            let wanted = min(chunk.count, header.dataSize - elements.count)
            let got: Int
            do throws(Zlib.Failure) {
                got = try chunk.withUnsafeMutableBytes { buffer in
                    Result { () throws(Zlib.Failure) in try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted])) }
                }.get()
            } catch {
                throw gzipError(error, path: path)
            }
            if elements.count + got > elements.capacity {
                elements.reserveCapacity(min(header.dataSize, max(2 * elements.capacity, elements.count + got)))
            }
            elements.append(contentsOf: chunk[0..<got])
            if got < wanted {
                throw .truncated(path: path, expected: header.totalSize, found: header.headerSize + elements.count)
            }
        }

        // Read on to the end of the stream, which also checks its CRC-32: it must hold nothing more.
        var extra: UInt8 = 0
        let more: Int
        do throws(Zlib.Failure) {
            more = try withUnsafeMutableBytes(of: &extra) { buffer in
                Result { () throws(Zlib.Failure) in try reader.read(into: buffer) }
            }.get()
        } catch {
            throw gzipError(error, path: path)
        }
        if more > 0 { throw .trailingData(path: path, expected: header.totalSize, found: nil) }
        return IDXArray(dimensions: header.dimensions, elements: elements)
    }

    /// The next `count` inflated bytes; a stream that ends before them is a truncated file.
    private static func inflate(_ count: Int, from reader: GzipReader, path: String,
                                expectedTotal: Int, alreadyRead: Int) throws(DataFileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read: Int
        do throws(Zlib.Failure) {
            read = try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(Zlib.Failure) in try reader.read(into: buffer) }
            }.get()
        } catch {
            throw gzipError(error, path: path)
        }
        guard read == count else { throw .truncated(path: path, expected: expectedTotal, found: alreadyRead + read) }
        return bytes
    }

    private static func gzipError(_ failure: Zlib.Failure, path: String) -> DataFileError {
        switch failure {
        case .truncated: .corruptGzip(path: path, reason: "the compressed stream ends early (truncated file)")
        case .corrupt(let reason): .corruptGzip(path: path, reason: reason)
        }
    }
}

// MARK: - Byte sources

/// What the raw reader needs from a file: its length up front, then reads in order. A file on disk
/// (`LocalFile`) and bytes in memory (`decode`) both provide it, so both take the same checks.
protocol IDXByteSource {
    var size: Int { get }
    func read(upTo count: Int) throws(FileError) -> [UInt8]
    func readRest() throws(FileError) -> [UInt8]
}

extension LocalFile: IDXByteSource {}

/// Bytes already in memory, read like a file.
private final class InMemoryFile: IDXByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var size: Int { bytes.count }

    func read(upTo count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + max(0, count))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    func readRest() -> [UInt8] {
        read(upTo: bytes.count - offset)
    }
}
