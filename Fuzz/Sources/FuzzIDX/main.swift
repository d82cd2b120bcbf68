import Foundation
import FuzzSupport
import VAEFormats

// The IDX reader on arbitrary bytes, raw or gzip'd (the reader sniffs the gzip magic number).
//
// Each input is decoded twice: from memory (`IDX.decode`) and from a file through the path the
// shell uses (`ImageFiles.idx`, which also checks rank and sizes). The two must agree: the same
// images, or both an error. A decoded file must hold exactly what its header declares, and a
// loaded file's images hold width × height values each. Every error is one line.

private let scratch = scratchPath("images.idx")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []

    let decoded: IDXArray?
    do {
        decoded = try IDX.decode(bytes, name: "fuzz.idx")
    } catch {
        checkOneLine(error.message)
        decoded = nil
    }
    if let decoded {
        let product = decoded.dimensions.reduce(1, *)
        check(decoded.elements.count == product, "\(decoded.elements.count) elements for dimensions \(decoded.dimensions)")
    }

    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { return 0 }
    defer { unlink(scratch) }
    do {
        let files = try ImageFiles.idx(images: scratch, labels: nil, testImages: nil, testLabels: nil)
        check(decoded != nil, "ImageFiles.idx read a file IDX.decode refused")
        let train = files.train
        check(train.count >= 1 && train.pixels.count == train.count * train.width * train.height, "image array shape")
        check(decoded.map { $0.dimensions[0] == train.count } ?? false, "image counts differ")
    } catch {
        checkOneLine(error.message)
    }
    return 0
}
