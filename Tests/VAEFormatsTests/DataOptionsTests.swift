import Testing
import VAEFormats
@testable import VAEKit
import VAEScript

/// The options of a load (validation, limit, binarisation), on a data set made from IDX files.
@Suite struct DataOptionsTests {
    /// Examples `indices` of `split` as Float rows.
    static func filled(_ split: DataSplit, _ indices: [Int]) -> [[Float]] {
        let batch = Matrix<Float>(rows: indices.count, columns: split.dimension)
        split.fillBatch(indices, into: batch, epoch: 0)
        return (0..<indices.count).map { Array(batch.row($0)) }
    }

    @Test func validationIsTheLastNOfTrainAndLimitComesAfter() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12, testCount: 5)
            let dataset = try Dataset.folder(folder.path, options: DataOptions(limit: 4, validationCount: 3))
            #expect(dataset.train.count == 4)
            #expect(dataset.train.labels == [0, 1, 2, 3])
            #expect(dataset.validation?.name == "validation")
            #expect(dataset.validation?.labels == [9, 0, 1])       // examples 9, 10, 11
            #expect(dataset.test?.count == 4)
            #expect(dataset.splits.map(\.name) == ["train", "validation", "test"])
            // Validation example 0 is file example 9.
            let image = try #require(dataset.validation).image(0)
            #expect(image[0] == Float(DataFixture.pixel(9, 0, 0)) / 255)
            // 4 rows of 3 pixels: H×W, as PyTorch orders an image (C×H×W), not width first.
            #expect(dataset.summary.hasSuffix("train 4, validation 3, test 4; 4×3; grey levels x/255"))
        }
    }

    /// Keras's recipe: the test file's images follow the training file's in one training split,
    /// and there is no test split. Validation still comes from the end of the training file, and
    /// the limit applies to each file before they are joined.
    @Test func mergeTestPutsTheTestFileAfterTrain() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12, testCount: 5)
            let dataset = try Dataset.folder(folder.path, options: DataOptions(validationCount: 2, trainOnTest: true))
            #expect(dataset.test == nil && dataset.trainIncludesTest)
            #expect(dataset.train.count == 15 && dataset.validation?.count == 2)
            #expect(dataset.train.labels == (0..<10).map { UInt8($0 % 10) } + [0, 1, 2, 3, 4])
            #expect(dataset.validation?.labels == [0, 1])              // training examples 10 and 11
            // Train example 10 is test example 0, pixel for pixel.
            let image = dataset.train.image(10)
            #expect(image == (0..<12).map { Float(DataFixture.pixel(0, $0 / 3, $0 % 3)) / 255 })
            #expect(dataset.summary.contains("train 15, validation 2;"))
            let limited = try Dataset.folder(folder.path, options: DataOptions(limit: 3, trainOnTest: true))
            #expect(limited.train.count == 6 && limited.test == nil)
            #expect(limited.train.labels == [0, 1, 2, 0, 1, 2])
            // Bernoulli draws: every example keeps one draw per epoch, the same on a second load.
            let drawn = DataOptions(binarization: .dynamic(seed: 3), trainOnTest: true)
            let once = try Dataset.folder(folder.path, options: drawn), twice = try Dataset.folder(folder.path, options: drawn)
            #expect(Self.filled(once.train, Array(0..<17)) == Self.filled(twice.train, Array(0..<17)))
        }
    }

    @Test func mergeTestNeedsATestFile() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12)
            let images = folder.path + "/train-images-idx3-ubyte.gz"
            #expect(optionError {
                _ = try Dataset.idx(images: images, options: DataOptions(trainOnTest: true))
            }?.message == "there is no test file to train on: \(images) is all there is")
        }
    }

    @Test func binarizationOptionReachesEverySplitAndCanBeChanged() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder)
            var dataset = try Dataset.folder(folder.path, options: DataOptions(binarization: .threshold, validationCount: 2))
            #expect(dataset.splits.allSatisfy { $0.binarization == .threshold })
            dataset.binarization = .dynamic(seed: 1)
            #expect(dataset.splits.allSatisfy { $0.binarization == .dynamic(seed: 1) })
            #expect(dataset.binarization == .dynamic(seed: 1))
        }
    }

    @Test func trainAndTestDrawDifferently() throws {
        try withTemporaryFolder { folder in
            // Train and test hold identical images; their Bernoulli draws must still differ.
            try DataFixture.mnistFolder(folder, trainCount: 5, testCount: 5)
            let dataset = try Dataset.folder(folder.path, options: DataOptions(binarization: .dynamic(seed: 2)))
            let test = try #require(dataset.test)
            #expect(Self.filled(dataset.train, [0, 1, 2, 3, 4]) != Self.filled(test, [0, 1, 2, 3, 4]))
        }
    }

    @Test func badOptions() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12)
            #expect(optionError { _ = try Dataset.folder(folder.path, options: DataOptions(limit: 0)) }?.message
                    == "limit must be at least 1, not 0")
            #expect(optionError { _ = try Dataset.folder(folder.path, options: DataOptions(validationCount: -1)) }?.message
                    == "validation count must be 0 or more, not -1")
            let images = folder.path + "/train-images-idx3-ubyte.gz"
            #expect(optionError { _ = try Dataset.folder(folder.path, options: DataOptions(validationCount: 12)) }?.message
                    == "validation count 12 leaves no training examples: \(images) has 12")
            #expect(try Dataset.folder(folder.path, options: DataOptions(validationCount: 0)).validation == nil)
        }
    }

}
