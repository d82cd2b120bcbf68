import Foundation
import FuzzSupport
@testable import VAEKit

// The IDX reader on arbitrary bytes, raw or gzip'd (the reader sniffs the gzip magic number).
//
// Each input is decoded twice: from memory (`IDX.decode`) and from a file through the path the
// shell uses (`Dataset.idx`, which also checks rank, sizes and labels and builds a split). The two
// must agree: the same images, or both an error. A decoded file must hold exactly what its header
// declares, and a loaded split must give every image's pixels in [0, 1].

private let scratch = scratchPath("images.idx")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []

    let decoded = try? IDX.decode(bytes, name: "fuzz.idx")
    if let decoded {
        let product = decoded.dimensions.reduce(1, *)
        check(decoded.elements.count == product, "\(decoded.elements.count) elements for dimensions \(decoded.dimensions)")
    }

    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { return 0 }
    defer { unlink(scratch) }
    do {
        let dataset = try Dataset.idx(images: scratch)
        check(decoded != nil, "Dataset.idx read a file IDX.decode refused")
        let split = dataset.train
        check(split.count >= 1 && split.dimension == dataset.imageWidth * dataset.imageHeight, "split shape")
        for index in [0, split.count - 1] {
            let image = split.image(index)
            check(image.count == split.dimension && image.allSatisfy { $0 >= 0 && $0 <= 1 }, "image \(index)")
        }
    } catch {
        check(!error.message.isEmpty, "an empty message")
    }
    return 0
}

