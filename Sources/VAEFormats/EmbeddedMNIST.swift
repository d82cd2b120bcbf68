/// The MNIST subset that ships inside vaesh: the first 10,000 training and 2,000 test images of
/// MNIST and their labels, in MNIST's own gzip'd IDX files, compiled into the binary as base64
/// string literals (`EmbeddedMNIST+Data.swift`, written by `scripts/make-embedded-mnist`; where
/// the files come from and their sha256 sums are in `EmbeddedMNIST.md`).
///
/// In the binary rather than in a SwiftPM resource bundle: a bundle is looked up beside the build
/// folder, so a `vaesh` copied or installed anywhere else had no data and trapped with "could not
/// load resource bundle". Decoding the 2.5 MB of text is a few milliseconds; the files then go
/// through the same IDX and gzip checks as any file on disk.
public enum EmbeddedMNIST {
    /// What `load mnist` says it loaded.
    public static let origin = "embedded MNIST subset (the first 10,000 training and 2,000 test images of MNIST)"

    /// The four files, decoded and checked as an MNIST folder's would be.
    public static func read() throws(DataFileError) -> ImageFiles {
        func file(_ text: String, _ name: String) throws(DataFileError) -> (IDXArray, String) {
            guard let bytes = decodeBase64(text) else { throw .embeddedSubsetDamaged }
            return (try IDX.decode(bytes, name: "embedded " + name), "embedded " + name)
        }
        let trainImages = try file(Self.trainImages, "train-images-idx3-ubyte.gz")
        let train = try ImageArray.idx(images: trainImages.0, named: trainImages.1, labels: file(Self.trainLabels, "train-labels-idx1-ubyte.gz"))
        let testImages = try file(Self.testImages, "t10k-images-idx3-ubyte.gz")
        let test = try ImageArray.idx(images: testImages.0, named: testImages.1, labels: file(Self.testLabels, "t10k-labels-idx1-ubyte.gz"))
        return try ImageFiles(train: train, test: test, origin: origin)
    }

    /// The bytes of standard base64 text (RFC 4648, `=` padding), or nil for anything else.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        let utf8 = Array(text.utf8)
        guard utf8.count % 4 == 0 else { return nil }
        let padding = utf8.suffix(2).filter { $0 == UInt8(ascii: "=") }.count
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 4 * 3)
        var index = 0
        while index < utf8.count {
            var group: UInt32 = 0
            for offset in 0..<4 {
                let character = utf8[index + offset]
                let isPadding = character == UInt8(ascii: "=") && index + offset >= utf8.count - padding
                let value = isPadding ? 0 : table[Int(character)]
                guard value != 0xFF else { return nil }
                group = group << 6 | UInt32(value)
            }
            bytes.append(UInt8(group >> 16))
            bytes.append(UInt8((group >> 8) & 0xFF))
            bytes.append(UInt8(group & 0xFF))
            index += 4
        }
        bytes.removeLast(padding)
        return bytes
    }
}
