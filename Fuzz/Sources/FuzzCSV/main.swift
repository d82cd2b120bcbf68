import Foundation
import FuzzSupport
@testable import VAEKit

// The CSV reader on arbitrary bytes, raw or gzip'd. The first byte picks the options (header,
// label column, scale), as a user would on the command line; the rest is the file.
//
// Each input is decoded from memory (`CSV.decode`) and loaded from a file through the path the
// shell uses (`Dataset.csv`). Both must agree, and a table must hold rows × D values, its labels
// in 0…255, every pixel in [0, 1] once loaded.

private let scratch = scratchPath("data.csv")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count >= 1 else { return 0 }
    let all = Array(UnsafeRawBufferPointer(start: start, count: count))
    let options = all[0]
    let bytes = Array(all.dropFirst())
    let hasHeader: Bool? = [nil, true, false][Int(options & 3) % 3]
    let labelColumn: CSVLabelColumn = [.automatic, .none, .first, .last, .column(Int(options >> 5) + 1)][Int((options >> 2) & 7) % 5]
    let scale: CSVScale = [.automatic, .byte, .unit][Int(options >> 5) % 3]

    let decoded = try? CSV.decode(bytes, name: "fuzz.csv", hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
    if let table = decoded {
        check(table.rows >= 1 && table.dimension >= 1, "an empty table")
        check(table.labels.map { $0.count == table.rows } ?? true, "labels for \(table.rows) rows")
        switch table.storage {
        case .bytes(let values): check(values.count == table.rows * table.dimension, "byte storage size")
        case .fractions(let values):
            check(values.count == table.rows * table.dimension, "float storage size")
            check(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a fraction outside [0, 1]")
        }
    }

    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { return 0 }
    defer { unlink(scratch) }
    do {
        let dataset = try Dataset.csv(path: scratch, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
        check(decoded != nil, "Dataset.csv read a file CSV.decode refused")
        let split = dataset.train
        check(split.count == decoded?.rows, "row counts differ")
        for index in [0, split.count - 1] {
            let image = split.image(index)
            check(image.count == split.dimension && image.allSatisfy { $0 >= 0 && $0 <= 1 }, "image \(index)")
        }
    } catch {
        check(decoded == nil, "CSV.decode read a file Dataset.csv refused: \(error.message)")
    }
    return 0
}

