/// The PNG writer: 8-bit greyscale or RGB, no interlace, one IDAT chunk of zlib-deflated
/// scanlines, each with filter type 0 (none).
///
/// Filter 0 keeps the writer a few lines long; deflate still shrinks MNIST-like pictures, mostly
/// black, to a fraction of their size.
public enum PNG {
    /// How a pixel is stored: one grey byte, or red, green and blue bytes.
    public enum Colour: Sendable {
        case grey
        case rgb

        var channels: Int { self == .grey ? 1 : 3 }
        /// The IHDR colour type: 0 greyscale, 2 truecolour.
        var code: UInt8 { self == .grey ? 0 : 2 }
    }

    /// The PNG file of a `width`×`height` picture whose rows of `pixels` (height·width·channels
    /// bytes, row-major, top first) hold grey levels or RGB triples.
    public static func encode(width: Int, height: Int, colour: Colour = .grey, pixels: [UInt8]) -> [UInt8] {
        precondition(width >= 1 && height >= 1 && width <= Int(Int32.max) && height <= Int(Int32.max),
                     "PNG.encode: a PNG is 1…2³¹−1 pixels each way, not \(width)×\(height)")
        let rowBytes = width * colour.channels
        precondition(pixels.count == rowBytes * height, "PNG.encode: \(pixels.count) bytes for \(width)×\(height)")
        var scanlines = [UInt8]()
        scanlines.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            scanlines.append(0)  // filter type: none
            scanlines += pixels[(y * rowBytes)..<((y + 1) * rowBytes)]
        }
        var header = [UInt8]()
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, colour.code, 0, 0, 0]  // bit depth 8, colour type, deflate, adaptive filtering, no interlace

        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", Zlib.compress(scanlines, format: .zlib, level: 9), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// A chunk: length, type, data, CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file += bigEndian(UInt32(data.count))
        file += typeBytes
        file += data
        let crc = typeBytes.withUnsafeBytes { typeBuffer in
            data.withUnsafeBytes { dataBuffer in
                Zlib.crc32(dataBuffer, continuing: Zlib.crc32(typeBuffer))
            }
        }
        file += bigEndian(crc)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
