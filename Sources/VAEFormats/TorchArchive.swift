import Foundation
import ZIPFoundation

/// The zip container of a `torch.save` checkpoint, read with ZIPFoundation.
///
/// PyTorch (since 1.6) writes one top folder, named after the file or `archive`, holding
/// `data.pkl` (the pickled object), `data/KEY` (each storage's raw bytes), `byteorder`, `version`
/// and a few records of its own. Like PyTorch's reader, this requires every entry to lie in that
/// one folder.
///
/// The bytes pass `ZipBounds` before ZIPFoundation reads them, and ZIPFoundation's listing must
/// agree with it entry by entry. Stored entries (what torch writes) are read by ZIPFoundation with
/// its CRC; deflated ones (an archive repacked by a zip tool, which torch also reads) are inflated
/// with zlib over exactly the entry's bytes, because ZIPFoundation's inflate on Linux reads until
/// the stream ends, past the entry. Nothing is allocated for an entry before its size has been
/// checked against the file: a stored entry's bytes lie inside the file, and a deflated entry
/// declares at most 1032 times its compressed size (deflate's limit).
final class TorchArchive {
    let file: String
    /// The top folder, without its slash.
    let folder: String
    private let data: Data
    private let archive: Archive
    /// Each file entry by its path inside `folder` ("data.pkl", "data/0").
    private var entries: [String: (entry: Entry, record: ZipBounds.Record)] = [:]

    init(data: Data, file: String) throws(TorchCheckpointError) {
        self.file = file
        self.data = data
        let checked = data.withUnsafeBytes { raw in Result { () throws(ZipBoundsError) in try ZipBounds(raw) } }
        let bounds: ZipBounds
        switch checked {
        case .success(let value): bounds = value
        case .failure(let error): throw .archive(file: file, detail: error.detail)
        }
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw .archive(file: file, detail: "ZIPFoundation cannot read it (\(error))")
        }
        let listed = Array(archive)
        guard listed.count == bounds.records.count else {
            throw .archive(file: file, detail: "ZIPFoundation lists \(listed.count) entries where the central directory holds \(bounds.records.count)")
        }

        var folder: String?
        for (entry, record) in zip(listed, bounds.records) {
            let path = entry.path
            guard let slash = path.firstIndex(of: "/"), slash != path.startIndex else {
                throw .archive(file: file, detail: "entry \(Quoting.quoted(path)) is not inside a folder, as torch.save puts every entry")
            }
            let top = String(path[..<slash])
            if let folder, folder != top {
                throw .archive(file: file, detail: "entries in two top folders (\(Quoting.quoted(folder)) and \(Quoting.quoted(top))); torch.save writes one")
            }
            folder = top
            let inside = String(path[path.index(after: slash)...])
            if inside.isEmpty || inside.hasSuffix("/") { continue }  // a folder entry, as zip tools add
            guard entries[inside] == nil else {
                throw .archive(file: file, detail: "entry \(Quoting.quoted(path)) appears twice")
            }
            entries[inside] = (entry, record)
        }
        guard let folder else { throw .archive(file: file, detail: "the archive is empty") }
        self.folder = folder
    }

    /// Whether the folder holds `name` ("data.pkl").
    func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The names inside the folder, sorted.
    var names: [String] { entries.keys.sorted() }

    /// The bytes of `name`, or nil when the folder has no such entry; checked against its CRC.
    func contents(of name: String) throws(TorchCheckpointError) -> [UInt8]? {
        guard let (entry, record) = entries[name] else { return nil }
        let path = folder + "/" + name
        func failure(_ detail: String) -> TorchCheckpointError { .entry(file: file, entry: path, detail: detail) }
        guard entry.type == .file else { throw failure("is a \(entry.type == .directory ? "folder" : "symbolic link"), not a file") }
        let bytes: [UInt8]
        switch record.method {
        case 0:
            guard record.compressedSize == record.uncompressedSize else {
                throw failure("stored uncompressed, yet its sizes differ (\(record.compressedSize) and \(record.uncompressedSize) bytes)")
            }
            bytes = try storedBytes(entry, size: record.uncompressedSize, failure: failure)
        case 8:
            guard record.uncompressedSize <= Zlib.maximumExpansion * record.compressedSize + 1024 else {
                throw failure("declares \(record.uncompressedSize) bytes from \(record.compressedSize) compressed, more than deflate can hold")
            }
            let inflated = data.withUnsafeBytes { raw in
                Result { () throws(Zlib.Failure) in
                    try Zlib.inflateRaw(UnsafeRawBufferPointer(rebasing: raw[record.dataOffset ..< record.dataOffset + record.compressedSize]),
                                        size: record.uncompressedSize)
                }
            }
            switch inflated {
            case .success(let value): bytes = value
            case .failure(.truncated): throw failure("its deflate stream ends early")
            case .failure(.corrupt(let reason)): throw failure("its deflate stream is damaged: \(reason)")
            }
        default:
            throw failure("compressed with zip method \(record.method); torch.save stores entries, and zip tools deflate them (method 8)")
        }
        let crc = bytes.withUnsafeBytes { Zlib.crc32($0) }
        guard crc == entry.checksum else {
            throw failure("CRC-32 \(String(crc, radix: 16)) does not match the archive's \(String(entry.checksum, radix: 16))")
        }
        return bytes
    }

    /// A stored entry through ZIPFoundation, into one buffer of the checked size.
    private func storedBytes(_ entry: Entry, size: Int, failure: (String) -> TorchCheckpointError) throws(TorchCheckpointError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        do {
            _ = try archive.extract(entry, bufferSize: max(1, min(size, 1 << 20)), skipCRC32: true) { chunk in
                guard bytes.count + chunk.count <= size else { throw ZipBoundsError("more data than declared") }
                bytes.append(contentsOf: chunk)
            }
        } catch {
            throw failure("ZIPFoundation cannot read it (\(error))")
        }
        guard bytes.count == size else { throw failure("holds \(Quoting.bytes(bytes.count)), not the \(size) declared") }
        return bytes
    }
}
