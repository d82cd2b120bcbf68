import VAEFormats

/// A colour: red, green and blue bytes (sRGB, as a PNG stores them).
public struct RGB: Sendable, Hashable {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A grey of level `value` in [0, 1] (clamped, NaN black), as `GreyImage` encodes it.
    public init(grey value: Float) {
        let level = GreyImage.greyLevel(value)
        self.init(level, level, level)
    }

    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0)

    /// Whether red, green and blue are equal: a picture of greys only is written as a grey PNG.
    var isGrey: Bool { red == green && green == blue }

    /// The nearest colour of the xterm 256-colour palette's 6×6×6 cube (16…231), or of its grey
    /// ramp when that is nearer: what a terminal without 24-bit colour can show.
    var paletteIndex: Int {
        func level(_ value: UInt8) -> Int {  // the cube's levels are 0, 95, 135, 175, 215, 255
            value < 48 ? 0 : value < 115 ? 1 : (Int(value) - 35) / 40
        }
        let (r, g, b) = (level(red), level(green), level(blue))
        let cubeValue = { (l: Int) in l == 0 ? 0 : 55 + 40 * l }
        let cubeDistance = [(red, r), (green, g), (blue, b)].reduce(0) { $0 + (Int($1.0) - cubeValue($1.1)) * (Int($1.0) - cubeValue($1.1)) }
        let mean = (Int(red) + Int(green) + Int(blue)) / 3
        let grey = TerminalPicture.paletteGrey(UInt8(mean))
        let greyValue = grey == 16 ? 0 : grey == 231 ? 255 : 8 + 10 * (grey - 232)
        let greyDistance = [red, green, blue].reduce(0) { $0 + (Int($1) - greyValue) * (Int($1) - greyValue) }
        return greyDistance < cubeDistance ? grey : 16 + 36 * r + 6 * g + b
    }
}

/// A colour picture: `width`×`height` RGB pixels, row-major, top row first.
///
/// What the latent-space scatter and every chart are drawn into (`PlotCanvas`); a grey picture
/// converts to one without loss, and one holding only greys is written as a grey PNG, a third of
/// the bytes.
public struct ColourImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// (height, width): pixel (x, y) is `pixels[y * width + x]`.
    public var pixels: [RGB]

    public init(width: Int, height: Int, fill: RGB = .white) {
        precondition(width >= 0 && height >= 0, "ColourImage: negative size \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = [RGB](repeating: fill, count: width * height)
    }

    /// The grey picture in colour.
    public init(_ grey: GreyImage) {
        width = grey.width
        height = grey.height
        pixels = grey.pixels.map(RGB.init(grey:))
    }

    public subscript(x: Int, y: Int) -> RGB {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Each pixel drawn as a `factor`×`factor` block (nearest neighbour), as `GreyImage.scaled`.
    public func scaled(by factor: Int) -> ColourImage {
        var result = ColourImage(width: width * factor, height: height * factor)
        result.pixels = scaledPixels(pixels, width: width, height: height, by: factor)
        return result
    }

    /// The picture as an 8-bit PNG: RGB (colour type 2), or greyscale (0) when every pixel is grey.
    public func pngData() -> [UInt8] {
        if pixels.allSatisfy(\.isGrey) {
            return PNG.encode(width: width, height: height, colour: .grey, pixels: pixels.map(\.red))
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(pixels.count * 3)
        for pixel in pixels { bytes += [pixel.red, pixel.green, pixel.blue] }
        return PNG.encode(width: width, height: height, colour: .rgb, pixels: bytes)
    }
}
