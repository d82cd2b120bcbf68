import Foundation
import FuzzSupport
import VAEFormats

// The CSV reader on arbitrary bytes, raw or gzip'd. The first byte picks the options (header,
// label column, scale), as a user would on the command line; the rest is the file.
//
// Each input is decoded from memory (`CSV.decode`) and loaded from a file through the path the
// shell uses (`ImageFiles.csv`). Both must agree, and a table must hold rows × D values, its
// fractions in [0, 1], its labels one per row. Every error is one line.

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

    let decoded: CSVTable?
    do {
        decoded = try CSV.decode(bytes, name: "fuzz.csv", hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
    } catch {
        checkOneLine(error.message)
        decoded = nil
    }
    if let table = decoded {
        check(table.rows >= 1 && table.dimension >= 1, "an empty table")
        check(table.labels.map { $0.count == table.rows } ?? true, "labels for \(table.rows) rows")
        switch table.pixels {
        case .bytes(let values): check(values.count == table.rows * table.dimension, "byte storage size")
        case .fractions(let values):
            check(values.count == table.rows * table.dimension, "float storage size")
            check(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a fraction outside [0, 1]")
        }
    }

    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { return 0 }
    defer { unlink(scratch) }
    do {
        let files = try ImageFiles.csv(path: scratch, testPath: nil, hasHeader: hasHeader, labelColumn: labelColumn, scale: scale)
        check(decoded != nil, "ImageFiles.csv read a file CSV.decode refused")
        let train = files.train
        check(train.count == decoded?.rows, "row counts differ")
        check(train.pixels.count == train.count * train.width * train.height, "image array shape")
        check(train.pixels == decoded?.pixels, "pixels differ")
    } catch {
        check(decoded == nil, "CSV.decode read a file ImageFiles.csv refused: \(error.message)")
        checkOneLine(error.message)
    }
    return 0
}

