/// Everything that can go wrong reading image data from files (IDX, CSV, gzip, MNIST-family
/// folders): each case names the file (as the caller spelled its path) and what is wrong with
/// it, in one line.
public enum DataFileError: DescribedError, Equatable {
    // MARK: - Files and folders
    /// The file or folder could not be opened or read.
    case file(FileError)
    /// A folder lacks one of the four standard files (`file` is its stem, e.g. "train-images").
    /// `inDataFolder` is true for the per-user data folder, whose other files were found.
    case missingStandardFile(folder: String, file: String, inDataFolder: Bool)
    /// The subset compiled into vaesh does not decode (a damaged binary or generated source).
    case embeddedSubsetDamaged

    // MARK: - IDX
    /// The first four bytes are not an IDX magic number (00 00 type rank).
    case badMagic(path: String, found: [UInt8])
    /// A valid IDX element type this loader does not read (anything but unsigned byte).
    case unsupportedElementType(path: String, code: UInt8)
    /// The rank does not fit the file's role (`expected` says what was wanted).
    case unsupportedRank(path: String, rank: Int, expected: String)
    /// Some dimension is zero where a size is needed, e.g. 0×28 images.
    case zeroDimension(path: String, dimensions: [Int])
    /// The product of the header's dimensions overflows.
    case sizeOverflow(path: String, dimensions: [Int])
    /// The file (or its decompressed stream) holds fewer bytes than its header declares.
    case truncated(path: String, expected: Int, found: Int)
    /// The file holds more bytes than its header declares (`found` is nil when the total is
    /// unknown, as for a gzip stream that is not read to its end).
    case trailingData(path: String, expected: Int, found: Int?)
    /// A gzip'd file's header declares more data than its compressed size could possibly hold.
    case implausibleSize(path: String, declared: Int, compressedSize: Int)
    /// The gzip stream is damaged or ends early (`reason` is zlib's word for it).
    case corruptGzip(path: String, reason: String)

    // MARK: - Consistency
    /// An images file and its labels file disagree on the number of examples.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// Train and test images have different sizes (`trainShape`, `testShape` are "28×28" etc.).
    case imageSizeMismatch(train: String, trainShape: String, test: String, testShape: String)
    /// A file holds no examples.
    case emptyDataset(path: String)

    // MARK: - CSV
    /// A cell that is not a number (`line` and `column` count from 1).
    case csvNotANumber(path: String, line: Int, column: Int, cell: String)
    /// A row with a different number of cells from the first row.
    case csvColumnCount(path: String, line: Int, found: Int, expected: Int, firstLine: Int)
    /// A pixel value outside the scale's range (0…255 or 0…1).
    case csvValueOutOfRange(path: String, line: Int, column: Int, cell: String, range: String)
    /// A label cell that is not an integer in 0…255.
    case csvBadLabel(path: String, line: Int, column: Int, cell: String)
    /// The label column asked for is not a column of the file.
    case csvLabelColumnOutOfRange(path: String, column: Int, columns: Int)
    /// A row that has a label column but no pixel columns.
    case csvNoPixels(path: String, line: Int)

    public var message: String {
        switch self {
        case .file(let error):
            return error.message
        case .missingStandardFile(let folder, let file, _):
            return "\(folder): no \(file) file (looked for \(StandardFile.named(file)?.candidateNames.joined(separator: ", ") ?? file))"
        case .embeddedSubsetDamaged:
            return "the MNIST subset built into vaesh does not decode: this vaesh binary is damaged"
        case .badMagic(let path, let found):
            let bytes = found.map { hex($0) }.joined(separator: " ")
            return "\(path): not an IDX file: magic number \(bytes), expected 00 00 08 followed by the rank"
        case .unsupportedElementType(let path, let code):
            let name = IDXElementType(rawValue: code)?.name ?? "unknown"
            return "\(path): unsupported IDX element type \(name) (0x\(hex(code))); only unsigned byte (0x08) is read"
        case .unsupportedRank(let path, let rank, let expected):
            return "\(path): IDX rank \(rank), expected \(expected)"
        case .zeroDimension(let path, let dimensions):
            return "\(path): IDX dimensions \(shape(dimensions)) include a zero size"
        case .sizeOverflow(let path, let dimensions):
            return "\(path): IDX dimensions \(shape(dimensions)) are too large to address"
        case .truncated(let path, let expected, let found):
            return "\(path): truncated: expected \(expected) bytes, found \(found)"
        case .trailingData(let path, let expected, let found):
            let what = found.map { "found \($0)" } ?? "found more"
            return "\(path): longer than its header declares: expected \(expected) bytes, \(what)"
        case .implausibleSize(let path, let declared, let compressedSize):
            return "\(path): header declares \(declared) bytes, more than \(compressedSize) gzip'd bytes can hold"
        case .corruptGzip(let path, let reason):
            return "\(path): corrupt gzip stream: \(reason)"
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(labels): \(labelCount) labels for the \(imageCount) images in \(images)"
        case .imageSizeMismatch(let train, let trainShape, let test, let testShape):
            return "\(test): images are \(testShape) but those in \(train) are \(trainShape)"
        case .emptyDataset(let path):
            return "\(path): no examples"
        case .csvNotANumber(let path, let line, let column, let cell):
            let shown = cell.isEmpty ? "empty cell" : "'\(clipped(cell))'"
            return "\(path): line \(line), column \(column): \(shown) is not a number"
        case .csvColumnCount(let path, let line, let found, let expected, let firstLine):
            return "\(path): line \(line): \(found) cells, expected \(expected) as on line \(firstLine)"
        case .csvValueOutOfRange(let path, let line, let column, let cell, let range):
            return "\(path): line \(line), column \(column): value \(clipped(cell)) is outside \(range)"
        case .csvBadLabel(let path, let line, let column, let cell):
            return "\(path): line \(line), column \(column): label '\(clipped(cell))' is not an integer in 0…255"
        case .csvLabelColumnOutOfRange(let path, let column, let columns):
            return "\(path): label column \(column) is not among columns 1…\(columns)"
        case .csvNoPixels(let path, let line):
            return "\(path): line \(line): a label but no pixel values"
        }
    }

    public var hint: String? {
        switch self {
        case .missingStandardFile(_, _, true):
            return "run scripts/fetch-mnist to complete the data folder, or empty it to use the embedded subset"
        case .missingStandardFile:
            return "a data folder holds train-images, train-labels, t10k-images and t10k-labels, each raw or .gz"
        case .embeddedSubsetDamaged:
            return "reinstall vaesh, or run scripts/fetch-mnist to install full MNIST in the data folder"
        case .badMagic:
            return "IDX files (MNIST, Fashion-MNIST, KMNIST) start 00 00 08 then the rank, raw or gzip'd"
        case .unsupportedElementType:
            return "convert the images to unsigned bytes (0…255), or export them as CSV"
        case .file(let error):
            return error.hint
        case .truncated, .corruptGzip, .trailingData, .implausibleSize:
            return "the file is damaged or incomplete: fetch it again (scripts/fetch-mnist for MNIST)"
        case .countMismatch:
            return "pair each images file with its own labels file"
        case .imageSizeMismatch:
            return "train and test must come from the same data set"
        case .csvNotANumber:
            return "cells must be numbers; a first row with names is read as a header"
        case .csvValueOutOfRange:
            return "choose the scale the file uses: 255 for grey levels 0…255, 1 for values in 0…1"
        case .csvBadLabel:
            return "choose the label column, or say the file has none"
        default:
            return nil
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

private func shape(_ dimensions: [Int]) -> String {
    dimensions.map(String.init).joined(separator: "×")
}

/// A cell as shown in a message: at most 20 characters, on one line.
private func clipped(_ cell: String) -> String {
    let oneLine = cell.replacingNewlines()
    return oneLine.count <= 20 ? oneLine : String(oneLine.prefix(20)) + "…"
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
