import VAEFormats

/// A PNG decoder for the tests: checks the signature, every chunk's CRC-32 (computed here, not
/// by zlib), IHDR, inflates the IDAT stream and undoes filter type 0 (the only one we write).
public enum PNGTestDecoder {
    public struct Decoded {
        public var width = 0, height = 0, bitDepth = 0, colourType = -1
        /// Row-major, `channels` bytes per pixel (1 grey, 3 RGB, 4 RGBA).
        public var pixels: [UInt8] = []
        public var chunkTypes: [String] = []
        public var channels: Int { colourType == 2 ? 3 : colourType == 6 ? 4 : 1 }
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static func decode(_ bytes: [UInt8]) throws -> Decoded {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure(description: "no PNG signature") }
        var result = Decoded()
        var idat: [UInt8] = []
        var position = 8
        func uint32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while position < bytes.count {
            guard position + 12 <= bytes.count else { throw Failure(description: "truncated chunk header") }
            let length = uint32(position)
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            guard position + 12 + length <= bytes.count else { throw Failure(description: "truncated \(type)") }
            let body = Array(bytes[(position + 8)..<(position + 8 + length)])
            let crc = uint32(position + 8 + length)
            guard UInt32(crc) == crc32(Array(bytes[(position + 4)..<(position + 8)]) + body) else { throw Failure(description: "bad CRC in \(type)") }
            result.chunkTypes.append(type)
            switch type {
            case "IHDR":
                result.width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                result.height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                result.bitDepth = Int(body[8])
                result.colourType = Int(body[9])
                guard body[10] == 0, body[11] == 0, body[12] == 0 else { throw Failure(description: "unexpected IHDR methods") }
            case "IDAT":
                idat += body
            default:
                break
            }
            position += 12 + length
        }
        let raw = try Zlib.inflate(idat)
        let rowBytes = result.width * result.channels
        guard raw.count == result.height * (rowBytes + 1) else { throw Failure(description: "IDAT holds \(raw.count) bytes") }
        for y in 0..<result.height {
            let row = y * (rowBytes + 1)
            guard raw[row] == 0 else { throw Failure(description: "filter type \(raw[row]) on row \(y)") }
            result.pixels += raw[(row + 1)..<(row + 1 + rowBytes)]
        }
        return result
    }

    /// CRC-32 (ISO 3309, as PNG uses it), bit by bit.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

