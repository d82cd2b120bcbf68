import Foundation
import FuzzSupport
import VAEFormats

// The PyTorch checkpoint reader on arbitrary bytes: a whole .pt file, zip container and all.
//
// - `TorchCheckpoint.decode` must refuse with a one-line message (and hint) or accept, and agree
//   with `read` on a file holding the same bytes.
// - An accepted checkpoint's tensors hold shape-product values (and exact integers for integer
//   dtypes), and written back with the writer it decodes to the same tensors, bit for bit.
// ZIPFoundation reads the container after `ZipBounds` has checked it; a trap inside ZIPFoundation
// counts as a crash like any other. -malloc_limit_mb=512 (scripts/fuzz) checks that no size an
// archive or pickle claims is allocated before it is checked against the input's length.

private let scratch = scratchPath("checkpoint.pt")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchCheckpoint(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []

    let decoded: TorchCheckpoint
    do {
        decoded = try TorchCheckpoint.decode(bytes, fileName: "fuzz.pt")
    } catch {
        checkOneLine(error.message)
        if let hint = error.hint { checkOneLine(hint) }
        return 0
    }

    for tensor in decoded.tensors {
        check(StoredTensor.elementCount(tensor.shape) == tensor.values.count, "\(tensor.values.count) values for shape \(tensor.shape)")
        check((tensor.integers == nil) == tensor.dtype.isFloatingPoint, "integers for dtype \(tensor.dtype)")
    }

    if FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) {
        defer { unlink(scratch) }
        let read = try? TorchCheckpoint.read(path: scratch)
        check(read.map { same($0, decoded) } ?? false, "read and decode disagree")
    }

    // Names are unique in what the writer takes; a pickled dict cannot repeat a key anyway.
    let again = try? TorchCheckpoint.decode(decoded.encoded(), fileName: "again.pt")
    check(again.map { same($0, decoded, writtenBack: true) } ?? false, "the written-back checkpoint does not decode to the same tensors")
    return 0
}

/// Same names, shapes, bit patterns (NaNs included) and integers; the dtype too unless the writer
/// changed it (it writes float32, or int64 for integer tensors).
private func same(_ a: TorchCheckpoint, _ b: TorchCheckpoint, writtenBack: Bool = false) -> Bool {
    a.metadata == b.metadata && a.tensors.count == b.tensors.count
        && zip(a.tensors, b.tensors).allSatisfy { x, y in
            x.name == y.name && x.shape == y.shape && x.values.map(\.bitPattern) == y.values.map(\.bitPattern)
                && x.integers == y.integers && (writtenBack || x.dtype == y.dtype)
        }
}
