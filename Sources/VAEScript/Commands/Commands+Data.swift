import Foundation
import VAEFormats
import VAEKit

/// `load mnist`, `load idx`, `load csv`: data in, with which set it is and how many examples.
extension CommandTable {
    /// Arguments every loader takes.
    static let preprocessingArguments: [ArgumentSpec] = [
        .option("binarize", .choice(["none", "threshold", "static", "dynamic"]), default: "none",
                abstract: "none: grey levels x/255; threshold: 1 where x/255 > 0.5, else 0; static: one seeded Bernoulli draw; dynamic: a fresh draw every epoch"),
        .option("limit", .int, range: .atLeast(1), abstract: "keep at most this many examples of each split"),
        .option("validation", .int, default: 0, range: .atLeast(0), abstract: "carve this many examples from the end of train as a validation split"),
        .option("merge-test", .bool, default: false,
                abstract: "train on the training and test files together (each after limit= and validation=), leaving no test split; Keras's VAE example trains on all 70,000 MNIST images"),
    ]

    static let dataCommands: [CommandSpec] = [
        CommandSpec(
            "load mnist", topic: .data,
            arguments: [.option("path", .path, abstract: "a folder of the four MNIST files (default: the data folder, else the embedded subset)")] + preprocessingArguments,
            abstract: "load MNIST: full MNIST from the data folder, or the embedded subset",
            discussion: """
            Without path=, loads full MNIST (60,000 train / 10,000 test) from the data folder \
            ($VAESH_DATA, default ~/.local/share/vaesh/mnist) when scripts/fetch-mnist has \
            installed it there, and otherwise the subset that ships inside vaesh (the first \
            10,000 training and 2,000 test images). It always says which set it loaded and how \
            many images each split has. Pixels are grey levels x/255 in [0, 1] unless binarize= \
            says otherwise, as in the PyTorch example. merge-test=yes trains on all 70,000, as \
            Keras's VAE example does, and leaves no test split. The data loaded before stays \
            loaded if this fails.
            """,
            examples: ["load mnist", "load mnist limit=1000", "load mnist binarize=dynamic validation=5000", "load mnist merge-test=yes",
                       "load mnist path=~/data/fashion-mnist"],
            handler: loadMNIST
        ),

        CommandSpec(
            "load fashion-mnist", topic: .data,
            arguments: [.option("path", .path, abstract: "a folder of its four IDX files (default: fashion-mnist beside the MNIST data folder)")] + preprocessingArguments,
            abstract: "load Fashion-MNIST (Zalando's clothes, 28×28 grey, MNIST's file layout)",
            discussion: """
            Reads the four files of Fashion-MNIST (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, \
            t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, as Zalando publishes them) from \
            path=, or else from the folder fashion-mnist beside the MNIST data folder \
            (~/.local/share/vaesh/fashion-mnist by default). Nothing ships inside vaesh for it: \
            when the folder is missing it says where to put the files. The set is named \
            fashion-mnist in the prompt and in every report.
            """,
            examples: ["load fashion-mnist", "load fashion-mnist path=~/data/fashion binarize=dynamic"],
            handler: { context throws(ScriptError) in try loadFamily(context, .fashionMNIST) }
        ),

        CommandSpec(
            "load kmnist", topic: .data,
            arguments: [.option("path", .path, abstract: "a folder of its four IDX files (default: kmnist beside the MNIST data folder)")] + preprocessingArguments,
            abstract: "load KMNIST (Kuzushiji-MNIST: cursive Japanese, 28×28 grey, MNIST's file layout)",
            discussion: """
            Reads the four IDX files of Kuzushiji-MNIST (train-images-idx3-ubyte.gz and the \
            others, as ROIS-CODH publishes them) from path=, or else from the folder kmnist beside \
            the MNIST data folder (~/.local/share/vaesh/kmnist by default). The set is named kmnist.
            """,
            examples: ["load kmnist", "load kmnist path=~/data/kmnist limit=1000"],
            handler: { context throws(ScriptError) in try loadFamily(context, .kmnist) }
        ),

        CommandSpec(
            "load idx", topic: .data,
            arguments: [
                .option("images", .path, required: true, abstract: "IDX images file, raw or .gz"),
                .option("labels", .path, abstract: "IDX labels file"),
                .option("test-images", .path, abstract: "IDX images file for the test split"),
                .option("test-labels", .path, abstract: "IDX labels file for the test split"),
            ] + preprocessingArguments,
            abstract: "load images from IDX files (MNIST's format, also Fashion-MNIST and KMNIST)",
            discussion: """
            Reads unsigned-byte IDX files, raw or gzip'd, checking the magic number, element \
            type, dimensions and length. Without test-images= there is no test split: the term \
            commands then need split=train.
            """,
            examples: ["load idx images=train-images-idx3-ubyte.gz labels=train-labels-idx1-ubyte.gz",
                       "load idx images=a.gz test-images=b.gz limit=500"],
            handler: loadIDX
        ),

        CommandSpec(
            "load csv", topic: .data,
            arguments: [
                .positional("file", .path, required: true, abstract: "CSV file, one image per row"),
                .option("test", .path, abstract: "a CSV file of the same layout for the test split"),
                .option("header", .choice(["auto", "yes", "no"]), default: "auto", abstract: "whether the first row is a header"),
                .option("label", .choice(["auto", "none", "first", "last"]), default: "auto", abstract: "which column holds the labels"),
                .option("scale", .choice(["auto", "255", "1"]), default: "auto", abstract: "pixel values are grey levels 0…255 or fractions 0…1"),
            ] + preprocessingArguments,
            abstract: "load images from a CSV file, one image per row",
            discussion: """
            Each row is one image, optionally with a label column; auto detects a header (a row \
            with a non-numeric cell), a label column (named label/class/target/digit/y, or the \
            first of 785 columns) and the scale (the largest value). A non-numeric cell is an \
            error naming its line and column.
            """,
            examples: ["load csv mnist_train.csv test=mnist_test.csv", "load csv pixels.csv header=no label=none scale=1"],
            handler: loadCSV
        ),
    ]

    // MARK: - Handlers

    private static func loadMNIST(_ context: CommandContext) throws(ScriptError) {
        let options = try dataOptions(context)
        let path = try context.arguments.optionalPath("path")
        let dataset = try context.engine { () throws -> Dataset in try Dataset.mnist(folder: path, options: options) }
        install(dataset, context)
    }

    /// The data sets that share MNIST's four files; each has its own name and folder.
    enum MNISTFamily: String {
        case fashionMNIST = "fashion-mnist"
        case kmnist

        var title: String { self == .fashionMNIST ? "Fashion-MNIST" : "KMNIST" }
    }

    private static func loadFamily(_ context: CommandContext, _ family: MNISTFamily) throws(ScriptError) {
        let options = try dataOptions(context)
        let given = try context.arguments.optionalPath("path")
        // Beside the MNIST data folder: ~/.local/share/vaesh/mnist → ~/.local/share/vaesh/fashion-mnist.
        let folder = given ?? (DataFolder.defaultPath as NSString).deletingLastPathComponent + "/" + family.rawValue
        if given == nil, !FileManager.default.fileExists(atPath: folder) {
            throw context.failure("\(family.title) not found: no folder \(folder)",
                                  hint: "put its four IDX files (train-images-idx3-ubyte.gz, …) there, or give path=FOLDER")
        }
        let dataset = try context.engine { () throws -> Dataset in
            try Dataset(MNISTFolder.files(in: folder, origin: "\(family.title) from \(folder)"), name: family.rawValue, options: options)
        }
        install(dataset, context)
    }

    private static func loadIDX(_ context: CommandContext) throws(ScriptError) {
        let options = try dataOptions(context)
        let images = try context.arguments.path("images")
        let labels = try context.arguments.optionalPath("labels")
        let testImages = try context.arguments.optionalPath("test-images")
        let testLabels = try context.arguments.optionalPath("test-labels")
        let dataset = try context.engine { () throws -> Dataset in
            try Dataset.idx(images: images, labels: labels, testImages: testImages, testLabels: testLabels, options: options)
        }
        install(dataset, context)
    }

    private static func loadCSV(_ context: CommandContext) throws(ScriptError) {
        let options = try dataOptions(context)
        let file = try context.arguments.path("file")
        let test = try context.arguments.optionalPath("test")
        let header: Bool? = switch try context.arguments.string("header") {
        case "yes": true
        case "no": false
        default: nil
        }
        let label: CSVLabelColumn = switch try context.arguments.string("label") {
        case "none": .none
        case "first": .first
        case "last": .last
        default: .automatic
        }
        let scale: CSVScale = switch try context.arguments.string("scale") {
        case "255": .byte
        case "1": .unit
        default: .automatic
        }
        let dataset = try context.engine { () throws -> Dataset in
            try Dataset.csv(path: file, testPath: test, hasHeader: header, labelColumn: label, scale: scale, options: options)
        }
        install(dataset, context)
    }

    private static func dataOptions(_ context: CommandContext) throws(ScriptError) -> DataOptions {
        // The binarisation stream of the session seed, independent of initialisation and training.
        let seed = RandomSource.derivedSeed(context.settings.seed, .binarisation)
        let binarization: Binarization = switch try context.arguments.string("binarize") {
        case "threshold": .threshold
        case "static": .staticSample(seed: seed)
        case "dynamic": .dynamic(seed: seed)
        default: .none
        }
        let validation = try context.arguments.int("validation")
        return DataOptions(binarization: binarization, limit: try context.arguments.optionalInt("limit"),
                           validationCount: validation == 0 ? nil : validation,
                           trainOnTest: try context.arguments.bool("merge-test"))
    }

    /// Makes `dataset` the session's data and reports what was loaded.
    private static func install(_ dataset: Dataset, _ context: CommandContext) {
        let session = context.session
        var report = Report(command: "load")
        report.addText("loaded \(dataset.origin)")
        var table = TextTable(alignments: [.left, .right, .left])
        for split in dataset.splits {
            table.append(["  \(split.name)", Format.grouped(split.count), "images of \(dataset.shapeText)"])
            report.addField(split.name, .int(split.count))
        }
        report.addTable(table)
        report.addText("  pixels: \(dataset.binarization)")
        if dataset.trainIncludesTest {
            report.addText("  note: train holds the test file's images too (merge-test=yes); with no test split left, the term commands need split=train, and every figure is on images the model trains on")
        }
        if let note = dataset.note { report.addText("  note: \(note)") }
        if let model = session.workbench.model, model.inputSize != dataset.dimension {
            report.addText("  note: the current model expects \(model.inputSize) pixels per example, this data has \(dataset.dimension); run 'model' to build one that fits")
        }
        report.addField("dataset", .string(dataset.name))
        report.addField("origin", .string(dataset.origin))
        report.addField("dimension", .int(dataset.dimension))
        report.addField("train_includes_test", .bool(dataset.trainIncludesTest))
        session.workbench.installData(dataset, command: context.invocation.sourceText)
        session.refreshPrompt()
        // `assert train_examples == 60000` lets a script check which set it got; a split this data
        // lacks reads 0, not a count left over from earlier data. Set once the data is in, so they
        // describe it.
        for (name, split) in [("train", dataset.train), ("validation", dataset.validation), ("test", dataset.test)] {
            context.setVariable("\(name)_examples", Double(split?.count ?? 0), dependency: .data)
        }
        context.report(report)
    }
}
