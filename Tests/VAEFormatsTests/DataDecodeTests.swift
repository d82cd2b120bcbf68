import Foundation
import Testing
@testable import VAEFormats
import VAEKit
import VAEScript

/// The in-memory entry points the fuzzers drive (`IDX.decode`, `CSV.decode`) must give what the
/// path-based readers give for the same bytes: the same array, or the same error.
@Suite struct DataDecodeTests {
    /// Raw and gzip'd IDX files, good and damaged in the ways the catalogue lists.
    static let idxCases: [(String, [UInt8])] = {
        let images = IDX.encode(DataFixture.images(count: 3))
        var lying = images
        lying[7] = 200  // count 3 → 200: the file is far shorter than declared
        var huge = [UInt8](images.prefix(16))
        huge[4...7] = [0x7F, 0xFF, 0xFF, 0xFF]  // 2 GB declared in a 16-byte file
        return [
            ("raw", images),
            ("gzip", Zlib.compress(images)),
            ("empty", []),
            ("one byte", [0]),
            ("bad magic", [1, 2, 3, 4] + images.dropFirst(4)),
            ("truncated", Array(images.dropLast(5))),
            ("trailing", images + [9]),
            ("lying count", lying),
            ("2 GB header", huge),
            ("truncated gzip", Array(Zlib.compress(images).dropLast(12))),
            ("gzip of a lie", Zlib.compress(huge)),
        ]
    }()

    @Test func idxDecodeAgreesWithRead() throws {
        try withTemporaryFolder { folder in
            for (name, bytes) in Self.idxCases {
                let path = try folder.write("case", bytes)
                let fromFile = Result { try IDX.read(path) }
                let fromBytes = Result { try IDX.decode(bytes, name: path) }
                switch (fromFile, fromBytes) {
                case (.success(let a), .success(let b)):
                    #expect(a == b, "\(name)")
                case (.failure(let a as DataFileError), .failure(let b as DataFileError)):
                    #expect(a.message == b.message, "\(name)")
                default:
                    Issue.record("\(name): read gave \(fromFile), decode gave \(fromBytes)")
                }
            }
        }
    }

    @Test func hugeHeaderInMemoryIsRefusedBeforeAllocating() {
        let error = dataError { _ = try IDX.decode(Self.idxCases[8].1, name: "huge") }
        guard case .truncated(_, let expected, let found)? = error else {
            Issue.record("expected truncated, got \(String(describing: error))")
            return
        }
        #expect(expected == 16 + 0x7FFF_FFFF * 4 * 3 && found == 16)
    }

    @Test func csvDecodeAgreesWithRead() throws {
        let cases: [(String, String)] = [
            ("kaggle", DataCSVTests.kaggle),
            ("fractions", "0.1,0.2,0.3\n1,0,0.25\n"),
            ("ragged", "1,2,3\n4,5\n"),
            ("text cell", "1,2\nx,3\n"),
            ("empty", ""),
            ("blank lines", "\n \n\t\n"),
        ]
        try withTemporaryFolder { folder in
            for (name, text) in cases {
                for gzip in [false, true] {
                    let bytes = gzip ? Zlib.compress(Array(text.utf8)) : Array(text.utf8)
                    let path = try folder.write("case.csv", bytes)
                    let fromFile = Result { try CSV.read(path, hasHeader: nil, labelColumn: .automatic, scale: .automatic) }
                    let fromBytes = Result {
                        try CSV.decode(bytes, name: path, hasHeader: nil, labelColumn: .automatic, scale: .automatic)
                    }
                    switch (fromFile, fromBytes) {
                    case (.success(let a), .success(let b)):
                        #expect(a.rows == b.rows && a.dimension == b.dimension && a.labels == b.labels, "\(name)")
                    case (.failure(let a as DataFileError), .failure(let b as DataFileError)):
                        #expect(a.message == b.message, "\(name)")
                    default:
                        Issue.record("\(name): read gave \(fromFile), decode gave \(fromBytes)")
                    }
                }
            }
        }
    }
}

/// Inputs the fuzzers found, each once a crash; now each is an error naming the file.
@Suite struct FuzzRegressionTests {
    /// FuzzIDX: no images, but an image size whose area overflows Int (the header's product is 0).
    @Test func emptyIDXWithAnOverflowingImageSize() throws {
        let bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 0, 0xF7, 0xFF, 0xFF, 0xFF, 0xFF, 0xD9, 0x04, 0x04]
        try withTemporaryFolder { folder in
            let path = try folder.write("empty-but-huge", bytes)
            let error = dataError { _ = try Dataset.idx(images: path) }
            guard case .sizeOverflow? = error else {
                Issue.record("expected sizeOverflow, got \(String(describing: error))")
                return
            }
        }
    }
}

/// Loaders read regular files only: a FIFO without a writer used to block `load csv` forever.
@Suite struct SpecialFileTests {
    @Test func fifoAndDeviceAreRefusedAtOnce() throws {
        try withTemporaryFolder { folder in
            let fifo = folder.path + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            for path in [fifo, "/dev/null"] {
                for load in [{ _ = try Dataset.csv(path: path) }, { _ = try Dataset.idx(images: path) }] {
                    guard case .file(let error)? = dataError(load), error.failure == .notRegularFile else {
                        Issue.record("\(path): expected notRegularFile")
                        continue
                    }
                    #expect(error.path == path)
                }
            }
        }
    }
}

/// What a save killed mid-write leaves behind is removed by the next save of the same name, unless
/// its process lives or it was written in the last minute.
@Suite struct StaleTemporaryTests {
    @Test func theNextSaveRemovesWhatKilledSavesLeft() throws {
        try withTemporaryFolder { folder in
            let dead = ".m.safetensors.tmp-2147483647-1a2b"   // no process has this PID
            let recent = ".m.safetensors.tmp-2147483646-3c4d"  // dead too, but written just now
            let alive = ".m.safetensors.tmp-\(getpid())-5e6f"
            let other = ".n.safetensors.tmp-2147483647-7a8b"    // another file's
            for name in [dead, recent, alive, other] { try folder.write(name, [1, 2, 3]) }
            for name in [dead, other] {
                var times = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
                #expect(utimes(folder.path + "/" + name, &times) == 0)
            }
            try SafeTensorsFile(tensors: [StoredTensor(name: "a", shape: [1], values: [1])]).write(path: folder.path + "/m.safetensors")
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
            #expect(left == ["m.safetensors", recent, alive, other])
        }
    }
}
