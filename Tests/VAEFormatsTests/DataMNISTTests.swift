import Foundation
import Testing
@testable import VAEFormats
import VAEKit
import VAEScript

/// MNIST-family folders, the data folder, the embedded subset and (when installed) full MNIST.
@Suite struct DataMNISTTests {
    // MARK: Folders of the four standard files

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func bothSpellingsRawOrGzipped(dot: Bool, gzip: Bool) throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12, testCount: 5, dot: dot, gzip: gzip)
            let dataset = try Dataset.folder(folder.path)
            #expect(dataset.name == "idx")
            #expect(dataset.origin == "IDX files in \(folder.path)")
            #expect(dataset.train.count == 12 && dataset.test?.count == 5)
            #expect(dataset.train.labels?.prefix(3) == [0, 1, 2])
            #expect((dataset.imageWidth, dataset.imageHeight) == (3, 4))
        }
    }

    @Test func mixedSpellingsAndAppleDoubleFilesAreIgnored() throws {
        try withTemporaryFolder { folder in
            try folder.write("train-images.idx3-ubyte", DataFixture.bytes(DataFixture.images(count: 6)))
            try folder.write("train-labels-idx1-ubyte.gz", DataFixture.bytes(DataFixture.labels(count: 6), gzip: true))
            try folder.write("t10k-images-idx3-ubyte", DataFixture.bytes(DataFixture.images(count: 2)))
            try folder.write("t10k-labels.idx1-ubyte.gz", DataFixture.bytes(DataFixture.labels(count: 2), gzip: true))
            // What a macOS copy leaves behind (as in the mnist-dir archive): junk under similar names.
            for name in ["._train-images.idx3-ubyte", "._train-images-idx3-ubyte.gz", "._t10k-labels-idx1-ubyte", ".DS_Store"] {
                try folder.write(name, [0, 5, 22, 7, 0, 2, 0, 0])
            }
            let dataset = try Dataset.folder(folder.path)
            #expect(dataset.train.count == 6 && dataset.test?.count == 2)
        }
    }

    @Test func folderErrors() throws {
        try withTemporaryFolder { folder in
            let missing = folder.path + "/absent"
            #expect(dataError { _ = try Dataset.folder(missing) }?.message == "\(missing): no such folder")
            let file = try folder.write("a-file", [1])
            #expect(dataError { _ = try Dataset.folder(file) }?.message == "\(file): is a file, not a folder")
            // Only AppleDouble files: the real train-images is missing.
            let apple = try folder.subfolder("apple")
            try apple.write("._train-images-idx3-ubyte", DataFixture.bytes(DataFixture.images(count: 2)))
            let error = dataError { _ = try Dataset.folder(apple.path) }
            #expect(error?.message == "\(apple.path): no train-images file (looked for train-images-idx3-ubyte.gz, "
                    + "train-images-idx3-ubyte, train-images.idx3-ubyte.gz, train-images.idx3-ubyte)")
            #expect(error?.hint == "a data folder holds train-images, train-labels, t10k-images and t10k-labels, each raw or .gz")
            // Three of four present.
            let three = try folder.subfolder("three")
            try DataFixture.mnistFolder(three)
            try FileManager.default.removeItem(atPath: three.path + "/t10k-labels-idx1-ubyte.gz")
            #expect(dataError { _ = try Dataset.mnist(folder: three.path) }?.message
                    == "\(three.path): no t10k-labels file (looked for t10k-labels-idx1-ubyte.gz, t10k-labels-idx1-ubyte, "
                    + "t10k-labels.idx1-ubyte.gz, t10k-labels.idx1-ubyte)")
        }
    }

    @Test func aBadFileInAFolderIsNamed() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12, testCount: 5)
            let labels = try folder.write("t10k-labels-idx1-ubyte.gz", DataFixture.bytes(DataFixture.labels(count: 4), gzip: true))
            #expect(dataError { _ = try Dataset.folder(folder.path) }?.message
                    == "\(labels): 4 labels for the 5 images in \(folder.path)/t10k-images-idx3-ubyte.gz")
        }
    }

    // MARK: The data folder

    @Test func dataFolderResolution() {
        #expect(DataFolder.resolved(environment: ["VAESH_DATA": "/data/mnist", "XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/data/mnist")
        #expect(DataFolder.resolved(environment: ["VAESH_DATA": "~/digits", "HOME": "/h"]) == "/h/digits")
        #expect(DataFolder.resolved(environment: ["VAESH_DATA": "relative/dir", "HOME": "/h"]) == "relative/dir")
        #expect(DataFolder.resolved(environment: ["VAESH_DATA": "", "XDG_DATA_HOME": "/x/", "HOME": "/h"]) == "/x/vaesh/mnist")
        // The XDG spec: a relative XDG_DATA_HOME is ignored.
        #expect(DataFolder.resolved(environment: ["XDG_DATA_HOME": "x", "HOME": "/h"]) == "/h/.local/share/vaesh/mnist")
        #expect(DataFolder.resolved(environment: ["HOME": "/h"]) == "/h/.local/share/vaesh/mnist")
        #expect(DataFolder.environmentVariable == "VAESH_DATA")
    }

    @Test func fullSetInTheDataFolderWins() throws {
        try withTemporaryFolder { folder in
            try DataFixture.mnistFolder(folder, trainCount: 12, testCount: 5)
            let dataset = try Dataset.mnist(environment: ["VAESH_DATA": folder.path])
            #expect(dataset.name == "mnist")
            #expect(dataset.origin == "full MNIST from \(folder.path)")
            #expect(dataset.note == nil)
            #expect(dataset.train.count == 12)
        }
    }

    @Test func emptyOrMissingDataFolderFallsBackToTheEmbeddedSubset() throws {
        try withTemporaryFolder { folder in
            for path in [folder.path, folder.path + "/not-there"] {
                let dataset = try Dataset.mnist(environment: ["VAESH_DATA": path],
                                                options: DataOptions(limit: 10))
                #expect(dataset.name == "mnist-subset")
                #expect(dataset.note == "full MNIST not found in \(path); scripts/fetch-mnist installs it there")
                #expect(dataset.train.count == 10 && dataset.test?.count == 10)
            }
        }
    }

    @Test func aHalfFilledDataFolderIsAnErrorNotASilentFallback() throws {
        try withTemporaryFolder { folder in
            try folder.write("train-images-idx3-ubyte.gz", DataFixture.bytes(DataFixture.images(count: 3), gzip: true))
            let error = dataError { _ = try Dataset.mnist(environment: ["VAESH_DATA": folder.path]) }
            #expect(error?.message.hasPrefix("\(folder.path): no train-labels file") == true)
            #expect(error?.hint == "run scripts/fetch-mnist to complete the data folder, or empty it to use the embedded subset")
        }
    }

    // MARK: The embedded subset

    /// Counted once from the files (scripts/make-embedded-mnist prints the same).
    static let subsetTrainHistogram = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    static let subsetTestHistogram = [175, 234, 219, 207, 217, 179, 178, 205, 192, 194]

    @Test func embeddedSubsetCountsAndLabels() throws {
        let dataset = try Dataset.embeddedMNIST()
        #expect(dataset.name == "mnist-subset")
        #expect(dataset.origin == "embedded MNIST subset (the first 10,000 training and 2,000 test images of MNIST)")
        #expect(dataset.train.count == 10_000)
        #expect(dataset.test?.count == 2_000)
        #expect(dataset.validation == nil)
        #expect((dataset.imageWidth, dataset.imageHeight) == (28, 28))
        #expect(dataset.dimension == 784)
        #expect(dataset.train.labelCounts == Self.subsetTrainHistogram)
        #expect(dataset.test?.labelCounts == Self.subsetTestHistogram)
        // MNIST's first training digit is a 5 and its first test digit a 7.
        #expect(dataset.train.labels?.first == 5)
        #expect(dataset.test?.labels?.first == 7)
        // Stored once, as bytes: 7,840,000 for train.
        #expect(dataset.train.storageBytes == 10_000 * 784)
        #expect(dataset.summary == "mnist-subset: embedded MNIST subset (the first 10,000 training and 2,000 test images of MNIST); "
                + "train 10,000, test 2,000; 28×28; grey levels x/255")
    }

    @Test func embeddedSubsetIsDecodedFromBase64() {
        #expect(EmbeddedMNIST.decodeBase64("") == [])
        #expect(EmbeddedMNIST.decodeBase64("TWFu") == Array("Man".utf8))
        #expect(EmbeddedMNIST.decodeBase64("TWE=") == Array("Ma".utf8))
        #expect(EmbeddedMNIST.decodeBase64("TQ==") == Array("M".utf8))
        #expect(EmbeddedMNIST.decodeBase64("/+8=") == [0xFF, 0xEF])
        for damaged in ["TQ=", "T*==", "=QTQ", "TQ=A", "TWFu\n"] {
            #expect(EmbeddedMNIST.decodeBase64(damaged) == nil, "\(damaged.debugDescription)")
        }
        // The four files are gzip'd IDX: they start with gzip's magic number.
        for text in [EmbeddedMNIST.trainImages, EmbeddedMNIST.trainLabels, EmbeddedMNIST.testImages, EmbeddedMNIST.testLabels] {
            #expect(EmbeddedMNIST.decodeBase64(text)?.prefix(2) == [0x1F, 0x8B])
        }
    }

    @Test func embeddedSubsetPixels() throws {
        let dataset = try Dataset.embeddedMNIST(options: DataOptions(validationCount: 1000))
        #expect(dataset.train.count == 9_000 && dataset.validation?.count == 1_000)
        let batch = Matrix<Float>(rows: 100, columns: 784)
        dataset.train.fillBatch(0..<100, into: batch, epoch: 0)
        #expect(batch.elements.allSatisfy { $0 >= 0 && $0 <= 1 })
        // MNIST digits cover roughly 19% of the image: the mean grey level is about 0.13.
        let mean = batch.elements.reduce(0, +) / Float(batch.count)
        #expect(mean > 0.1 && mean < 0.16)
        // The borders are blank.
        #expect((0..<28).allSatisfy { batch[0, $0] == 0 })
    }

    // MARK: Full MNIST, when scripts/fetch-mnist has installed it

    /// Full MNIST in the data folder (all four files). Without it, the test below is skipped, and
    /// Swift Testing lists it as skipped with this reason.
    static let fullMNISTInstalled = DataFolder.standardFiles(in: DataFolder.defaultPath).count == 4

    @Test(.enabled(if: fullMNISTInstalled, "full MNIST is not in the data folder: run scripts/fetch-mnist"))
    func fullMNIST() throws {
        let full = try Dataset.mnist()
        #expect(full.name == "mnist")
        #expect(full.origin == "full MNIST from \(DataFolder.defaultPath)")
        #expect(full.train.count == 60_000 && full.test?.count == 10_000)
        #expect(full.train.labelCounts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(full.test?.labelCounts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        // The embedded subset is its first 10,000 / 2,000 examples, byte for byte.
        let subset = try Dataset.embeddedMNIST()
        let fullFirst = full.train.limited(to: 10_000), subsetTrain = subset.train
        #expect(fullFirst.labels == subsetTrain.labels)
        let a = Matrix<Float>(rows: 10_000, columns: 784), b = Matrix<Float>(rows: 10_000, columns: 784)
        fullFirst.fillBatch(0..<10_000, into: a, epoch: 0)
        subsetTrain.fillBatch(0..<10_000, into: b, epoch: 0)
        #expect(a.elements == b.elements)
        #expect(full.test?.limited(to: 2_000).labels == subset.test?.labels)
    }
}
