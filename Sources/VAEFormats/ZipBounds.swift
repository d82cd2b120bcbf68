/// The bounds check a zip archive passes before ZIPFoundation reads it.
///
/// ZIPFoundation parses zip archives well but trusts their numbers: an offset past the end of an
/// in-memory archive makes its reader build a reversed range and trap, an offset of 2^63 or more
/// traps converting to `off_t`, a missing end record is searched for byte by byte through the
/// whole file, and on Linux a deflate stream that does not end reads on forever. So before
/// ZIPFoundation sees the bytes, this walks the same structures it will (the end record it will
/// pick, its ZIP64 record, each central directory record with its ZIP64 extra field, each local
/// header and data descriptor), computes the same effective offsets and sizes, and requires every
/// one of them to lie inside the file. It reads nothing for vaesh: ZIPFoundation lists the
/// entries, and `TorchArchive` requires the two listings to agree.
struct ZipBounds {
    /// One central directory record, as ZIPFoundation will read it.
    struct Record {
        var flags: UInt16
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        /// Where the entry's bytes start (after its local header).
        var dataOffset: Int
        /// Where its local header starts, and where its bytes (and data descriptor) end.
        var localHeaderOffset: Int
        var dataEnd: Int
    }

    /// The records, in central directory order.
    private(set) var records: [Record] = []

    /// The longest archive comment accepted: torch writes none, and ZIPFoundation looks for the
    /// end record one byte at a time through it.
    static let maximumCommentLength = 4096
    /// More entries than any checkpoint has (one per storage, and a few more).
    static let maximumEntries = 1_000_000

    private let bytes: UnsafeRawBufferPointer

    /// Checks `bytes`; the error's detail is one line for `TorchCheckpointError.archive`.
    init(_ bytes: UnsafeRawBufferPointer) throws(ZipBoundsError) {
        self.bytes = bytes
        let size = bytes.count
        guard size >= 22 else { throw .init("the file is only \(Quoting.bytes(size)), too short for a zip archive") }

        // The end record ZIPFoundation picks: the last signature at or before size − 22.
        let window = min(size, 22 + Self.maximumCommentLength)
        guard let end = (22...window).lazy.map({ size - $0 }).first(where: { self.u32($0) == 0x0605_4B50 }) else {
            throw .init("no end-of-central-directory record in its last \(Quoting.bytes(window)): the archive is truncated, or not a zip archive")
        }
        let commentLength = Int(u16(end + 20))
        guard end + 22 + commentLength == size else {
            throw .init("its end record (at byte \(end)) does not end the file: the archive is truncated or has bytes appended")
        }

        // ZIPFoundation takes a ZIP64 end record only from the 56 bytes before a locator that
        // sits right before the end record, and only with version needed ≥ 45.
        var directoryOffset = UInt64(u32(end + 16))
        var directorySize = UInt64(u32(end + 12))
        var entryCount = UInt64(u16(end + 10))
        var directoryLimit = end
        if end > 20, end - 20 > 56, u32(end - 20) == 0x0706_4B50, u32(end - 76) == 0x0606_4B50, u16(end - 76 + 14) >= 45 {
            let record = end - 76
            entryCount = u64(record + 32)
            directorySize = u64(record + 40)
            directoryOffset = u64(record + 48)
            directoryLimit = record
        }
        guard directoryOffset <= UInt64(directoryLimit), directorySize <= UInt64(directoryLimit) - directoryOffset else {
            throw .init("its central directory (\(directorySize) bytes at offset \(directoryOffset)) lies outside the file's \(Quoting.bytes(size))")
        }
        guard entryCount <= UInt64(Self.maximumEntries), entryCount * 46 <= directorySize else {
            throw .init("its end record claims \(entryCount) entries, more than its \(directorySize)-byte central directory holds")
        }

        var position = Int(directoryOffset)
        let directoryEnd = Int(directoryOffset + directorySize)
        for number in 0 ..< Int(entryCount) {
            records.append(try record(at: &position, limit: directoryEnd, number: number))
        }

        // Entries may not share bytes: records pointing at one local header (an "overlap" zip
        // bomb) would read the same megabytes again for each name.
        let spans = records.enumerated().map { ($0.element.localHeaderOffset, $0.element.dataEnd, $0.offset) }.sorted { $0.0 < $1.0 }
        for (previous, next) in zip(spans, spans.dropFirst()) where next.0 < previous.1 {
            throw .init("entries \(previous.2 + 1) and \(next.2 + 1) share bytes (from byte \(next.0)): a zip bomb, or a damaged archive")
        }
    }

    /// The central directory record at `position` (advanced past it), with its local header.
    private func record(at position: inout Int, limit: Int, number: Int) throws(ZipBoundsError) -> Record {
        let at = position
        guard limit - at >= 46, u32(at) == 0x0201_4B50 else {
            throw .init("central directory record \(number + 1) (at byte \(at)) is missing or damaged")
        }
        let versionNeeded = u16(at + 6), flags = u16(at + 8), method = u16(at + 10)
        let nameLength = Int(u16(at + 28)), extraLength = Int(u16(at + 30)), commentLength = Int(u16(at + 32))
        let next = at + 46 + nameLength + extraLength + commentLength
        guard next <= limit else { throw .init("central directory record \(number + 1) runs past the directory's end") }
        position = next
        guard flags & 1 == 0 else { throw .init("entry \(number + 1) is encrypted") }

        var compressed = UInt64(u32(at + 20)), uncompressed = UInt64(u32(at + 24)), offset = UInt64(u32(at + 42))
        // ZIPFoundation's ZIP64 extra field: the fields whose 32-bit value is all ones, in order.
        let zip64 = zip64Fields(extraStart: at + 46 + nameLength, extraLength: extraLength,
                                uncompressed: uncompressed == 0xFFFF_FFFF, compressed: compressed == 0xFFFF_FFFF,
                                offset: offset == 0xFFFF_FFFF, disk: u16(at + 34) == 0xFFFF)
        let isZIP64 = versionNeeded & 0xFF >= 45 || zip64 != nil
        if isZIP64, let zip64 {
            if zip64.uncompressed > 0 { uncompressed = zip64.uncompressed }
            if zip64.compressed > 0 { compressed = zip64.compressed }
            if zip64.offset > 0 { offset = zip64.offset }
        }
        let size = UInt64(bytes.count)
        guard offset < size, size - offset >= 30, u32(Int(offset)) == 0x0403_4B50 else {
            throw .init("entry \(number + 1)'s local header (at byte \(offset)) lies outside the file or is damaged")
        }
        let local = Int(offset)
        let dataOffset = local + 30 + Int(u16(local + 26)) + Int(u16(local + 28))
        let stored = method == 0 ? uncompressed : compressed
        guard dataOffset <= bytes.count, stored <= size - UInt64(dataOffset), compressed <= size, uncompressed <= size * 1032 else {
            throw .init("entry \(number + 1) claims \(uncompressed) bytes (\(compressed) compressed) at byte \(dataOffset), beyond the file's \(Quoting.bytes(bytes.count))")
        }
        let dataEnd = dataOffset + Int(stored)
        if flags & 8 != 0 {
            // The data descriptor after the data: ZIPFoundation prefers its CRC and sizes, so
            // they must equal the central directory's.
            let signature = dataEnd <= bytes.count - 4 && u32(dataEnd) == 0x0807_4B50 ? 4 : 0
            guard dataEnd <= bytes.count - (isZIP64 ? 24 : 16) else {
                throw .init("entry \(number + 1)'s data descriptor lies outside the file")
            }
            let descriptor = dataEnd + signature
            let (crcField, sizes) = (u32(descriptor), isZIP64 ? (u64(descriptor + 4), u64(descriptor + 12))
                                                                : (UInt64(u32(descriptor + 4)), UInt64(u32(descriptor + 8))))
            guard crcField == u32(at + 16), sizes == (compressed, uncompressed) else {
                throw .init("entry \(number + 1)'s data descriptor disagrees with its central directory record")
            }
        }
        let end = flags & 8 != 0 ? dataEnd + (isZIP64 ? 20 : 12) : dataEnd
        return Record(flags: flags, method: method, crc: u32(at + 16), compressedSize: Int(compressed),
                      uncompressedSize: Int(uncompressed), dataOffset: dataOffset, localHeaderOffset: local, dataEnd: end)
    }

    /// The ZIP64 extended information in an extra field, read as ZIPFoundation reads it (the first
    /// block with ID 1, which must hold exactly the flagged fields); nil when it has none.
    private func zip64Fields(extraStart: Int, extraLength: Int, uncompressed: Bool, compressed: Bool, offset: Bool,
                             disk: Bool) -> (uncompressed: UInt64, compressed: UInt64, offset: UInt64)? {
        var at = 0
        while at < extraLength - 4 {
            let id = u16(extraStart + at), dataSize = Int(u16(extraStart + at + 2))
            let next = at + 4 + dataSize
            guard next <= extraLength else { return nil }
            if id == 1 {
                guard dataSize == (uncompressed ? 8 : 0) + (compressed ? 8 : 0) + (offset ? 8 : 0) + (disk ? 4 : 0) else { return nil }
                var field = extraStart + at + 4
                func take(_ flagged: Bool) -> UInt64 {
                    guard flagged else { return 0 }
                    defer { field += 8 }
                    return u64(field)
                }
                return (take(uncompressed), take(compressed), take(offset))
            }
            at = next
        }
        return nil
    }

    private func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    private func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    private func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}

/// Why an archive failed the bounds check: one line, without the file name.
struct ZipBoundsError: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}
