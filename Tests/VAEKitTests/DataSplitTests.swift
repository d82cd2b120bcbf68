import Testing
@testable import VAEKit

/// Preprocessing: grey levels, binarisation (static and dynamic), limit and validation split.
@Suite struct DataSplitTests {
    /// One example holding every grey level 0…255, then copies with the pixels rotated.
    static func allGreyLevels(examples: Int = 4, binarization: Binarization = .none) -> DataSplit {
        var bytes: [UInt8] = []
        for n in 0..<examples { for d in 0..<256 { bytes.append(UInt8((d + n) % 256)) } }
        return DataSplit(name: "train", source: "grey", storage: .bytes(bytes), dimension: 256,
                         labels: (0..<examples).map { UInt8($0) }, binarization: binarization, stream: 0)
    }

    static func filled<T: VAEScalar>(_ split: DataSplit, _ indices: [Int], epoch: Int = 0, as: T.Type = Float.self) -> [[T]] {
        let batch = Matrix<T>(rows: indices.count, columns: split.dimension)
        split.fillBatch(indices, into: batch, epoch: epoch)
        return (0..<indices.count).map { Array(batch.row($0)) }
    }

    @Test func greyLevelsAreXOver255InEitherScalar() {
        let split = Self.allGreyLevels()
        let float = Self.filled(split, [0], as: Float.self)[0]
        let double = Self.filled(split, [0], as: Double.self)[0]
        for x in 0..<256 {
            #expect(float[x] == Float(x) / 255)
            #expect(double[x] == Double(x) / 255)
        }
        #expect(float[0] == 0 && float[255] == 1)
    }

    @Test func thresholdAtOneHalf() {
        let row = Self.filled(Self.allGreyLevels(binarization: .threshold), [0])[0]
        #expect(row[127] == 0)   // 127/255 < 0.5
        #expect(row[128] == 1)   // 128/255 > 0.5
        #expect(row.prefix(128).allSatisfy { $0 == 0 } && row.suffix(128).allSatisfy { $0 == 1 })
        // The same rule for values stored as Float.
        let fractions = DataSplit(name: "train", source: "f", storage: .fractions([0.49, 0.5, 0.51]), dimension: 3,
                                  labels: nil, binarization: .threshold, stream: 0)
        #expect(Self.filled(fractions, [0])[0] == [0, 0, 1])
    }

    @Test func staticSampleIsFixedAcrossEpochsAndIsDynamicsEpochZero() {
        let staticSplit = Self.allGreyLevels(binarization: .staticSample(seed: 42))
        let first = Self.filled(staticSplit, [0, 1, 2, 3], epoch: 0)
        #expect(Self.filled(staticSplit, [0, 1, 2, 3], epoch: 1) == first)
        #expect(Self.filled(staticSplit, [0, 1, 2, 3], epoch: 7) == first)
        #expect(Self.filled(Self.allGreyLevels(binarization: .dynamic(seed: 42)), [0, 1, 2, 3], epoch: 0) == first)
        #expect(Self.filled(Self.allGreyLevels(binarization: .staticSample(seed: 43)), [0, 1, 2, 3]) != first)
        // Only 0 and 1, with x = 0 never on and x = 255 always on.
        for row in first { #expect(row.allSatisfy { $0 == 0 || $0 == 1 }) }
        #expect(first[0][0] == 0 && first[0][255] == 1)
    }

    @Test func dynamicBinarisationChangesAcrossEpochsAndIsReproducible() {
        let split = Self.allGreyLevels(binarization: .dynamic(seed: 7))
        let epoch0 = Self.filled(split, [0, 1, 2, 3], epoch: 0)
        let epoch1 = Self.filled(split, [0, 1, 2, 3], epoch: 1)
        #expect(epoch0 != epoch1)
        for (a, b) in zip(epoch0, epoch1) { #expect(a != b) }
        // The same seed and epoch give the same draw in a fresh value.
        #expect(Self.filled(Self.allGreyLevels(binarization: .dynamic(seed: 7)), [0, 1, 2, 3], epoch: 1) == epoch1)
        // A different seed, a different draw.
        #expect(Self.filled(Self.allGreyLevels(binarization: .dynamic(seed: 8)), [0, 1, 2, 3], epoch: 1) != epoch1)
    }

    @Test func drawsDoNotDependOnBatchOrderOrComposition() {
        let split = Self.allGreyLevels(binarization: .dynamic(seed: 3))
        let inOrder = Self.filled(split, [0, 1, 2, 3], epoch: 5)
        let shuffled = Self.filled(split, [2, 0, 3, 1], epoch: 5)
        #expect(shuffled == [inOrder[2], inOrder[0], inOrder[3], inOrder[1]])
        #expect(Self.filled(split, [3], epoch: 5) == [inOrder[3]])
        // A split carved out of another keeps each example's draws.
        #expect(Self.filled(split.examples(2..<4), [0, 1], epoch: 5) == [inOrder[2], inOrder[3]])
    }

    @Test func bernoulliFrequencyMatchesTheGreyLevel() {
        // 2,000 draws of each grey level: the fraction of ones is x/255 within 5 standard errors.
        let examples = 2000
        let split = Self.allGreyLevels(examples: 1, binarization: .dynamic(seed: 11))
        var ones = [Int](repeating: 0, count: 256)
        for epoch in 0..<examples {
            let row = Self.filled(split, [0], epoch: epoch)[0]
            for x in 0..<256 where row[x] == 1 { ones[x] += 1 }
        }
        for x in stride(from: 0, to: 256, by: 17) {
            let p = Double(x) / 255
            let observed = Double(ones[x]) / Double(examples)
            let tolerance = 5 * (p * (1 - p) / Double(examples)).squareRoot() + 1e-9
            #expect(abs(observed - p) <= tolerance, "grey level \(x): \(observed) vs \(p)")
        }
    }

    @Test func rowsPastTheIndicesAreLeftAlone() {
        let split = Self.allGreyLevels()
        let batch = Matrix<Float>(rows: 3, columns: 256, repeating: -1)
        split.fillBatch([1], into: batch, epoch: 0)
        #expect(batch[0, 0] == Float(1) / 255)
        #expect(batch.row(1).allSatisfy { $0 == -1 } && batch.row(2).allSatisfy { $0 == -1 })
    }

    @Test func limitedAndExamplesShareStorage() {
        let split = Self.allGreyLevels()
        let limited = split.limited(to: 2)
        #expect(limited.count == 2 && limited.labels == [0, 1])
        #expect(split.limited(to: 10).count == 4)
        let tail = split.examples(1..<4)
        #expect(tail.labels == [1, 2, 3])
        #expect(Self.filled(tail, [0]) == Self.filled(split, [1]))
        #expect(tail.storageBytes == split.storageBytes)
        #expect(split.labelCounts == [1, 1, 1, 1])
        #expect(split.exampleCount == 4)
    }

    @Test func binarizationDescriptions() {
        #expect(Binarization.none.description == "grey levels x/255")
        #expect(Binarization.threshold.description == "binarised at 0.5")
        #expect(Binarization.staticSample(seed: 1).description == "binarised once by a Bernoulli draw (seed 1)")
        #expect(Binarization.dynamic(seed: 2).description == "binarised by a fresh Bernoulli draw each epoch (seed 2)")
    }
}
