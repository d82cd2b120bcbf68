import Foundation
import FuzzSupport
import VAEFormats

// The safetensors reader on arbitrary bytes.
//
// - `SafeTensorsFile.decode` must refuse (with a one-line message) or accept without trapping,
//   and agree with `read` on a file holding the same bytes.
// - An accepted file re-encodes to a file that decodes to the same tensors (bit for bit) and
//   metadata.
// (Mapping tensors onto a model is the engine's, which this target does not link.)

private let scratch = scratchPath("model.safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []

    let decoded: SafeTensorsFile
    do {
        decoded = try SafeTensorsFile.decode(bytes, fileName: "fuzz.safetensors")
    } catch {
        checkOneLine(error.message)
        return 0
    }

    if FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) {
        defer { unlink(scratch) }
        let read = try? SafeTensorsFile.read(path: scratch)
        check(read.map { same($0, decoded) } ?? false, "read and decode disagree")
    }

    let again = try? SafeTensorsFile.decode(decoded.encoded(), fileName: "again.safetensors")
    check(again.map { same($0, decoded) } ?? false, "the re-encoded file does not decode to the same tensors")

    return 0
}

/// Same names, shapes, metadata and bit patterns (NaNs included).
private func same(_ a: SafeTensorsFile, _ b: SafeTensorsFile) -> Bool {
    a.metadata == b.metadata && a.tensors.count == b.tensors.count
        && zip(a.tensors, b.tensors).allSatisfy { x, y in
            x.name == y.name && x.shape == y.shape && x.values.map(\.bitPattern) == y.values.map(\.bitPattern)
        }
}

