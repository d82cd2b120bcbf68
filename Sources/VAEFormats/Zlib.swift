import CLibz

/// The one door to zlib: gunzip for IDX and CSV files, gzip and zlib-format deflate for
/// writers (a PNG's IDAT stream is zlib format), and CRC-32 (a PNG chunk's checksum).
///
/// Foundation on Linux has no gzip, hence zlib. Nothing else in vaesh imports CLibz. (ZIPFoundation
/// brings a zlib module of its own named CZlib, so ours may not have that name.)
public enum Zlib {
    /// Why a stream could not be inflated; the caller adds the file name.
    public enum Failure: Error, Equatable {
        /// The compressed stream ends before its end marker.
        case truncated
        /// The stream is damaged; zlib's own description.
        case corrupt(String)
    }

    /// The container `compress` writes.
    public enum Format: Sendable {
        /// RFC 1952, what `gzip` writes (fixed header: no name, mtime 0).
        case gzip
        /// RFC 1950, what PNG's IDAT chunks carry.
        case zlib

        var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }
    }

    /// True when `bytes` start with the gzip magic number 1F 8B.
    static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1F && iterator.next() == 0x8B
    }

    /// The largest ratio of inflated to deflated size that deflate can reach (1032:1), used to refuse
    /// a header whose declared size no compressed stream of this length could hold.
    static let maximumExpansion = 1032

    /// `bytes` deflated in `format` at `level` (0…9).
    public static func compress(_ bytes: [UInt8], format: Format = .gzip, level: Int32 = 9) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1); stream.deallocate() }
        let initialized = deflateInit2_(stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY,
                                        ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Fails only for a bad level or out of memory: both programmer errors or fatal here.
        precondition(initialized == Z_OK, "deflateInit2_ failed: \(initialized)")
        defer { deflateEnd(stream) }
        let bound = Int(deflateBound(stream, uLong(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var produced = 0
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var inputOffset = 0
                var status: Int32 = Z_OK
                // zlib counts in 32 bits; feed large inputs in slices.
                repeat {
                    let inputChunk = min(input.count - inputOffset, Int(UInt32.max))
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + inputOffset })
                    stream.pointee.avail_in = UInt32(inputChunk)
                    let outputChunk = min(out.count - produced, Int(UInt32.max))
                    stream.pointee.next_out = out.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = UInt32(outputChunk)
                    let flush = inputOffset + inputChunk == input.count ? Z_FINISH : Z_NO_FLUSH
                    status = deflate(stream, flush)
                    inputOffset += inputChunk - Int(stream.pointee.avail_in)
                    produced += outputChunk - Int(stream.pointee.avail_out)
                } while status == Z_OK
                precondition(status == Z_STREAM_END, "deflate failed: \(status)")
            }
        }
        output.removeLast(output.count - produced)
        return output
    }

    /// The CRC-32 of `bytes`, continuing from `crc` (0 to start).
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var result = uLong(crc)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, Int(UInt32.max))
            result = CLibz.crc32(result, base + offset, uInt(chunk))
            offset += chunk
        }
        return UInt32(truncatingIfNeeded: result)
    }

    /// The whole of a gzip'd or zlib-format byte string (detected from its header), inflated. Its
    /// size is unknown in advance, so the output grows as the stream is read (used for CSV, whose
    /// text has no header to check first, and by the tests' PNG decoder).
    public static func inflate(_ compressed: [UInt8]) throws(Failure) -> [UInt8] {
        let reader = try GzipReader(compressed)
        var output: [UInt8] = []
        output.reserveCapacity(min(compressed.count * 4, Int.max / 2))
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Failure) in try reader.read(into: buffer) }
            }.get()
            output.append(contentsOf: chunk[0..<count])
            if count < chunkSize { return output }
        }
    }
}

extension Zlib {
    /// A raw deflate stream (a zip entry's data), which must inflate to exactly `size` bytes and
    /// end where `compressed` ends. The output is allocated once, at `size`, which the caller has
    /// checked (a zip entry's declared size, at most 1032 times its compressed size).
    static func inflateRaw(_ compressed: UnsafeRawBufferPointer, size: Int) throws(Failure) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1); stream.deallocate() }
        // −15: a raw stream (no zlib or gzip header), as zip entries hold.
        guard inflateInit2_(stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("zlib could not start")
        }
        defer { inflateEnd(stream) }
        // One byte at least: zlib refuses a null output pointer even with no room asked for.
        var output = [UInt8](repeating: 0, count: max(size, 1))
        var status: Int32 = Z_OK
        var consumed = 0, produced = 0
        guard let input = compressed.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .truncated
        }
        try output.withUnsafeMutableBufferPointer { (out: inout UnsafeMutableBufferPointer<UInt8>) throws(Failure) in
            // A stream longer than `size` fills the output without ending: zlib then reports
            // Z_BUF_ERROR with the output full, which is the check.
            repeat {
                let inputChunk = min(compressed.count - consumed, Int(UInt32.max))
                let outputChunk = min(size - produced, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input + consumed)
                stream.pointee.avail_in = UInt32(inputChunk)
                stream.pointee.next_out = out.baseAddress.map { $0 + produced }
                stream.pointee.avail_out = UInt32(outputChunk)
                status = CLibz.inflate(stream, Z_NO_FLUSH)
                consumed += inputChunk - Int(stream.pointee.avail_in)
                produced += outputChunk - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR:
                    throw produced == size ? .corrupt("more data than the \(size) bytes declared") : .truncated
                default:
                    throw .corrupt(stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                }
            } while status != Z_STREAM_END
        }
        guard produced == size else { throw .corrupt("\(produced) bytes where \(size) were declared") }
        guard consumed == compressed.count else { throw .corrupt("\(compressed.count - consumed) bytes after the end of the stream") }
        if size == 0 { output.removeAll() }
        return output
    }
}

/// Inflates an in-memory gzip file piece by piece, so that a caller can read and check a header
/// before it allocates room for the rest.
///
/// Concatenated gzip members (what `cat a.gz b.gz` makes) read as one stream, as `gunzip` does (a zlib-format stream is read too).
/// The end of the stream is only reached once its CRC-32 and length check out, so a damaged file
/// fails in `read` even when the damage lies in the trailer.
final class GzipReader {
    /// zlib keeps a pointer back to the stream, so it must not move: it lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: [UInt8]
    private var inputOffset = 0
    /// True once the last member's trailer has been read and checked.
    private(set) var isAtEnd = false

    init(_ compressed: [UInt8]) throws(Zlib.Failure) {
        input = compressed
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 32: the largest window, and detect a gzip or zlib header automatically.
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .corrupt("zlib could not start (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Fills `buffer` with the next inflated bytes and returns how many it wrote: `buffer.count`,
    /// or fewer only when the stream has ended cleanly. A stream that stops early throws `.truncated`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Zlib.Failure) -> Int {
        guard let outputBase = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        var written = 0
        while written < buffer.count && !isAtEnd {
            let available = input.count - inputOffset
            if available == 0 { throw .truncated }
            let (status, consumed, produced) = input.withUnsafeBufferPointer { inputBuffer in
                // available > 0, so the buffer has an address.
                guard let inputBase = inputBuffer.baseAddress else { return (Z_BUF_ERROR, 0, 0) }
                let inputChunk = min(available, Int(UInt32.max))
                let outputChunk = min(buffer.count - written, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBase + inputOffset)
                stream.pointee.avail_in = UInt32(inputChunk)
                stream.pointee.next_out = outputBase + written
                stream.pointee.avail_out = UInt32(outputChunk)
                let status = inflate(stream, Z_NO_FLUSH)
                return (status, inputChunk - Int(stream.pointee.avail_in), outputChunk - Int(stream.pointee.avail_out))
            }
            inputOffset += consumed
            written += produced
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let rest = input[inputOffset...]
                if rest.isEmpty {
                    isAtEnd = true
                } else if Zlib.isGzip(rest) {
                    inflateReset(stream)
                } else {
                    throw .corrupt("\(rest.count) unexpected bytes after the end of the stream")
                }
            case Z_BUF_ERROR:
                // No progress was possible: the input ran out mid-stream.
                throw .truncated
            case Z_NEED_DICT:
                throw .corrupt("the stream needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .corrupt("zlib ran out of memory")
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corrupt(reason)
            }
        }
        return written
    }
}
