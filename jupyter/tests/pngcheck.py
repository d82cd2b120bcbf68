"""Decodes a PNG far enough to prove it whole: signature, chunk CRCs, IHDR, the zlib stream and
the size of the pixels it inflates to. No imaging library needed."""

import struct
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def decode_png(data):
    """(width, height, scanlines) of an 8-bit, non-interlaced PNG; AssertionError if damaged."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", "IHDR first and IEND last"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0 and colour in CHANNELS, "8-bit, not interlaced"
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    row = 1 + width * CHANNELS[colour]
    assert len(pixels) == height * row, "the pixels do not fill the picture"
    return width, height, [pixels[y * row + 1:(y + 1) * row] for y in range(height)]
