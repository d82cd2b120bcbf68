import Foundation
import FuzzSupport
@testable import VAEKit

// The safetensors reader on arbitrary bytes, then the checkpoint layer on what it accepts.
//
// - `SafeTensorsFile.decode` must refuse or accept without trapping, and agree with `read` on a
//   file holding the same bytes.
// - An accepted file re-encodes to a file that decodes to the same tensors (bit for bit) and
//   metadata.
// - `Checkpoint.model(from:)` on an accepted file builds a model or says why not.

private let scratch = scratchPath("model.safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []

    let decoded: SafeTensorsFile
    do {
        decoded = try SafeTensorsFile.decode(bytes, fileName: "fuzz.safetensors")
    } catch {
        check(!error.message.isEmpty, "an empty message")
        return 0
    }

    if FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) {
        defer { unlink(scratch) }
        let read = try? SafeTensorsFile.read(path: scratch)
        check(read.map { same($0, decoded) } ?? false, "read and decode disagree")
    }

    let again = try? SafeTensorsFile.decode(decoded.encoded(), fileName: "again.safetensors")
    check(again.map { same($0, decoded) } ?? false, "the re-encoded file does not decode to the same tensors")

    do {
        let (model, _): (VAE<Float>, CheckpointInfo) = try Checkpoint.model(from: decoded, path: "fuzz.safetensors")
        check(model.inputSize >= 1 && model.latentSize >= 1, "a model without inputs or latents")
    } catch {
        check(!error.message.isEmpty, "an empty message")
    }
    return 0
}

/// Same names, shapes, metadata and bit patterns (NaNs included).
private func same(_ a: SafeTensorsFile, _ b: SafeTensorsFile) -> Bool {
    a.metadata == b.metadata && a.tensors.count == b.tensors.count
        && zip(a.tensors, b.tensors).allSatisfy { x, y in
            x.name == y.name && x.shape == y.shape && x.values.map(\.bitPattern) == y.values.map(\.bitPattern)
        }
}

