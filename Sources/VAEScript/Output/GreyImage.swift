import VAEFormats
import VAEKit

/// A grey picture: `width`×`height` values in [0, 1], row-major, 0 black and 1 white.
///
/// What the sampling commands draw into and what the PNG writer and the terminal renderer read.
/// Values outside [0, 1] (a Gaussian decoder's means can overshoot) are clamped when encoded, and
/// NaN shows as black, so a diverged model still gives a picture rather than a crash.
public struct GreyImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// (height, width): pixel (x, y) is `pixels[y * width + x]`.
    public var pixels: [Float]

    /// A `width`×`height` picture filled with `value`.
    public init(width: Int, height: Int, fill value: Float = 0) {
        precondition(width >= 0 && height >= 0, "GreyImage: negative size \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = [Float](repeating: value, count: width * height)
    }

    /// A picture holding `pixels` (height·width values, row-major).
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "GreyImage: \(pixels.count) pixels for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The value as a grey level 0…255: clamped to [0, 1], NaN as 0, rounded to nearest.
    @inline(__always)
    public static func greyLevel(_ value: Float) -> UInt8 {
        guard value == value else { return 0 }
        return UInt8((min(max(value, 0), 1) * 255).rounded())
    }

    /// Each `factor`×`factor` block averaged into one pixel (a partial block at the right or
    /// bottom edge averages what it has): 28×28 by 2 is 14×14.
    public func downsampled(by factor: Int) -> GreyImage {
        precondition(factor >= 1, "downsampled(by:): factor must be at least 1")
        if factor == 1 { return self }
        let newWidth = (width + factor - 1) / factor, newHeight = (height + factor - 1) / factor
        var result = GreyImage(width: newWidth, height: newHeight)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                var sum: Float = 0, count = 0
                for sy in (y * factor)..<min(height, (y + 1) * factor) {
                    for sx in (x * factor)..<min(width, (x + 1) * factor) {
                        let value = self[sx, sy]
                        sum += value == value ? min(max(value, 0), 1) : 0
                        count += 1
                    }
                }
                result[x, y] = sum / Float(count)
            }
        }
        return result
    }

    /// Each pixel drawn as a `factor`×`factor` block (nearest neighbour, no smoothing): a 28×28
    /// digit at 8 is 224×224, sharp on a slide.
    public func scaled(by factor: Int) -> GreyImage {
        GreyImage(width: width * factor, height: height * factor, pixels: scaledPixels(pixels, width: width, height: height, by: factor))
    }

    // MARK: - PNG

    /// The picture as an 8-bit greyscale PNG file.
    public func pngData() -> [UInt8] {
        PNG.encode(width: width, height: height, colour: .grey, pixels: pixels.map(Self.greyLevel))
    }

    /// Writes the picture as a PNG file at `path`, atomically: a failed write leaves any earlier
    /// file there untouched.
    public func writePNG(to path: String) throws(FileError) {
        try AtomicFile.write(pngData(), to: path)
    }
}

/// Row-major pixels of a `width`×`height` picture with each one repeated as a `factor`×`factor`
/// block: nearest-neighbour scaling, for grey and colour pictures alike.
func scaledPixels<Pixel>(_ pixels: [Pixel], width: Int, height: Int, by factor: Int) -> [Pixel] {
    precondition(factor >= 1, "scaled(by:): factor must be at least 1")
    if factor == 1 { return pixels }
    var result: [Pixel] = []
    result.reserveCapacity(pixels.count * factor * factor)
    for y in 0..<(height * factor) {
        let row = (y / factor) * width
        for x in 0..<(width * factor) { result.append(pixels[row + x / factor]) }
    }
    return result
}

/// Pictures of equal size laid out in rows and columns with padding between and around them:
/// how samples, reconstructions and traversals are shown (torchvision's `make_grid`).
///
/// Tiles fill the grid row by row; a nil tile, and the cells after the last tile, are blank.
public struct ImageGrid: Sendable, Equatable {
    /// Every tile is `tileWidth`×`tileHeight`.
    public let tileWidth: Int
    public let tileHeight: Int
    public let columns: Int
    public let tiles: [GreyImage?]
    /// Pixels between tiles and around the grid in `image()`.
    public var padding: Int
    /// The grey of the padding and of blank cells: mid-grey, so black-background digits stay apart.
    public var paddingValue: Float

    public init(tileWidth: Int, tileHeight: Int, columns: Int, tiles: [GreyImage?], padding: Int = 2, paddingValue: Float = 0.5) {
        precondition(tileWidth >= 1 && tileHeight >= 1 && columns >= 1 && padding >= 0, "ImageGrid: invalid layout")
        precondition(tiles.allSatisfy { $0.map { $0.width == tileWidth && $0.height == tileHeight } ?? true }, "ImageGrid: tiles of different sizes")
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.columns = columns
        self.tiles = tiles
        self.padding = padding
        self.paddingValue = paddingValue
    }

    /// Tiles from rows of a matrix (N, width·height), e.g. decoder means or data.
    public init<T: VAEScalar>(_ matrix: Matrix<T>, rows: Int? = nil, tileWidth: Int, tileHeight: Int, columns: Int,
                              padding: Int = 2, paddingValue: Float = 0.5) {
        precondition(matrix.columns == tileWidth * tileHeight, "ImageGrid: \(matrix.columns) values per row for \(tileWidth)×\(tileHeight) tiles")
        let count = rows ?? matrix.rows
        let tiles = (0..<count).map { row -> GreyImage? in
            GreyImage(width: tileWidth, height: tileHeight, pixels: matrix.row(row).map { Float($0) })
        }
        self.init(tileWidth: tileWidth, tileHeight: tileHeight, columns: columns, tiles: tiles, padding: padding, paddingValue: paddingValue)
    }

    /// Rows of tiles (at least one).
    public var rows: Int { max(1, (tiles.count + columns - 1) / columns) }

    /// The tile at (row, column), or nil for a blank cell.
    public func tile(row: Int, column: Int) -> GreyImage? {
        let index = row * columns + column
        return index < tiles.count ? tiles[index] : nil
    }

    /// The tiles that are pictures (not blanks).
    public var pictureCount: Int { tiles.count { $0 != nil } }

    /// The whole grid as one picture: columns·(tileWidth + padding) + padding pixels wide.
    public func image() -> GreyImage {
        let width = columns * (tileWidth + padding) + padding
        let height = rows * (tileHeight + padding) + padding
        var result = GreyImage(width: width, height: height, fill: paddingValue)
        for row in 0..<rows {
            for column in 0..<columns {
                guard let tile = tile(row: row, column: column) else { continue }
                let left = padding + column * (tileWidth + padding), top = padding + row * (tileHeight + padding)
                for y in 0..<tileHeight {
                    for x in 0..<tileWidth { result[left + x, top + y] = tile[x, y] }
                }
            }
        }
        return result
    }
}
