import Foundation
import Testing
@testable import VAEFormats

// MARK: - Helpers

/// A file in Fixtures/torch (`hostile/NAME` for the damaged ones).
func torchFixture(_ name: String) throws -> String {
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return fixtures.appendingPathComponent("torch").appendingPathComponent(name).path
}

/// What a `.expected` file (see make_torch_fixtures.py) says vaesh must read from a checkpoint.
struct TorchExpectation: Equatable, CustomStringConvertible {
    var unwrapping: [TorchUnwrapping] = []
    /// name, dtype, shape, and each value: a float32 bit pattern, or an exact integer.
    var tensors: [(name: String, dtype: String, shape: [Int], values: [Int64])] = []

    init(text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ").map(String.init)
            switch (fields[0], fields[1]) {
            case ("unwrap", "entry"):
                unwrapping.append(.entry(key: fields[2], others: fields[3] == "-" ? [] : fields[3].split(separator: ",").map(String.init)))
            case ("unwrap", "prefix"):
                unwrapping.append(.prefix(fields[2]))
            default:
                let dtype = fields[2]
                let shape = try fields[3].dropFirst().dropLast().split(separator: ",").map { try #require(Int($0)) }
                let isFloat = dtype.hasPrefix("float") || dtype == "bfloat16"
                let values = try fields.dropFirst(4).map { try #require(isFloat ? Int64($0, radix: 16) : Int64($0)) }
                tensors.append((fields[1], dtype, shape, values))
            }
        }
    }

    init(_ checkpoint: TorchCheckpoint) {
        unwrapping = checkpoint.unwrapping
        tensors = checkpoint.tensors.map { tensor in
            (tensor.name, tensor.dtype.rawValue, tensor.shape, tensor.integers ?? tensor.values.map { Int64($0.bitPattern) })
        }
    }

    static func == (left: Self, right: Self) -> Bool { left.description == right.description }

    var description: String {
        (unwrapping.map(\.description) + tensors.map { "\($0.name) \($0.dtype) \($0.shape) \($0.values)" }).joined(separator: "\n")
    }
}

/// The error `body` throws as a `TorchCheckpointError`, or nil.
func torchError(_ body: () throws -> Void) -> TorchCheckpointError? {
    do {
        try body()
        return nil
    } catch let error as TorchCheckpointError {
        return error
    } catch {
        Issue.record("expected a TorchCheckpointError, got \(error)")
        return nil
    }
}

// MARK: - Reading what PyTorch wrote

@Suite("PyTorch checkpoints: reading")
struct TorchCheckpointReadingTests {
    /// Every save style the fixture script writes with real PyTorch, compared bit for bit with
    /// what torch.load(weights_only=True) gives for the same file.
    @Test(arguments: [
        "state_dict", "tiny", "checkpoint", "wrapped_state_dict", "wrapped_model", "dataparallel", "net_dataparallel",
        "compiled", "lightning", "keep_vars", "half", "bfloat16", "double", "views", "batchnorm", "integers",
        "protocol4", "archive_folder", "deflated", "no_byteorder", "big_endian",
    ])
    func readsLikeTorch(_ name: String) throws {
        let checkpoint = try TorchCheckpoint.read(path: try torchFixture(name + ".pt"))
        let expected = try TorchExpectation(text: String(contentsOfFile: try torchFixture(name + ".expected"), encoding: .utf8))
        #expect(TorchExpectation(checkpoint) == expected)
        #expect(checkpoint.metadata.isEmpty, "PyTorch wrote no vaesh metadata")
        #expect(checkpoint.notes == (name == "no_byteorder"
            ? ["the file has no byteorder record (PyTorch before 2.1): read as little-endian, as PyTorch does"] : []))
    }

    @Test func integersAreExactWhereAFloatIsNot() throws {
        let checkpoint = try TorchCheckpoint.read(path: try torchFixture("batchnorm.pt"))
        let counter = try #require(checkpoint["num_batches_tracked"])
        #expect(counter.dtype == .int64 && counter.shape == [] && counter.integers == [123_456_789_012])
        #expect(counter.values == [Float(123_456_789_012)])
        #expect(checkpoint["running_mean"]?.integers == nil)
    }

    @Test func theSameBytesDecodeAsTheFileReads() throws {
        let path = try torchFixture("views.pt")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try TorchCheckpoint.decode(bytes, fileName: "views.pt")
        #expect(TorchExpectation(decoded) == TorchExpectation(try TorchCheckpoint.read(path: path)))
        #expect(decoded.fileName == "views.pt")
    }

    /// The globals vaesh allows are exactly torch.load(weights_only=True)'s (the fixture script
    /// dumps torch's list), so a file is refused here exactly when torch refuses it.
    @Test func allowedGlobalsAreTorchs() throws {
        let text = try String(contentsOfFile: try torchFixture("allowed_globals.txt"), encoding: .utf8)
        let torchs = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        #expect(torchs.subtracting(TorchGlobals.allowed).isEmpty, "torch allows, vaesh does not: \(torchs.subtracting(TorchGlobals.allowed).sorted())")
        #expect(TorchGlobals.allowed.subtracting(torchs).isEmpty, "vaesh allows, torch does not: \(TorchGlobals.allowed.subtracting(torchs).sorted())")
    }

    @Test func formatsAreToldApartByContent() {
        #expect(TensorFileFormat.detect(Array("PK\u{3}\u{4}rest".utf8)) == .pytorch)
        #expect(TensorFileFormat.detect(Array("PK\u{5}\u{6}".utf8) + [UInt8](repeating: 0, count: 18)) == .pytorch)
        #expect(TensorFileFormat.detect([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]) == .pytorchLegacy)
        #expect(TensorFileFormat.detect([0x80, 0x04, 0x95]) == .pickle)
        #expect(TensorFileFormat.detect([16, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)) == .safetensors)
        // A 896-byte safetensors header starts 80 03, as a protocol-3 pickle does.
        #expect(TensorFileFormat.detect([0x80, 0x03, 0, 0, 0, 0, 0, 0] + Array("{\"".utf8)) == .safetensors)
        #expect(TensorFileFormat.detect([]) == .unknown)
        #expect(TensorFileFormat.detect(Array("hello world".utf8)) == .unknown)
    }

    @Test("bytes of neither kind are refused as such, with their first bytes; a damaged .safetensors gets safetensors' own error")
    func neitherKindIsSaidSo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-neither-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, bytes) in [("cap.sh", Array("#!/bin/sh\necho hi\n".utf8)), ("bad.pt", Array("garbage".utf8)), ("empty.pth", [])] {
            FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes))
        }
        func message(_ name: String) -> String {
            do { _ = try TensorFile.read(path: folder + "/" + name); return "accepted" } catch {
                return (error as? any DescribedError)?.message ?? "\(error)"
            }
        }
        #expect(message("cap.sh").hasSuffix("cap.sh: neither a PyTorch checkpoint (torch.save writes a zip archive, which starts with PK) nor a safetensors file: it starts with 23 21 2F 62 69 6E 2F 73 ('#!/bin/s')"))
        #expect(message("bad.pt").hasSuffix("bad.pt: neither a PyTorch checkpoint (torch.save writes a zip archive, which starts with PK) nor a safetensors file: it starts with 67 61 72 62 61 67 65 ('garbage')"))
        #expect(message("empty.pth").hasSuffix("empty.pth: an empty file, not a checkpoint"))
        // Named as safetensors: read as one, so the error says what is damaged in it.
        FileManager.default.createFile(atPath: folder + "/short.safetensors", contents: Data([1, 2, 3]))
        #expect(message("short.safetensors").hasSuffix("short.safetensors: file is only 3 bytes; a safetensors file starts with an 8-byte header length"))
    }
}

// MARK: - Refusals

/// A file vaesh must refuse, and what it must say.
struct TorchRefusal: Sendable, CustomTestStringConvertible {
    var file: String
    var message: String
    var hint: String?
    var testDescription: String { file }
}

@Suite("PyTorch checkpoints: refusals")
struct TorchCheckpointRefusalTests {
    /// Each refusal's message (after "PATH: ") and the start of its hint.
    static let refusals: [TorchRefusal] = [
        // What PyTorch writes but vaesh does not read, with the way out.
        TorchRefusal(file: "legacy.pt", message: "a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6, or with _use_new_zipfile_serialization=False), which vaesh does not read",
                     hint: "convert it in Python: import torch; torch.save(torch.load('PATH', weights_only=True), 'STEM-state.pt')"),
        TorchRefusal(file: "whole_model.pt", message: "this file stores a whole Python object of class '__main__.TinyVAE' (a pickled model), not a state dict; save model.state_dict() instead",
                     hint: "convert it in Python, where the class can be imported: import torch; torch.save(torch.load('PATH', weights_only=False).state_dict(), 'STEM-state.pt')"),
        TorchRefusal(file: "python_object.pt", message: "this file stores a Python object of class 'argparse.Namespace'; save model.state_dict() instead",
                     hint: "torch.load(weights_only=True) refuses it too"),
        TorchRefusal(file: "torchscript.pt", message: "a TorchScript archive (torch.jit.save), not a torch.save checkpoint of tensors",
                     hint: "convert it in Python: import torch; torch.save(torch.jit.load('PATH').state_dict(), 'STEM-state.pt')"),
        TorchRefusal(file: "one_tensor.pt", message: "no state dict (a dict of tensors) in this file: it holds one tensor of shape [3], not a dict of named tensors",
                     hint: "vaesh reads torch.save(model.state_dict(), path)"),
        TorchRefusal(file: "list.pt", message: "no state dict (a dict of tensors) in this file: it holds a list", hint: "vaesh reads"),
        TorchRefusal(file: "two_state_dicts.pt", message: "2 state dicts in this file ('encoder', 'decoder'); vaesh will not guess which is the model",
                     hint: "save the one you mean on its own in Python: import torch; torch.save(torch.load('PATH')['encoder'], 'STEM-state.pt')"),
        TorchRefusal(file: "ambiguous.pt", message: "2 state dicts in this file ('state_dict', 'model'); vaesh will not guess which is the model", hint: "save the one you mean"),
        // The container.
        TorchRefusal(file: "hostile/truncated-end.pt", message: "not a readable PyTorch zip archive: no end-of-central-directory record in its last 4118 bytes: the archive is truncated, or not a zip archive",
                     hint: "the file is truncated or damaged, or was not written by torch.save"),
        TorchRefusal(file: "hostile/truncated-half.pt", message: "not a readable PyTorch zip archive: no end-of-central-directory record in its last", hint: "the file is truncated"),
        TorchRefusal(file: "hostile/empty-zip.pt", message: "not a readable PyTorch zip archive: the archive is empty", hint: nil),
        TorchRefusal(file: "hostile/no-data-pkl.pt", message: "not a readable PyTorch zip archive: no 'archive/data.pkl', which holds what torch.save pickled", hint: nil),
        TorchRefusal(file: "hostile/two-folders.pt", message: "not a readable PyTorch zip archive: entries in two top folders ('a' and 'b'); torch.save writes one", hint: nil),
        TorchRefusal(file: "hostile/no-folder.pt", message: "not a readable PyTorch zip archive: entry 'data.pkl' is not inside a folder, as torch.save puts every entry", hint: nil),
        TorchRefusal(file: "hostile/byteorder-middle.pt", message: "archive entry 'archive/byteorder': byte order 'middle', neither 'little' nor 'big'", hint: nil),
        TorchRefusal(file: "hostile/bad-crc.pt", message: "archive entry 'archive/data/0': CRC-32", hint: nil),
        TorchRefusal(file: "hostile/zip-huge-size.pt", message: "not a readable PyTorch zip archive: entry 1 claims 4294967280 bytes (167 compressed) at byte 46, beyond the file's 649 bytes", hint: nil),
        TorchRefusal(file: "hostile/zip-huge-deflated.pt", message: "not a readable PyTorch zip archive: entry 1 claims 4294967280 bytes", hint: nil),
        TorchRefusal(file: "hostile/zip64-huge-offset.pt", message: "not a readable PyTorch zip archive: entry 1's local header (at byte 9223372036854775813) lies outside the file or is damaged", hint: nil),
        TorchRefusal(file: "hostile/overlapping-entries.pt", message: "not a readable PyTorch zip archive: entries 2 and 3 share bytes (from byte 213): a zip bomb, or a damaged archive", hint: nil),
        TorchRefusal(file: "hostile/encrypted.pt", message: "not a readable PyTorch zip archive: entry 1 is encrypted", hint: nil),
        TorchRefusal(file: "hostile/missing-storage.pt", message: "tensor 'w': its storage 'data/5' is not in the archive", hint: nil),
        // Storages and views.
        TorchRefusal(file: "hostile/short-storage.pt", message: "tensor 'w': its storage 'data/0' holds 20 bytes, but the pickle declares 6 elements of 4 bytes", hint: nil),
        TorchRefusal(file: "hostile/lying-stride.pt", message: "archive/data.pkl, byte 164: a tensor of shape [2, 3] with offset 0 and strides [3, 100] reaches element 203 of storage '0', which holds 6", hint: nil),
        TorchRefusal(file: "hostile/lying-offset.pt", message: "archive/data.pkl, byte 164: a tensor of shape [2, 3] with offset 4 and strides [3, 1] reaches element 9 of storage '0', which holds 6", hint: nil),
        TorchRefusal(file: "hostile/negative-stride.pt", message: "archive/data.pkl, byte 167: torch._utils._rebuild_tensor_v2 with a negative stride in [3, -1]", hint: nil),
        TorchRefusal(file: "hostile/huge-shape.pt", message: "archive/data.pkl, byte 176: a tensor of shape [1099511627776, 1099511627776], too large to address", hint: nil),
        TorchRefusal(file: "hostile/huge-view.pt", message: "tensor 'w': 1000000000 elements (shape [1000000000]), more than the file's 648 bytes hold unless a view repeats them (stride 0); save t.contiguous() instead", hint: nil),
        TorchRefusal(file: "hostile/huge-numel.pt", message: "tensor 'w': its storage 'data/0' holds 24 bytes, but the pickle declares 1152921504606846976 elements of 4 bytes", hint: nil),
        TorchRefusal(file: "hostile/mismatched-storage.pt", message: "archive/data.pkl, byte 252: storage '0' is named as 6 float32 elements and as 3 float64 elements", hint: nil),
        TorchRefusal(file: "hostile/complex-storage.pt", message: "tensor 'w': its dtype is complex64; vaesh reads float32, float16, bfloat16, float64, integer and bool tensors", hint: nil),
        // The pickle.
        TorchRefusal(file: "hostile/unknown-opcode.pt", message: "archive/data.pkl, byte 2: unknown pickle opcode 0xFF", hint: nil),
        TorchRefusal(file: "hostile/inst-opcode.pt", message: "archive/data.pkl, byte 3: pickle opcode 0x69 'i' (INST) is not one torch.load(weights_only=True) runs", hint: nil),
        TorchRefusal(file: "hostile/os-system.pt", message: "this file stores a Python object of class 'os.system'; save model.state_dict() instead", hint: "torch.load(weights_only=True) refuses it too"),
        TorchRefusal(file: "hostile/truncated-pickle.pt", message: "archive/data.pkl, byte 136: the pickle ends inside a GLOBAL name (archive/data.pkl is truncated)", hint: nil),
        TorchRefusal(file: "hostile/huge-string.pt", message: "archive/data.pkl, byte 2: a value of 4294967280 bytes runs past the end of the pickle (4 bytes left)", hint: nil),
        TorchRefusal(file: "hostile/huge-memo-index.pt", message: "archive/data.pkl, byte 8: memo entry 4294967294 is read before it is written", hint: nil),
        TorchRefusal(file: "hostile/stack-underflow.pt", message: "archive/data.pkl, byte 2: the pickle's stack is empty here", hint: nil),
        TorchRefusal(file: "hostile/billion-laughs.pt", message: "no state dict (a dict of tensors) in this file: it holds a dict of 'bomb', none of them a dict of tensors", hint: "vaesh reads"),
        TorchRefusal(file: "hostile/billion-laughs-key.pt", message: "archive/data.pkl, byte 529: a dict key that is a tuple (unhashable, or a tuple of more than 64 values)", hint: nil),
        TorchRefusal(file: "hostile/self-list.pt", message: "no state dict (a dict of tensors) in this file: it holds a list", hint: "vaesh reads"),
        TorchRefusal(file: "hostile/deep-nesting.pt", message: "no state dict (a dict of tensors) in this file: it holds a list", hint: "vaesh reads"),
    ]

    @Test(arguments: refusals)
    func refusal(_ refusal: TorchRefusal) throws {
        let path = try torchFixture(refusal.file)
        let error = try #require(torchError { _ = try TorchCheckpoint.read(path: path) })
        #expect(error.file == path)
        #expect(error.message.hasPrefix(Quoting.shown(path) + ": " + refusal.message), "\(error.message)")
        #expect(!error.message.contains("\n") && !(error.hint ?? "").contains("\n"))
        let stem = String(path.dropLast(3))
        let hint = refusal.hint?.replacingOccurrences(of: "PATH", with: path).replacingOccurrences(of: "STEM", with: stem)
        if let hint {
            #expect(error.hint?.hasPrefix(hint) == true, "\(error.hint ?? "no hint")")
        } else {
            #expect(error.hint == nil || error.hint == "the file is truncated or damaged, or was not written by torch.save", "\(error.hint ?? "")")
        }
    }

    /// Every hostile file the fixture script writes has a row above (a new one cannot go untested).
    @Test func everyHostileFileIsInTheTable() throws {
        let folder = try torchFixture("hostile")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".pt") && $0 != "good.pt" }
        let listed = Set(Self.refusals.map(\.file))
        #expect(files.filter { !listed.contains("hostile/" + $0) }.isEmpty)
    }

    @Test func theLegacyFormatAndBarePicklesAreRecognisedBeforeAnyZipCheck() {
        let legacy: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        #expect(torchError { _ = try TorchCheckpoint.decode(legacy, fileName: "old.pt") } == .legacyFormat(file: "old.pt"))
        #expect(torchError { _ = try TorchCheckpoint.decode([0x80, 0x04, 0x95, 0x00], fileName: "p.pkl") } == .barePickle(file: "p.pkl"))
        let safetensors = [UInt8]([2, 0, 0, 0, 0, 0, 0, 0]) + Array("{}".utf8)
        #expect(torchError { _ = try TorchCheckpoint.decode(safetensors, fileName: "s") }?.message
                == "s: not a readable PyTorch zip archive: it does not start as a zip archive does (PK\\3\\4)")
    }

    /// A file name with quotes and a newline still gives one-line messages and a valid Python hint.
    @Test func hintsQuoteTheFileForPython() {
        let error = TorchCheckpointError.legacyFormat(file: "it's\nold.pt")
        #expect(error.message == "it's\\nold.pt: a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6, or with _use_new_zipfile_serialization=False), which vaesh does not read")
        #expect(error.hint == "convert it in Python: import torch; torch.save(torch.load('it\\'s\\x0aold.pt', weights_only=True), 'it\\'s\\x0aold-state.pt')")
    }

    /// Every prefix of a real checkpoint, and every single-byte change of it, is refused with one
    /// line or read; nothing traps, and nothing takes long.
    @Test func truncationsAndBitFlipsNeverTrap() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: try torchFixture("state_dict.pt"))))
        for length in 0 ..< bytes.count {
            let error = torchError { _ = try TorchCheckpoint.decode(Array(bytes.prefix(length)), fileName: "t.pt") }
            #expect(error.map { !$0.message.contains("\n") } ?? false, "prefix of \(length) bytes")
        }
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x5A
            if let error = torchError({ _ = try TorchCheckpoint.decode(damaged, fileName: "t.pt") }) {
                #expect(!error.message.contains("\n"), "byte \(index)")
            }
        }
    }
}

// MARK: - Writing

@Suite("PyTorch checkpoints: writing")
struct TorchCheckpointWritingTests {
    static let sample = TorchCheckpoint(
        tensors: [
            StoredTensor(name: "fc1.weight", shape: [2, 5], values: [
                Float(bitPattern: 0x7FC1_2345), Float(bitPattern: 0x7F80_0001), -0.0, .infinity, -.infinity,
                Float(bitPattern: 1), .greatestFiniteMagnitude, 0.1, -1e-30, 3,
            ]),
            StoredTensor(name: "fc1.bias", shape: [2], values: [1.5, -2.25]),
            StoredTensor(name: "décodeur.μ \"quoted\"", shape: [3], values: [1, 2, 3]),
            StoredTensor(name: "scalar", shape: [], values: [7]),
            StoredTensor(name: "empty", shape: [0, 4], values: []),
            StoredTensor(name: "wide", shape: [1, 2, 1, 70000], values: (0 ..< 140_000).map { Float($0) }),
            StoredTensor(name: "num_batches_tracked", shape: [], dtype: .int64, values: [Float(123_456_789_012)], integers: [123_456_789_012]),
        ],
        metadata: ["vaesh.format": "1", "note": "ünïcödé \"quotes\"\n\ttabs"], fileName: "sample.pt")

    @Test func roundTripIsBitIdentical() throws {
        let bytes = try Self.sample.encoded()
        let decoded = try TorchCheckpoint.decode(bytes, fileName: "sample.pt")
        #expect(TorchExpectation(decoded) == TorchExpectation(Self.sample))
        #expect(decoded.tensors.map(\.dtype) == [.float32, .float32, .float32, .float32, .float32, .float32, .int64])
        #expect(decoded.metadata == Self.sample.metadata)
        #expect(decoded.unwrapping.isEmpty && decoded.notes.isEmpty)
        #expect(try Self.sample.encoded() == bytes, "equal checkpoints are equal files")
    }

    /// The layout torch.save writes, in one top folder; vaesh's metadata is one more entry.
    @Test func layoutIsTorchs() throws {
        let archive = try TorchArchive(data: Data(try Self.sample.encoded()), file: "sample.pt")
        #expect(archive.folder == "archive")
        #expect(archive.names == ["byteorder", "data.pkl", "data/0", "data/1", "data/2", "data/3", "data/4", "data/5", "data/6",
                                  "vaesh.json", "version"])
        #expect(try archive.contents(of: "byteorder") == Array("little".utf8))
        #expect(try archive.contents(of: "version") == Array("3\n".utf8))
        #expect(try archive.contents(of: "data/1") == [0, 0, 0xC0, 0x3F, 0, 0, 0x10, 0xC0])
        let pickle = try #require(try archive.contents(of: "data.pkl"))
        #expect(pickle.starts(with: [0x80, 0x02] + Array("ccollections\nOrderedDict\n)R(".utf8)))
    }

    @Test func writeIsAtomicAndReadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-torch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.pt"
        try Self.sample.write(path: path)
        #expect(TorchExpectation(try TorchCheckpoint.read(path: path)) == TorchExpectation(Self.sample))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.pt"])
        #expect(try TensorFile.read(path: path).format == .pytorch)
    }
}
