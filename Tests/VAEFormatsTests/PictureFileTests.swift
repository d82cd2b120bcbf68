import Foundation
import Testing
@testable import VAEFormats
import TestSupport
import VAEKit
import VAEScript

/// Pictures: grey images and grids, the PNG writer (decoded back by `PNGTestDecoder`, and by
/// Python's zlib when Python is there) and atomic saves.
@Suite("Pictures: grids, PNG files, atomic saves")
struct PictureFileTests {
    // MARK: - Grids

    @Test func gridLaysTilesOutWithPadding() {
        let white = GreyImage(width: 3, height: 2, fill: 1)
        let black = GreyImage(width: 3, height: 2, fill: 0)
        let grid = ImageGrid(tileWidth: 3, tileHeight: 2, columns: 2, tiles: [white, black, nil, white], padding: 1, paddingValue: 0.5)
        #expect(grid.rows == 2 && grid.pictureCount == 3)
        let image = grid.image()
        #expect(image.width == 2 * (3 + 1) + 1 && image.height == 2 * (2 + 1) + 1)
        #expect(image[0, 0] == 0.5)            // padding
        #expect(image[1, 1] == 1 && image[3, 2] == 1)  // first tile
        #expect(image[4, 1] == 0.5)            // padding between tiles
        #expect(image[5, 1] == 0)              // second tile
        #expect(image[1, 4] == 0.5)            // the blank cell is padding grey
        #expect(image[5, 4] == 1)              // fourth tile
    }

    @Test func gridFromMatrixRows() {
        let matrix = Matrix<Float>(rows: 3, columns: 4, elements: (0..<12).map { Float($0) / 11 })
        let grid = ImageGrid(matrix, tileWidth: 2, tileHeight: 2, columns: 3)
        #expect(grid.tiles.count == 3 && grid.rows == 1)
        #expect(grid.tile(row: 0, column: 1)?.pixels == [4, 5, 6, 7].map { Float($0) / 11 })
        #expect(grid.tile(row: 0, column: 3) == nil)
    }

    @Test func downsamplingAveragesBlocks() {
        let image = GreyImage(width: 3, height: 2, pixels: [0, 1, 0.5, 1, 1, 0.25])
        let half = image.downsampled(by: 2)
        #expect(half.width == 2 && half.height == 1)
        #expect(half.pixels == [0.75, 0.375])
        #expect(GreyImage(width: 28, height: 28).downsampled(by: 2).width == 14)
    }

    @Test func greyLevelsClampAndRound() {
        #expect(GreyImage.greyLevel(0) == 0 && GreyImage.greyLevel(1) == 255)
        #expect(GreyImage.greyLevel(-3) == 0 && GreyImage.greyLevel(7) == 255)
        #expect(GreyImage.greyLevel(.nan) == 0)
        #expect(GreyImage.greyLevel(0.5) == 128)    // 127.5 rounds away from zero
        #expect(GreyImage.greyLevel(.infinity) == 255)
    }

    // MARK: - PNG

    @Test func pngDecodesToTheSamePixels() throws {
        var random = RandomSource(seed: 7)
        let pixels = (0..<(37 * 23)).map { _ in Float(random.uniform()) }
        let image = GreyImage(width: 37, height: 23, pixels: pixels)
        let decoded = try PNGTestDecoder.decode(image.pngData())
        #expect(decoded.width == 37 && decoded.height == 23)
        #expect(decoded.bitDepth == 8 && decoded.colourType == 0)
        #expect(decoded.pixels == pixels.map(GreyImage.greyLevel))
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
    }

    @Test func pngOfAGridHasTheGridsSizeAndRange() throws {
        let tiles = (0..<16).map { index in GreyImage(width: 28, height: 28, fill: Float(index) / 15) }
        let grid = ImageGrid(tileWidth: 28, tileHeight: 28, columns: 8, tiles: tiles)
        let decoded = try PNGTestDecoder.decode(grid.image().pngData())
        #expect(decoded.width == 8 * 30 + 2 && decoded.height == 2 * 30 + 2)
        #expect(decoded.pixels.min() == 0 && decoded.pixels.max() == 255)
        #expect(decoded.pixels[0] == 128)   // the padding's mid-grey
    }

    @Test("Python's zlib reads our PNG too", .enabled(if: PythonForPNG.path != nil, "python3 not found: only the Swift decoder checked the PNG"))
    func pythonReadsThePNG() throws {
        let image = GreyImage(width: 5, height: 3, pixels: [0, 0.25, 0.5, 0.75, 1, 1, 0.75, 0.5, 0.25, 0, 0.1, 0.2, 0.3, 0.4, 0.5])
        let directory = try TemporaryFolderForPictures()
        let path = directory.path + "/tiny.png"
        try image.writePNG(to: path)
        let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat, size = 8, b'', None
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            assert struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
            if kind == b'IHDR': size = struct.unpack('>IIBBBBB', body)
            if kind == b'IDAT': idat += body
            pos += 12 + length
        width, height = size[0], size[1]
        raw = zlib.decompress(idat)
        rows = [raw[y * (width + 1):(y + 1) * (width + 1)] for y in range(height)]
        assert all(row[0] == 0 for row in rows)
        print(width, height, ' '.join(str(b) for row in rows for b in row[1:]))
        """
        let output = try PythonForPNG.run(script, arguments: [path])
        let expected = "5 3 " + image.pixels.map { String(GreyImage.greyLevel($0)) }.joined(separator: " ")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    // MARK: - Saving

    @Test func writePNGReplacesAtomically() throws {
        let directory = try TemporaryFolderForPictures()
        let path = directory.path + "/grid.png"
        try GreyImage(width: 2, height: 2, fill: 0).writePNG(to: path)
        try GreyImage(width: 4, height: 3, fill: 1).writePNG(to: path)
        let decoded = try PNGTestDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(decoded.width == 4 && decoded.height == 3 && decoded.pixels.allSatisfy { $0 == 255 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["grid.png"], "no temporary left behind")
    }

    @Test func saveIntoAMissingFolderIsATypedError() {
        let path = "/nonexistent-vaesh-folder/samples.png"
        #expect(throws: FileError.system(ENOENT, path: path, operation: .save(.createTemporary))) {
            try GreyImage(width: 2, height: 2).writePNG(to: path)
        }
        let error = FileError.system(ENOENT, path: path, operation: .save(.createTemporary))
        #expect(error.message == "/nonexistent-vaesh-folder/samples.png: cannot save (creating a temporary file beside it): no such file or directory")
        #expect(error.hint == "the folder does not exist; create it first or save elsewhere")
    }

    @Test(arguments: [(FileError.SaveStep.write, ENOSPC), (.sync, EIO), (.replace, EACCES), (.createTemporary, EROFS)])
    func failedSaveLeavesTheOldFile(step: FileError.SaveStep, code: Int32) throws {
        let directory = try TemporaryFolderForPictures()
        let path = directory.path + "/keep.png"
        let original = GreyImage(width: 3, height: 3, fill: 0.25).pngData()
        try AtomicFile.write(original, to: path)
        #expect(throws: FileError.system(code, path: path, operation: .save(step))) {
            try AtomicFile.write(GreyImage(width: 9, height: 9, fill: 1).pngData(), to: path) { $0 == step ? code : nil }
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == original)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["keep.png"])
        #expect(FileError.system(code, path: path, operation: .save(step)).hint?.contains("unchanged") == true)
    }

    @Test func aFolderIsNotAFileName() throws {
        let directory = try TemporaryFolderForPictures()
        #expect(throws: FileError.self) { try GreyImage(width: 1, height: 1).writePNG(to: directory.path) }
    }
}

/// A fresh folder under the temporary directory, removed afterwards.
final class TemporaryFolderForPictures {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-pictures-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// python3, for an independent reading of our PNG files.
enum PythonForPNG {
    static let path: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static func run(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = ["-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 failed")
        return String(decoding: data, as: UTF8.self)
    }
}
