/// How stored grey levels become the values in [0, 1] a model sees.
///
/// The Bernoulli draws are a pure function of (seed, epoch, which file, example's index in that
/// file, pixel): each example's draw comes from its own `RandomSource`, seeded by hashing those
/// together. So a batch holds the same values whatever order or batch size the trainer uses, a
/// validation split carved from train sees the draws its examples would have had in train, and
/// the same seed gives bit-identical data on every run.
public enum Binarization: Sendable, Equatable {
    /// Grey levels x/255 in [0, 1], unchanged: the default, and what PyTorch's VAE example feeds.
    case none
    /// 1 where x/255 > 0.5 (a stored byte ≥ 128), else 0; the same every epoch.
    case threshold
    /// One Bernoulli draw per pixel with p = x/255, fixed for good: every epoch sees the same
    /// draw, which is the draw `.dynamic(seed:)` makes at epoch 0.
    case staticSample(seed: UInt64)
    /// A fresh Bernoulli draw per pixel with p = x/255 every epoch (the usual binarised-MNIST
    /// protocol for VAEs); evaluation passes use epoch 0.
    case dynamic(seed: UInt64)
}

extension Binarization: CustomStringConvertible {
    public var description: String {
        switch self {
        case .none: "grey levels x/255"
        case .threshold: "binarised at 0.5"
        case .staticSample(let seed): "binarised once by a Bernoulli draw (seed \(seed))"
        case .dynamic(let seed): "binarised by a fresh Bernoulli draw each epoch (seed \(seed))"
        }
    }
}

/// How a split's pixels are held in memory: once, in the file's own precision, and converted to
/// the model's scalar a batch at a time (full MNIST's 60,000 training images take 47 MB as bytes,
/// 188 MB as Float).
public enum PixelStorage: Sendable {
    /// Grey levels 0…255; the value is x/255. IDX files, and CSV files whose values all sit on the
    /// 1/255 grid.
    case bytes([UInt8])
    /// Values already in [0, 1]: CSV files with other fractions, kept exactly as Float.
    case fractions([Float])

    /// Bytes held.
    public var byteCount: Int {
        switch self {
        case .bytes(let values): values.count
        case .fractions(let values): values.count * MemoryLayout<Float>.size
        }
    }
}

/// One split of a data set (train, validation or test): N examples of D pixels each, with labels
/// when the source has them.
///
/// A split is a window onto storage it shares with the file it came from, so carving a
/// validation split or limiting the count copies no pixels.
public struct DataSplit: Sendable, ExampleSource {
    /// "train", "validation" or "test".
    public var name: String
    /// N: the number of examples.
    public let count: Int
    /// D: values per example (width × height).
    public let dimension: Int
    /// The class of each example (N), when the source has labels.
    public let labels: [UInt8]?
    /// How `fillBatch` turns grey levels into values.
    public var binarization: Binarization
    /// The file the examples came from, as the caller spelled it.
    public let source: String

    /// The whole file's pixels (M, D), M ≥ first + count.
    let storage: PixelStorage
    /// This split's first example within `storage`; example i is row first + i.
    let first: Int
    /// Tells the random draws of one file from another's (0 for a training file, 1 for a test file).
    let stream: UInt64

    /// The examples of one file: `storage` holds rows of `dimension` values, and `count` of them
    /// (from `first`) belong to this split. `stream` tells the random draws of one file from
    /// another's (0 for a training file, 1 for a test file).
    public init(name: String, source: String, storage: PixelStorage, dimension: Int, labels: [UInt8]?,
                binarization: Binarization = .none, stream: UInt64, first: Int = 0, count: Int? = nil) {
        let rows: Int
        switch storage {
        case .bytes(let values): rows = dimension == 0 ? 0 : values.count / dimension
        case .fractions(let values): rows = dimension == 0 ? 0 : values.count / dimension
        }
        let count = count ?? rows - first
        precondition(first >= 0 && count >= 0 && first + count <= rows, "DataSplit: rows \(first)..<\(first + count) of \(rows)")
        precondition((labels?.count ?? count) == count, "DataSplit: \(labels?.count ?? 0) labels for \(count) examples")
        self.name = name
        self.source = source
        self.storage = storage
        self.dimension = dimension
        self.labels = labels
        self.binarization = binarization
        self.stream = stream
        self.first = first
        self.count = count
    }

    /// N, under the name the trainer's `ExampleSource` uses.
    public var exampleCount: Int { count }

    /// Writes examples `indices` (in order) into rows 0..<indices.count of `batch` (≥ indices.count, D),
    /// as values in [0, 1] after binarisation. `epoch` drives `.dynamic` binarisation; the other
    /// modes ignore it. Rows past indices.count are left as they were.
    public func fillBatch<T: VAEScalar>(_ indices: some Collection<Int>, into batch: Matrix<T>, epoch: Int) {
        precondition(batch.columns == dimension, "fillBatch: batch has \(batch.columns) columns, examples have \(dimension)")
        precondition(batch.rows >= indices.count, "fillBatch: \(indices.count) examples for a batch of \(batch.rows) rows")
        let chosen = Array(indices)
        for index in chosen { precondition(index >= 0 && index < count, "fillBatch: example \(index) of \(count)") }
        // Rows are independent (each example's draw has its own seed), so threads take shares of
        // them. A gathered pixel costs a cache miss, not a multiply-add: 128 rows of 784 took
        // 0.13 ms on one thread, worth splitting, so count each pixel as 20 flops.
        let parts = Parallel.parts(flops: 20 * chosen.count * dimension)
        switch storage {
        case .bytes(let bytes):
            bytes.withUnsafeBufferPointer { fill(chosen, from: $0, into: batch.pointer, epoch: epoch, parts: parts) }
        case .fractions(let values):
            values.withUnsafeBufferPointer { fill(chosen, from: $0, into: batch.pointer, epoch: epoch, parts: parts) }
        }
    }

    /// Rows 0..<chosen.count of `target` (…, D) ← examples `chosen` of `storage`, after
    /// binarisation, split over `parts` threads. (Specialised: `fillBatch` is reached through
    /// `any ExampleSource` when evaluating.)
    @_specialize(where P == UInt8, T == Float)
    @_specialize(where P == UInt8, T == Double)
    @_specialize(where P == Float, T == Float)
    @_specialize(where P == Float, T == Double)
    private func fill<P: StoredPixel, T: VAEScalar>(_ chosen: [Int], from storage: UnsafeBufferPointer<P>,
                                                    into target: UnsafeMutablePointer<T>, epoch: Int, parts: Int) {
        // Storage is empty only when D = 0 or the file has no examples: nothing to write.
        guard let base = storage.baseAddress else { return }
        Parallel.run(parts) { part in
            for row in Parallel.slice(chosen.indices, part: part, of: parts) {
                let pixels = base + (first + chosen[row]) * dimension, values = target + row * dimension
                switch binarization {
                case .none:
                    for d in 0..<dimension { values[d] = pixels[d].value() }
                case .threshold:
                    for d in 0..<dimension { values[d] = pixels[d].isOn ? 1 : 0 }
                case .staticSample(let seed), .dynamic(let seed):
                    var random = RandomSource(seed: drawSeed(seed: seed, epoch: epoch, example: chosen[row]))
                    for d in 0..<dimension { values[d] = random.uniform() < pixels[d].probability ? 1 : 0 }
                }
            }
        }
    }

    /// The seed of one example's Bernoulli draw: a hash of (seed, epoch, file, index in the file).
    /// A static sample always uses epoch 0.
    func drawSeed(seed: UInt64, epoch: Int, example index: Int) -> UInt64 {
        let effectiveEpoch: Int
        if case .dynamic = binarization { effectiveEpoch = epoch } else { effectiveEpoch = 0 }
        var hash = mix64(seed)
        hash = mix64(hash ^ UInt64(bitPattern: Int64(effectiveEpoch)))
        hash = mix64(hash ^ stream)
        return mix64(hash ^ UInt64(first + index))
    }

    /// Example `index` after binarisation (D values in [0, 1]), e.g. to show it as an image.
    public func image(_ index: Int, epoch: Int = 0) -> [Float] {
        let batch = Matrix<Float>(rows: 1, columns: dimension)
        fillBatch(CollectionOfOne(index), into: batch, epoch: epoch)
        return batch.elements
    }

    /// The first `n` examples (all of them when n ≥ count).
    public func limited(to n: Int) -> DataSplit {
        precondition(n >= 0, "limited(to:): negative count \(n)")
        return examples(0..<min(n, count))
    }

    /// Examples `range`, renumbered from 0; the pixels are shared, not copied. Each example keeps
    /// its Bernoulli draws.
    public func examples(_ range: Range<Int>) -> DataSplit {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "examples: \(range) of \(count)")
        return DataSplit(name: name, source: source, storage: storage, dimension: dimension,
                         labels: labels.map { Array($0[range]) }, binarization: binarization,
                         stream: stream, first: first + range.lowerBound, count: range.count)
    }

    /// This split's examples followed by `other`'s, in storage of their own: Keras's example
    /// trains on `np.concatenate([x_train, x_test])`. Labels are kept only when both have them.
    /// The draws of a Bernoulli binarisation come from a stream of their own (`stream`), since
    /// an example's index is new.
    public func followed(by other: DataSplit, name: String, stream: UInt64) -> DataSplit {
        precondition(other.dimension == dimension, "followed(by:): \(other.dimension) values per example after \(dimension)")
        let storage: PixelStorage
        switch (self.storage, other.storage) {
        case (.bytes(let mine), .bytes(let theirs)):
            storage = .bytes(Array(mine[rowRange]) + Array(theirs[other.rowRange]))
        default:
            storage = .fractions(storedFractions + other.storedFractions)
        }
        let labels = self.labels.flatMap { mine in other.labels.map { mine + $0 } }
        return DataSplit(name: name, source: "\(source) + \(other.source)", storage: storage, dimension: dimension,
                         labels: labels, binarization: binarization, stream: stream)
    }

    /// The range of `storage`'s values this split's examples occupy.
    private var rowRange: Range<Int> { first * dimension..<(first + count) * dimension }

    /// This split's stored values as fractions in [0, 1], copied.
    private var storedFractions: [Float] {
        switch storage {
        case .bytes(let values): values[rowRange].map { Float($0) / 255 }
        case .fractions(let values): Array(values[rowRange])
        }
    }

    /// How many examples carry each label: element k counts label k, up to the largest label;
    /// nil without labels.
    public var labelCounts: [Int]? {
        guard let labels else { return nil }
        var counts = [Int](repeating: 0, count: Int(labels.max() ?? 0) + 1)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// Bytes of pixel storage this split holds a share in (the whole file's, shared with its siblings).
    public var storageBytes: Int { storage.byteCount }
}

/// A pixel as a split stores it: a grey level 0…255 (IDX files, most CSV files) or a fraction in
/// [0, 1] (CSV files with other values).
protocol StoredPixel {
    /// The value in [0, 1].
    func value<T: VAEScalar>() -> T
    /// The probability of a 1 when binarising by sampling.
    var probability: Double { get }
    /// Whether thresholding gives a 1.
    var isOn: Bool { get }
}

extension UInt8: StoredPixel {
    @inline(__always) func value<T: VAEScalar>() -> T { T(self) / 255 }
    @inline(__always) var probability: Double { Double(self) / 255 }
    @inline(__always) var isOn: Bool { self >= 128 }
}

extension Float: StoredPixel {
    @inline(__always) func value<T: VAEScalar>() -> T { T(self) }
    @inline(__always) var probability: Double { Double(self) }
    @inline(__always) var isOn: Bool { self > 0.5 }
}
