import Foundation
import Testing
@testable import VAEFormats
@testable import VAEKit
import VAEScript

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Helpers

/// The error `body` throws, or nil when it succeeds. Any other error fails the test.
private func checkpointError(_ body: () throws -> Void) -> (any DescribedError)? {
    do {
        try body()
        return nil
    } catch let error as any DescribedError {
        return error
    } catch {
        Issue.record("expected a SafeTensorsError or FileError, got \(error)")
        return nil
    }
}

/// A safetensors file: the 8-byte length, `header` as given (no padding), then `data`.
private func safetensorsBytes(_ header: String, data: [UInt8] = []) -> [UInt8] {
    safetensorsBytes(headerBytes: Array(header.utf8), data: data)
}

private func safetensorsBytes(headerBytes: [UInt8], data: [UInt8] = []) -> [UInt8] {
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian, Array.init) + headerBytes + data
}

/// A file whose first 8 bytes claim a header of `length` bytes, followed by `rest`.
private func safetensorsBytes(claimedHeaderLength length: UInt64, rest: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: length.littleEndian, Array.init) + rest
}

/// A file whose header is the object of `entries`, followed by `data`.
private func safetensorsBytes(entries: String..., data: [UInt8]) -> [UInt8] {
    safetensorsBytes("{" + entries.joined(separator: ",") + "}", data: data)
}

/// One tensor entry of a header, as JSON.
private func tensorEntry(_ name: String, _ dtype: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
}

/// One F32 tensor entry.
private func tensorEntry(_ name: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
    tensorEntry(name, "F32", shape, begin, end)
}

/// The little-endian bytes of `values` as F32.
private func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
}

private func bitPatterns(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

private func safetensorsFixture(_ name: String) throws -> String {
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return fixtures.appendingPathComponent("safetensors").appendingPathComponent(name).path
}

/// A fresh empty directory, removed when the test's `defer` calls `remove`.
private struct SafeTensorsScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vaekit-safetensors-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Names in the directory, hidden ones included, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() {
        chmod(path, 0o755)
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// What a `.expected` file (see make_safetensors_fixture.py) says a file holds, one line per
/// tensor (`NAME [SHAPE] BITS...`, bits as 8 hex digits) and per metadata entry
/// (`__metadata__ KEYHEX VALUEHEX`). Both the fixture checks and the Python round trip use it.
private struct SafeTensorsContents: Equatable, CustomStringConvertible {
    var tensors: [(name: String, shape: [Int], bits: [UInt32])]
    var metadata: [String: String]

    init(tensors: [(name: String, shape: [Int], bits: [UInt32])], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    init(_ file: SafeTensorsFile) {
        self.init(tensors: file.tensors.map { ($0.name, $0.shape, bitPatterns($0.values)) }, metadata: file.metadata)
    }

    init(text: String) throws {
        tensors = []
        metadata = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if fields[0] == "__metadata__" {
                let key = try #require(Self.utf8(hex: fields[1]))
                metadata[key] = try #require(Self.utf8(hex: fields.count > 2 ? fields[2] : ""))
            } else {
                let shape = try fields[1].dropFirst().dropLast().split(separator: ",").map { try #require(Int($0)) }
                let values = try fields.dropFirst(2).filter { !$0.isEmpty }.map { try #require(UInt32($0, radix: 16)) }
                tensors.append((fields[0], shape, values))
            }
        }
    }

    private static func utf8(hex: String) -> String? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index ... index + 1], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func == (left: Self, right: Self) -> Bool {
        left.description == right.description
    }

    var description: String {
        tensors.map { "\($0.name) \($0.shape) \($0.bits.map { String($0, radix: 16) })" }.joined(separator: "\n")
            + "\n" + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
    }
}

// MARK: - Round trips

@Suite("SafeTensors")
struct SafeTensorsTests {
    /// Values a careless encoder would mangle: NaN payloads, a signalling NaN, −0, infinities,
    /// the smallest subnormal and the largest Float.
    static let awkwardFloats: [Float] = [
        Float(bitPattern: 0x7FC1_2345), Float(bitPattern: 0x7F80_0001), -0.0, .infinity, -.infinity,
        Float(bitPattern: 1), .greatestFiniteMagnitude, 0.1, -1e-30, 3,
    ]

    static let sample = SafeTensorsFile(
        tensors: [
            StoredTensor(name: "fc1.weight", shape: [2, 5], values: awkwardFloats),
            StoredTensor(name: "fc1.bias", shape: [2], values: [1.5, -2.25]),
            StoredTensor(name: "décodeur.μ \"quoted\" back\\slash", shape: [3], values: [1, 2, 3]),
            StoredTensor(name: "new\nline\u{1}", shape: [], values: [7]),
            StoredTensor(name: "empty", shape: [0, 4], values: []),
            StoredTensor(name: "empty2", shape: [3, 0], values: []),
        ],
        metadata: ["architecture": "784-400-20", "note": "ünïcödé \"quotes\"\n\ttabs \u{1F600}", "": "empty key"])

    @Test func roundTripInMemoryIsBitIdentical() throws {
        let bytes = Self.sample.encoded()
        let decoded = try SafeTensorsFile.decode(bytes, fileName: "sample.safetensors")
        #expect(SafeTensorsContents(decoded) == SafeTensorsContents(Self.sample))
        #expect(decoded.tensors.map(\.name) == Self.sample.tensors.map(\.name), "write keeps the tensors' order")
        #expect(decoded.metadata == Self.sample.metadata)
        #expect(decoded.fileName == "sample.safetensors")
        #expect(decoded.encoded() == bytes, "encoding is deterministic")
    }

    @Test func headerIsPaddedWithSpacesToEightBytes() throws {
        let bytes = Self.sample.encoded()
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0)
        let header = try #require(String(validating: bytes[8 ..< 8 + length], as: UTF8.self))
        #expect(header.hasPrefix("{\"__metadata__\":{"))
        let trimmed = header.reversed().drop { $0 == " " }
        #expect(trimmed.first == "}")
        #expect(header.count - trimmed.count < 8)
    }

    /// The exact bytes the reference implementation's own tests expect for these inputs.
    @Test func encodesLikeTheReferenceWriter() {
        let empty = SafeTensorsFile(tensors: [])
        #expect(empty.encoded() == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))

        let withMetadata = SafeTensorsFile(tensors: [], metadata: ["framework": "pt"])
        #expect(withMetadata.encoded() == safetensorsBytes("{\"__metadata__\":{\"framework\":\"pt\"}}     "))

        let one = SafeTensorsFile(tensors: [StoredTensor(name: "attn0", shape: [1, 1, 2, 3], values: [0, 1, 2, 3, 4, 5])])
        let header = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}" + String(repeating: " ", count: 7)
        #expect(one.encoded() == safetensorsBytes(header, data: float32Bytes([0, 1, 2, 3, 4, 5])))
    }

    @Test func roundTripThroughAFile() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("model.safetensors")
        try Self.sample.write(path: path)
        let read = try SafeTensorsFile.read(path: path)
        #expect(SafeTensorsContents(read) == SafeTensorsContents(Self.sample))
        #expect(read.fileName == path)
        #expect(try directory.contents() == ["model.safetensors"], "no temporary file is left behind")

        // Overwriting replaces the file whole.
        let smaller = SafeTensorsFile(tensors: [StoredTensor(name: "x", shape: [1], values: [4])])
        try smaller.write(path: path)
        #expect(SafeTensorsContents(try SafeTensorsFile.read(path: path)) == SafeTensorsContents(smaller))
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func requireFindsTensorsAndNamesWhatIsWrong() throws {
        let file = SafeTensorsFile(
            tensors: [StoredTensor(name: "fc1.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])],
            fileName: "vae.safetensors")
        #expect(file["fc1.weight"]?.shape == [2, 3])
        #expect(file["fc2.weight"] == nil)
        // Mapping onto a model is the engine's: it names the file, the tensor and what it holds.
        let tensors = file.tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) }
        #expect(try Checkpoint.require("fc1.weight", shape: [2, 3], in: tensors, file: "vae.safetensors").values == [1, 2, 3, 4, 5, 6])
        #expect(throws: CheckpointError.missingTensor(file: "vae.safetensors", tensor: "fc1.bias", available: ["fc1.weight"])) {
            _ = try Checkpoint.require("fc1.bias", shape: [2], in: tensors, file: "vae.safetensors")
        }
        let missing = CheckpointError.missingTensor(file: "vae.safetensors", tensor: "fc1.bias", available: ["fc1.weight"])
        #expect(missing.message == "vae.safetensors: missing tensor 'fc1.bias'")
        #expect(missing.hint == "the file holds 'fc1.weight'")
        #expect(throws: CheckpointError.shapeMismatch(file: "vae.safetensors", tensor: "fc1.weight", shape: [2, 3], expected: [3, 2])) {
            _ = try Checkpoint.require("fc1.weight", shape: [3, 2], in: tensors, file: "vae.safetensors")
        }
        #expect(CheckpointError.shapeMismatch(file: "vae.safetensors", tensor: "fc1.weight", shape: [2, 3], expected: [3, 2]).message
                == "vae.safetensors: tensor 'fc1.weight' has shape [2, 3], expected [3, 2]")
    }

    // MARK: - Files written by Python's safetensors

    /// The pytorch/examples VAE layout, written by `safetensors` exactly as `save_file(model.state_dict())` does.
    @Test func readsThePyTorchLayoutFixture() throws {
        let read = try SafeTensorsFile.read(path: try safetensorsFixture("vae_tiny.safetensors"))
        let expected = try SafeTensorsContents(text: String(contentsOfFile: try safetensorsFixture("vae_tiny.expected"), encoding: .utf8))
        #expect(SafeTensorsContents(read) == expected)
        #expect(read.metadata.isEmpty)
        #expect(read.tensors.map(\.name) == [
            "fc1.bias", "fc1.weight", "fc21.bias", "fc21.weight", "fc22.bias", "fc22.weight",
            "fc3.bias", "fc3.weight", "fc4.bias", "fc4.weight",
        ])
        #expect(read["fc1.weight"]?.shape == [4, 6] && read["fc1.weight"]?.values.count == 24)
        #expect(read["fc4.weight"]?.shape == [6, 4] && read["fc4.weight"]?.values.count == 24)
    }

    /// Re-encoding what Python wrote reproduces its bytes exactly: same JSON, order, padding.
    @Test func reencodingThePythonFixtureReproducesItsBytes() throws {
        let path = try safetensorsFixture("vae_tiny.safetensors")
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try SafeTensorsFile.read(path: path).encoded() == original)
    }

    @Test func convertsF64AndF16ToFloat() throws {
        let read = try SafeTensorsFile.read(path: try safetensorsFixture("dtypes.safetensors"))
        let expected = try SafeTensorsContents(text: String(contentsOfFile: try safetensorsFixture("dtypes.expected"), encoding: .utf8))
        #expect(SafeTensorsContents(read) == expected)
        #expect(read.metadata == ["note": "F64 and F16 read as Float"])
        #expect(read["scalar"]?.shape == [])
        #expect(read["empty"]?.shape == [0, 3])
    }

    @Test func convertsBF16ToFloat() throws {
        let halves: [UInt16] = [0x3F80, 0xC049, 0x7F80, 0x0001, 0x8000, 0x7FC1]
        let data = halves.flatMap { value in withUnsafeBytes(of: value.littleEndian, Array.init) }
        let read = try SafeTensorsFile.decode(safetensorsBytes(entries: tensorEntry("b", "BF16", "[6]", 0, 12), data: data), fileName: "bf16")
        #expect(read["b"].map { bitPatterns($0.values) } == halves.map { UInt32($0) << 16 })
    }

    #if !(os(macOS) && arch(x86_64))
    /// Every one of the 65,536 half-precision values converts as the hardware's Float16 does.
    @Test func halfConversionMatchesFloat16Everywhere() {
        var mismatches: [UInt16] = []
        for pattern in UInt16.min ... UInt16.max {
            let ours = HalfPrecision.float(pattern)
            let reference = Float(Float16(bitPattern: pattern))
            let same = ours.isNaN ? reference.isNaN : ours.bitPattern == reference.bitPattern
            if !same { mismatches.append(pattern) }
        }
        #expect(mismatches.isEmpty)
    }
    #endif

    // MARK: - Corrupt files

    /// A corrupt file: what is wrong, its bytes, and the expected message after "FILE: ".
    struct Corrupt: Sendable {
        var what: String
        var bytes: [UInt8]
        var message: String
        init(_ what: String, _ bytes: [UInt8], _ message: String) {
            self.what = what
            self.bytes = bytes
            self.message = message
        }
    }

    static let corruptFiles: [Corrupt] = {
        let one = float32Bytes([1])
        let two = float32Bytes([1, 2])
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        return [
            Corrupt("empty", [], "file is empty"),
            Corrupt("shorter than 8 bytes", [1, 0, 0, 0, 0], "file is only 5 bytes; a safetensors file starts with an 8-byte header length"),
            Corrupt("2 GB header length", safetensorsBytes(claimedHeaderLength: 0x8000_0000, rest: Array(repeating: 0x20, count: 92)),
             "header length 2147483648 is larger than the file (100 bytes)"),
            Corrupt("UInt64.max header length", safetensorsBytes(claimedHeaderLength: .max, rest: Array("{}      ".utf8)),
             "header length 18446744073709551615 is larger than the file (16 bytes)"),
            Corrupt("header one byte past the end", safetensorsBytes(claimedHeaderLength: 9, rest: Array("{}      ".utf8)),
             "header length 9 is larger than the file (16 bytes)"),
            Corrupt("header not UTF-8", safetensorsBytes(headerBytes: [0x7B, 0xFF, 0x7D]), "header is not valid UTF-8"),
            Corrupt("empty header", safetensorsBytes(""), "header is not valid JSON: the header is empty"),
            Corrupt("header of spaces", safetensorsBytes("        "), "header is not valid JSON: the header holds only spaces"),
            Corrupt("truncated JSON", safetensorsBytes("{\"a\":"), "header is not valid JSON: unexpected end of the header at header byte 6"),
            Corrupt("junk after the JSON", safetensorsBytes("{}x"), "header is not valid JSON: unexpected 'x' after the JSON value at header byte 3"),
            Corrupt("NUL padding", safetensorsBytes(headerBytes: Array("{}".utf8) + [0, 0]), "header is not valid JSON: unexpected byte 0x00 after the JSON value at header byte 3"),
            Corrupt("missing colon", safetensorsBytes("{\"a\" 1}"), "header is not valid JSON: expected ':' after a key, found '1' at header byte 6"),
            Corrupt("missing comma", safetensorsBytes("{\"a\":{} \"b\":{}}"), "header is not valid JSON: expected ',' or '}' in an object, found '\"' at header byte 9"),
            Corrupt("bare key", safetensorsBytes("{a:1}"), "header is not valid JSON: expected a string key, found 'a' at header byte 2"),
            Corrupt("leading zero", safetensorsBytes("{\"a\":[01]}"), "header is not valid JSON: a number cannot have a leading zero at header byte 8"),
            Corrupt("bad literal", safetensorsBytes("{\"a\":tru}"), "header is not valid JSON: unexpected '}' (expected 'true') at header byte 9"),
            Corrupt("bad escape", safetensorsBytes("{\"a\\q\":1}"), "header is not valid JSON: invalid escape '\\'q'' in a string at header byte 5"),
            Corrupt("control character", safetensorsBytes("{\"a\tb\":1}"), "header is not valid JSON: control character byte 0x09 in a string at header byte 4"),
            Corrupt("lone surrogate", safetensorsBytes("{\"\\ud800\":1}"), "header is not valid JSON: unpaired UTF-16 surrogate in a \\u escape at header byte 9"),
            Corrupt("unterminated string", safetensorsBytes("{\"abc"), "header is not valid JSON: unterminated string at header byte 6"),
            Corrupt("nesting bomb", safetensorsBytes("{\"a\":" + deep + "}"), "header is not valid JSON: nested deeper than 64 levels at header byte 69"),
            Corrupt("duplicate tensor", safetensorsBytes(entries: tensorEntry("a", "[1]", 0, 4), tensorEntry("a", "[1]", 0, 4), data: one),
             "header is not valid JSON: duplicate key 'a' at header byte 55"),
            Corrupt("array header", safetensorsBytes("[1,2]"), "header is an array, expected a JSON object"),
            Corrupt("string header", safetensorsBytes("\"hi\""), "header is a string, expected a JSON object"),
            Corrupt("entry not an object", safetensorsBytes("{\"a\":5}"), "tensor 'a': is a number, expected an object with dtype, shape and data_offsets"),
            Corrupt("newline in a name", safetensorsBytes("{\"a\\nb\":null}"), "tensor 'a\\nb': is null, expected an object with dtype, shape and data_offsets"),
            Corrupt("missing dtype", safetensorsBytes("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: one), "tensor 'a': missing \"dtype\""),
            Corrupt("missing shape", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", data: one), "tensor 'a': missing \"shape\""),
            Corrupt("missing data_offsets", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: one), "tensor 'a': missing \"data_offsets\""),
            Corrupt("dtype a number", safetensorsBytes("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", data: one),
             "tensor 'a': \"dtype\" is a number, expected a string such as \"F32\""),
            Corrupt("shape a string", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", data: one),
             "tensor 'a': \"shape\" is a string, expected an array of integers"),
            Corrupt("offsets an object", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", data: one),
             "tensor 'a': \"data_offsets\" is {…}, expected [begin, end] with non-negative integers"),
            Corrupt("one offset", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", data: one),
             "tensor 'a': \"data_offsets\" is [0], expected [begin, end] with non-negative integers"),
            Corrupt("three offsets", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", data: one),
             "tensor 'a': \"data_offsets\" is [0, 4, 4], expected [begin, end] with non-negative integers"),
            Corrupt("negative offset", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", data: one),
             "tensor 'a': \"data_offsets\" is [-4, 0], expected [begin, end] with non-negative integers"),
            Corrupt("fractional offset", safetensorsBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", data: one),
             "tensor 'a': \"data_offsets\" is [0, 4.0], expected [begin, end] with non-negative integers"),
            Corrupt("unknown dtype", safetensorsBytes(entries: tensorEntry("a", "f32", "[1]", 0, 4), data: one), "tensor 'a' has unknown dtype 'f32'"),
            Corrupt("I64", safetensorsBytes(entries: tensorEntry("steps", "I64", "[1]", 0, 8), data: two),
             "tensor 'steps' has dtype I64; vaesh reads only F32, F64, F16 and BF16 tensors"),
            Corrupt("I32", safetensorsBytes(entries: tensorEntry("a", "I32", "[1]", 0, 4), data: one), "tensor 'a' has dtype I32; vaesh reads only F32, F64, F16 and BF16 tensors"),
            Corrupt("U8", safetensorsBytes(entries: tensorEntry("a", "U8", "[4]", 0, 4), data: one), "tensor 'a' has dtype U8; vaesh reads only F32, F64, F16 and BF16 tensors"),
            Corrupt("BOOL", safetensorsBytes(entries: tensorEntry("a", "BOOL", "[4]", 0, 4), data: one), "tensor 'a' has dtype BOOL; vaesh reads only F32, F64, F16 and BF16 tensors"),
            Corrupt("negative dimension", safetensorsBytes(entries: tensorEntry("a", "[2,-1]", 0, 4), data: one),
             "tensor 'a' has shape [2, -1]; dimensions must be non-negative integers"),
            Corrupt("fractional dimension", safetensorsBytes(entries: tensorEntry("a", "[2.5]", 0, 4), data: one),
             "tensor 'a' has shape [2.5]; dimensions must be non-negative integers"),
            Corrupt("dimension 1.0", safetensorsBytes(entries: tensorEntry("a", "[1.0]", 0, 4), data: one),
             "tensor 'a' has shape [1.0]; dimensions must be non-negative integers"),
            Corrupt("dimension with exponent", safetensorsBytes(entries: tensorEntry("a", "[1e0]", 0, 4), data: one),
             "tensor 'a' has shape [1e0]; dimensions must be non-negative integers"),
            Corrupt("dimension a string", safetensorsBytes(entries: tensorEntry("a", "[\"1\"]", 0, 4), data: one),
             "tensor 'a' has shape [\"1\"]; dimensions must be non-negative integers"),
            Corrupt("dimension beyond Int", safetensorsBytes(entries: tensorEntry("a", "[99999999999999999999]", 0, 4), data: one),
             "tensor 'a' has shape [99999999999999999999]; dimensions must be non-negative integers"),
            Corrupt("element count overflows", safetensorsBytes(entries: tensorEntry("a", "[4294967296,4294967296]", 0, 4), data: one),
             "tensor 'a' has shape [4294967296, 4294967296], too large to address"),
            Corrupt("byte size overflows", safetensorsBytes(entries: tensorEntry("a", "[2305843009213693952]", 0, 4), data: one),
             "tensor 'a' has shape [2305843009213693952], too large to address"),
            Corrupt("size does not match", safetensorsBytes(entries: tensorEntry("a", "[2,3]", 0, 8), data: two),
             "tensor 'a' is F32 [2, 3] but its data_offsets [0, 8] span 8 bytes"),
            Corrupt("F64 size does not match", safetensorsBytes(entries: tensorEntry("a", "F64", "[2]", 0, 8), data: two),
             "tensor 'a' is F64 [2] but its data_offsets [0, 8] span 8 bytes"),
            Corrupt("end before begin", safetensorsBytes(entries: tensorEntry("a", "[1]", 8, 4), data: two),
             "tensor 'a' has data_offsets [8, 4]: end is before begin"),
            Corrupt("offsets past the data", safetensorsBytes(entries: tensorEntry("a", "[100]", 0, 400), data: two),
             "tensor 'a' has data_offsets [0, 400], past the end of the data (8 bytes)"),
            Corrupt("overlapping tensors", safetensorsBytes(entries: tensorEntry("a", "[2]", 0, 8), tensorEntry("b", "[2]", 4, 12), data: float32Bytes([1, 2, 3])),
             "tensor 'b' starts at data offset 4, inside tensor 'a' (which ends at 8)"),
            Corrupt("same bytes twice", safetensorsBytes(entries: tensorEntry("a", "[1]", 0, 4), tensorEntry("b", "[1]", 0, 4), data: one),
             "tensor 'b' starts at data offset 0, inside tensor 'a' (which ends at 4)"),
            Corrupt("gap between tensors", safetensorsBytes(entries: tensorEntry("a", "[1]", 0, 4), tensorEntry("b", "[1]", 8, 12), data: float32Bytes([1, 2, 3])),
             "4 bytes of data before tensor 'b' (offsets 4 to 8) belong to no tensor"),
            Corrupt("gap at the start", safetensorsBytes(entries: tensorEntry("a", "[1]", 4, 8), data: two),
             "4 bytes of data before tensor 'a' (offsets 0 to 4) belong to no tensor"),
            Corrupt("bytes after the last tensor", safetensorsBytes(entries: tensorEntry("a", "[1]", 0, 4), data: two),
             "4 bytes after the last tensor (data offsets 4 to 8) belong to no tensor"),
            Corrupt("data but no tensors", safetensorsBytes("{}", data: one), "4 bytes after the last tensor (data offsets 0 to 4) belong to no tensor"),
            Corrupt("metadata a string", safetensorsBytes("{\"__metadata__\":\"x\"}"), "__metadata__ is a string, expected an object of strings"),
            Corrupt("metadata value a number", safetensorsBytes("{\"__metadata__\":{\"epochs\":10}}"),
             "__metadata__ value of 'epochs' is a number, expected a string"),
            Corrupt("metadata value an object", safetensorsBytes("{\"__metadata__\":{\"k\":{}}}"), "__metadata__ value of 'k' is an object, expected a string"),
        ]
    }()

    @Test func everyCorruptFileGivesItsMessage() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        for (index, corrupt) in Self.corruptFiles.enumerated() {
            let (what, bytes, expected) = (corrupt.what, corrupt.bytes, corrupt.message)
            let decoded = checkpointError { _ = try SafeTensorsFile.decode(bytes, fileName: "bad.safetensors") }
            #expect(decoded?.message == "bad.safetensors: " + expected, "\(what)")
            #expect(decoded?.message.contains("\n") == false, "\(what): the message is one line")

            // The same bytes on disk give the same error, naming the path.
            let path = directory.file("case\(index).safetensors")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let read = checkpointError { _ = try SafeTensorsFile.read(path: path) }
            #expect(read?.message == path + ": " + expected, "\(what), read from a file")
        }
    }

    @Test func corruptFilesHintAtTheCause() {
        let truncated = checkpointError { _ = try SafeTensorsFile.decode(safetensorsBytes(claimedHeaderLength: 1 << 31, rest: [0]), fileName: "m") }
        #expect(truncated?.hint == "the file is truncated, damaged, or not a safetensors file")
        let integer = checkpointError {
            _ = try SafeTensorsFile.decode(safetensorsBytes(entries: tensorEntry("a", "I64", "[1]", 0, 8), data: float32Bytes([0, 0])), fileName: "m")
        }
        #expect(integer?.hint?.hasPrefix("convert the tensors to float32 before saving") == true)
    }

    @Test func fileLevelErrorsNameThePath() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let missing = directory.file("nope.safetensors")
        #expect(checkpointError { _ = try SafeTensorsFile.read(path: missing) }?.message == "\(missing): no such file")
        #expect(checkpointError { _ = try SafeTensorsFile.read(path: directory.path) }?.message
            == "\(directory.path): is a folder, not a safetensors file")
        #expect(checkpointError { _ = try SafeTensorsFile.read(path: "/dev/null") }?.message == "/dev/null: not a regular file (a pipe, socket or device)")
        let fifo = directory.file("pipe.safetensors")
        try #require(mkfifo(fifo, 0o644) == 0)
        #expect(checkpointError { _ = try SafeTensorsFile.read(path: fifo) }?.message == "\(fifo): not a regular file (a pipe, socket or device)",
                "a FIFO with no writer is refused, not waited on")
    }

    @Test(.enabled(if: geteuid() != 0, "root reads files whatever their permissions"))
    func unreadableFileNamesThePath() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("locked.safetensors")
        try SafeTensorsTests.sample.write(path: path)
        chmod(path, 0)
        #expect(checkpointError { _ = try SafeTensorsFile.read(path: path) }?.message == "\(path): cannot read: permission denied")
    }

    /// The header length is checked against the file size before the header is read or any memory
    /// is set aside for it: a sparse 100 MB file claiming a header past the limit costs nothing.
    @Test func headerLengthIsCheckedBeforeReading() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("huge.safetensors")
        let limit = SafeTensorsFile.maximumHeaderLength
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o644)
        try #require(descriptor >= 0)
        let prefix = withUnsafeBytes(of: UInt64(limit + 1).littleEndian, Array.init)
        #expect(prefix.withUnsafeBytes { write(descriptor, $0.baseAddress, 8) } == 8)
        #expect(ftruncate(descriptor, off_t(limit + 16)) == 0)
        close(descriptor)
        let error = checkpointError { _ = try SafeTensorsFile.read(path: path) }
        #expect(error?.message == "\(path): header length \(limit + 1) exceeds the limit of \(limit) bytes")
    }

    // MARK: - Fuzzing

    @Test func everyTruncationIsRefused() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try safetensorsFixture("vae_tiny.safetensors"))))
        for length in 0 ..< bytes.count {
            let error = checkpointError { _ = try SafeTensorsFile.decode(Array(bytes.prefix(length)), fileName: "cut") }
            #expect(error != nil, "a file cut to \(length) bytes must not load")
        }
    }

    /// Random byte changes, mostly in the header, either load or give a one-line typed error; no trap.
    @Test func randomCorruptionNeverTraps() throws {
        let original = SafeTensorsTests.sample.encoded()
        let headerEnd = 8 + original.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var random = RandomSource(seed: 2)
        let interesting: [UInt8] = Array("{}[]\",:0123456789-.eE \\u\u{7f}".utf8) + [0, 0x80, 0xC3, 0xFF]
        var failures = 0
        for _ in 0 ..< 4000 {
            var bytes = original
            for _ in 0 ... Int.random(in: 0 ... 3, using: &random) {
                let position = Int.random(in: 0 ..< (Bool.random(using: &random) ? headerEnd : bytes.count), using: &random)
                bytes[position] = Bool.random(using: &random)
                    ? interesting[Int.random(in: 0 ..< interesting.count, using: &random)]
                    : UInt8.random(in: 0 ... 255, using: &random)
            }
            if Int.random(in: 0 ..< 8, using: &random) == 0 {
                bytes.removeLast(Int.random(in: 0 ..< bytes.count, using: &random))
            }
            if let error = checkpointError({ _ = try SafeTensorsFile.decode(bytes, fileName: "fuzz") }) {
                failures += 1
                #expect(error.message.hasPrefix("fuzz: ") && !error.message.contains("\n"), "\(error.message)")
            }
        }
        #expect(failures > 2000, "most corruptions are caught")
    }

    // MARK: - Atomic saves

    /// A save that fails at any step leaves the earlier file byte for byte and no temporary file.
    @Test(arguments: [
        (FileError.SaveStep.createTemporary, EACCES, "creating a temporary file beside it): permission denied",
         "save into a writable folder; any earlier file at this path is unchanged"),
        (.createTemporary, EROFS, "creating a temporary file beside it): read-only file system",
         "save into a writable folder; any earlier file at this path is unchanged"),
        (.write, ENOSPC, "writing the temporary file): no space left on device",
         "free some disk space and save again; any earlier file at this path is unchanged"),
        (.sync, EIO, "flushing the temporary file to disk): input/output error", "any earlier file at this path is unchanged"),
        (.replace, EXDEV, "renaming the temporary file over it): invalid cross-device link", "any earlier file at this path is unchanged"),
    ])
    func failedSaveKeepsTheEarlierFile(step: FileError.SaveStep, code: Int32, message: String, hint: String) throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("model.safetensors")
        let earlier = SafeTensorsFile(tensors: [StoredTensor(name: "old", shape: [1], values: [1])])
        try earlier.write(path: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let error = checkpointError {
            try AtomicFile.write(SafeTensorsTests.sample.encoded(), to: path) { $0 == step ? code : nil }
        }
        #expect(error?.message == "\(path): cannot save (" + message)
        #expect(error?.hint == hint)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try directory.contents() == ["model.safetensors"], "the temporary file is removed")
    }

    /// A real failure after the temporary file was written and synced: the target is a directory.
    @Test func savingOverADirectoryFailsAndCleansUp() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let target = directory.file("model.safetensors")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let error = checkpointError { try SafeTensorsTests.sample.write(path: target) }
        #expect(error?.message == "\(target): cannot save (renaming the temporary file over it): is a directory")
        #expect(error?.hint == "give a file name, not a folder")
        #expect(try directory.contents() == ["model.safetensors"])
        #expect(checkpointError { try SafeTensorsTests.sample.write(path: directory.path + "/") }?.hint
            == "give a file name, not a folder")
    }

    @Test func savingIntoAFileAsIfADirectoryFails() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let notADirectory = directory.file("plain")
        #expect(FileManager.default.createFile(atPath: notADirectory, contents: Data([1])))
        let path = notADirectory + "/model.safetensors"
        let error = checkpointError { try SafeTensorsTests.sample.write(path: path) }
        #expect(error?.message == "\(path): cannot save (creating a temporary file beside it): not a directory")
    }

    @Test(.enabled(if: geteuid() != 0, "root writes into read-only directories; failedSaveKeepsTheEarlierFile covers it"))
    func savingIntoAReadOnlyDirectoryKeepsTheEarlierFile() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("model.safetensors")
        try SafeTensorsFile(tensors: [StoredTensor(name: "old", shape: [1], values: [1])]).write(path: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        chmod(directory.path, 0o555)
        let error = checkpointError { try SafeTensorsTests.sample.write(path: path) }
        #expect(error?.message == "\(path): cannot save (creating a temporary file beside it): permission denied")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    // MARK: - Python's safetensors reads what VAEKit writes

    static let pythonHasSafetensors: Bool = (try? runPython(["-c", "import safetensors.numpy, numpy"]))?.status == 0

    /// Runs python3 with `arguments`; its exit status and standard output.
    private static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONIOENCODING": "utf-8"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Loads a file with Python's safetensors and prints it in the `.expected` format (tensors
    /// sorted by name); saves it again with `save_file` when a second path is given.
    private static let pythonDump = """
        import sys
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file, save_file
        path = sys.argv[1]
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
        tensors = load_file(path)
        for name in sorted(tensors):
            t = tensors[name]
            assert t.dtype == np.float32, t.dtype
            shape = ",".join(str(d) for d in t.shape)
            print(f"{name} [{shape}] " + " ".join(f"{int(b):08x}" for b in t.view(np.uint32).ravel()))
        for key, value in sorted(metadata.items()):
            print(f"__metadata__ {key.encode().hex()} {value.encode().hex()}")
        if len(sys.argv) > 2:
            save_file(tensors, sys.argv[2], metadata=metadata or None)
        """

    @Test(.enabled(if: SafeTensorsTests.pythonHasSafetensors, "needs python3 with the safetensors and numpy packages"))
    func pythonReadsWhatVAEKitWrites() throws {
        let directory = try SafeTensorsScratchDirectory()
        defer { directory.remove() }

        // Names Python can print on one line; every awkward value and metadata string.
        let written = SafeTensorsFile(
            tensors: SafeTensorsTests.sample.tensors.filter { !$0.name.contains("\n") && !$0.name.contains(" ") }
                + [StoredTensor(name: "décodeur.μ", shape: [2, 1, 1], values: [1, -1])],
            metadata: SafeTensorsTests.sample.metadata)
        let path = directory.file("vaekit.safetensors")
        try written.write(path: path)
        let result = try Self.runPython(["-c", Self.pythonDump, path])
        #expect(result.status == 0)
        var sorted = SafeTensorsContents(written)
        sorted.tensors.sort { $0.name < $1.name }
        let fromPython = try SafeTensorsContents(text: result.output)
        #expect(fromPython == sorted, "Python read:\n\(fromPython)\nVAEKit wrote:\n\(sorted)")

        // With the writer's order (name order for F32) and one metadata key, Python's save_file
        // of what it read gives back VAEKit's bytes exactly.
        let canonical = SafeTensorsFile(tensors: written.tensors.sorted { $0.name < $1.name }, metadata: ["format": "pt"])
        let canonicalPath = directory.file("canonical.safetensors")
        let resavedPath = directory.file("resaved.safetensors")
        try canonical.write(path: canonicalPath)
        #expect(try Self.runPython(["-c", Self.pythonDump, canonicalPath, resavedPath]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: resavedPath)) == Data(canonical.encoded()))
    }
}
