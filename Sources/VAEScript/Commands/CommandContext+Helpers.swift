import VAEFormats
import VAEKit

// The helpers command handlers share, in one place: what they require of the session, the
// examples a term command runs on, where pictures and tables go, and a few descriptions.

/// The data splits a term command can run on.
enum SplitName: String, CaseIterable {
    case train, test, validation
}

extension CommandContext {
    /// The loaded data, or "no data yet: run 'load mnist' first".
    func requireData() throws(ScriptError) -> Dataset {
        guard let dataset = session.workbench.dataset else {
            throw missing("data", remedy: "run 'load mnist' (or 'load idx', 'load csv') first")
        }
        return dataset
    }

    /// The model's trainer, or "no model yet: run 'model' or 'open FILE' first".
    func requireTrainer() throws(ScriptError) -> Trainer<Float> {
        guard let trainer = session.workbench.trainer else {
            throw missing("model", remedy: "run 'model' or 'open FILE' first")
        }
        return trainer
    }

    /// Data and model that fit each other.
    func requireDataAndModel() throws(ScriptError) -> (Dataset, Trainer<Float>) {
        let trainer = try requireTrainer()
        let dataset = try requireData()
        guard dataset.dimension == trainer.model.inputSize else {
            throw ScriptError(ModelError.inputSizeMismatch(model: trainer.model.inputSize, data: dataset.dimension), at: location)
        }
        // A model built for images reads them as C×H×W: 28×28 values are not 14×56 ones, though
        // they count the same. A flat (MLP) model reads any image of its size.
        let input = trainer.model.architecture.input
        if input.isImage, input != dataset.shape {
            throw ScriptError(ModelError.inputShapeMismatch(model: input, data: dataset.shape), at: location)
        }
        return (dataset, trainer)
    }

    /// The split named by the `split` argument.
    func split(of dataset: Dataset, named name: String) throws(ScriptError) -> DataSplit {
        switch SplitName(rawValue: name) {
        case .train: return dataset.train
        case .test:
            guard let test = dataset.test else {
                if dataset.trainIncludesTest {
                    throw failure(argument: "split", "no test split: merge-test=yes put \(dataset.name)'s test file into train",
                                  hint: "use split=train, or load without merge-test=yes")
                }
                throw failure(argument: "split", "\(dataset.name) has no test split", hint: "use split=train, or load a test file too")
            }
            return test
        case .validation:
            guard let validation = dataset.validation else {
                throw failure(argument: "split", "\(dataset.name) has no validation split", hint: "load with validation=N to carve one from train")
            }
            return validation
        case nil:
            throw failure(argument: "split", "unknown split '\(name)'")
        }
    }

    /// A random stream for this command, from the session seed: new numbers every time.
    func randomStream() -> RandomSource { session.workbench.randomStream(seed: settings.seed) }

    /// The draws of z for evaluating `split`: common random numbers (ε keyed by the seed, the split,
    /// the example and the draw) unless the `draws` setting is `fresh`.
    func evaluationDraws(split: String) -> Draws {
        session.workbench.evaluationDraws(split: split, seed: settings.seed, fresh: settings.freshDraws)
    }

    /// Runs `work`, which reports the fraction it has done, with a progress line and an ETA on a
    /// terminal once it has run for half a second (`ProgressLine`); the line is gone when it ends.
    func withProgress<Result>(_ label: String? = nil, _ work: ((Double) -> Void) -> Result) -> Result {
        let line = ProgressLine(session: session)
        defer { line.clear() }
        let name = label ?? spec.name
        return work { line.update(name, fraction: $0) }
    }

    /// The batch and draws of a measured step (`step`, `show-sign`), fixed while nothing changes
    /// unless the `draws` setting is `fresh`.
    func measurementStream() -> RandomSource {
        session.workbench.measurementStream(seed: settings.seed, fresh: settings.freshDraws)
    }

    // MARK: - Pictures and tables

    /// The tile size for the model's pictures: the loaded data's when it fits the model, else
    /// square when D is a square, else one row of D pixels.
    func tileShape(model: VAE<Float>) -> (width: Int, height: Int) {
        // A model for images knows its own shape; the channels of a colour model are drawn one
        // under the other (each a grey picture) until colour pictures exist.
        if case .image(let channels, let height, let width) = model.architecture.input {
            return (width, height * channels)
        }
        if let dataset = session.workbench.dataset, dataset.dimension == model.inputSize {
            return (dataset.imageWidth, dataset.imageHeight * dataset.channels)
        }
        let side = Int(Double(model.inputSize).squareRoot().rounded())
        return side * side == model.inputSize ? (side, side) : (model.inputSize, 1)
    }

    /// The out= path, which must end in one of `extensions`; nil when not given.
    func outputFile(extensions: [String]) throws(ScriptError) -> String? {
        guard let path = try arguments.optionalPath("out") else { return nil }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let fileExtension = name.contains(".") ? name.split(separator: ".").last.map { "." + $0.lowercased() } ?? "" : ""
        guard extensions.contains(fileExtension) else {
            let allowed = extensions.map { "FILE" + $0 }.joined(separator: " or ")
            let found = fileExtension.isEmpty ? "a name without an extension" : "'\(fileExtension)'"
            throw failure(argument: "out", "out= must name a \(allowed) file, not \(found)",
                                  hint: "\(spec.name) writes \(extensions.map { $0.dropFirst().uppercased() }.joined(separator: " and ")) files, e.g. out=\(spec.name)\(extensions[0])")
        }
        return path
    }

    func pictureFile() throws(ScriptError) -> String? {
        try outputFile(extensions: [".png"])
    }

    /// The `scale=` of a PNG: 1 unless given, and only with out=FILE.png.
    func pictureScale(out: String?) throws(ScriptError) -> Int {
        let scale = try arguments.int("scale")
        if arguments.givenNames.contains("scale"), out.map({ !$0.lowercased().hasSuffix(".png") }) ?? true {
            throw failure(argument: "scale", "scale= sets the size of a PNG file, and \(spec.name) is not writing one",
                          hint: "add out=FILE.png, e.g. '\(spec.name) out=\(spec.name).png scale=\(scale)'")
        }
        return scale
    }

    /// `image` drawn `scale` times larger and written to `out` as a PNG; refused before anything
    /// is drawn when the result would be unreasonably large.
    func writePicture(_ image: GreyImage, scale: Int, to out: String) throws(ScriptError) -> GreyImage {
        try checkPictureSize(width: image.width, height: image.height, scale: scale)
        let scaled = image.scaled(by: scale)
        try engine { () throws in try scaled.writePNG(to: out) }
        return scaled
    }

    /// The same for a colour picture (a grey one if it holds only greys: `ColourImage.pngData`).
    func writePicture(_ image: ColourImage, scale: Int, to out: String) throws(ScriptError) -> ColourImage {
        try checkPictureSize(width: image.width, height: image.height, scale: scale)
        let scaled = image.scaled(by: scale)
        let bytes = scaled.pngData()
        try engine { () throws in try AtomicFile.write(bytes, to: out) }
        return scaled
    }

    /// Refuses a picture of more than `largestPicture` pixels once scaled.
    func checkPictureSize(width: Int, height: Int, scale: Int) throws(ScriptError) {
        let (width, height) = (width * scale, height * scale)
        guard width * height <= Self.largestPicture else {
            throw failure(argument: "scale", "scale=\(scale) would make a picture of \(Format.grouped(width))×\(Format.grouped(height)) pixels, "
                          + "more than \(Format.grouped(Self.largestPicture))",
                          hint: "use a smaller scale= (or fewer pictures)")
        }
    }

    /// The most pixels a PNG is allowed: 16 megapixels (4096 × 4096, 64 MB while it is drawn),
    /// far more than a slide needs.
    static let largestPicture = 1 << 24

    /// Writes the grid to `out`, or shows it (in characters on a terminal, as a PNG in a notebook:
    /// `OutputSink.show`); then reports (one JSON object under --json).
    func show(_ grid: ImageGrid, command: String, description: String, out: String?,
              fields: (inout Report) -> Void) throws(ScriptError) {
        var report = Report(command: command)
        let scale = try pictureScale(out: out)
        if let out {
            let image = try writePicture(grid.image(), scale: scale, to: out)
            report.addText("wrote \(out) (\(grid.rows)×\(grid.columns) grid, \(image.width)×\(image.height) pixels"
                           + (scale == 1 ? "" : ", each pixel \(scale)×\(scale)") + "): \(description)")
        } else {
            let image = grid.image()
            report.addText(description + ":")
            report.addPicture(Picture(image: image, description: "\(description) (\(grid.rows)×\(grid.columns) grid, \(image.width)×\(image.height) pixels)",
                                      text: TerminalPicture.render(grid, style: TerminalPicture.style(for: session),
                                                                   width: TerminalPicture.availableWidth(for: session))))
        }
        fields(&report)
        report.addField("rows", .int(grid.rows))
        report.addField("columns", .int(grid.columns))
        report.addField("width", .int(grid.tileWidth))
        report.addField("height", .int(grid.tileHeight))
        report.addField("file", out.map { .string($0) } ?? .null)
        self.report(report)
    }
}

// MARK: - Descriptions shared by commands

extension CommandTable {
    /// "ReLU, bernoulli likelihood, decoder 20-400-784".
    static func describe(_ configuration: VAEConfiguration) -> String {
        let decoder = ([configuration.latentSize] + configuration.resolvedDecoderHidden + [configuration.inputSize])
            .map(String.init).joined(separator: "-")
        return "\(configuration.activation.rawValue), \(configuration.likelihood.summary) likelihood, decoder \(decoder)"
    }

    /// As for its configuration for the MLP family; otherwise the head, the latent size and the likelihood.
    static func describe(_ architecture: VAEArchitecture) -> String {
        if let configuration = architecture.mlpConfiguration { return describe(configuration) }
        let variance = architecture.variance == .logvar ? "" : " (\(architecture.variance.meaning))"
        return "\(architecture.head.rawValue) head\(variance), latent \(architecture.latentSize), \(architecture.likelihood.summary) likelihood"
    }

    /// Why a Bernoulli number on grey-level data is no likelihood; nil when the data are 0/1 or
    /// the decoder is not Bernoulli.
    static func greyLevelNote(_ likelihood: Likelihood, _ dataset: Dataset) -> String? {
        guard likelihood == .bernoulli, !dataset.valuesAreBinary else { return nil }
        return "note: these pixels are grey levels, not 0 or 1: a Bernoulli log p(x|z) on them is a cross-entropy, not a "
            + "normalised likelihood, so these numbers are not comparable with published binarised-MNIST results "
            + "(load with binarize=dynamic, static or threshold for those)"
    }

    static func optimizer(named name: String, for model: VAE<Float>, learningRate: Double) -> Optimizer<Float> {
        Optimizer(name == "sgd" ? .sgd() : .adamDefaults, learningRate: learningRate, parameterCount: model.parameters.count)
    }
}

// MARK: - The examples of a term command

/// The examples, model and random stream one term command works on, from its arguments.
struct TermRun {
    let context: CommandContext
    let dataset: Dataset
    let trainer: Trainer<Float>
    let split: DataSplit
    let splitName: String
    let index: Int?
    /// nil means every example of the split.
    let indices: [Int]?
    let samples: Int

    init(_ context: CommandContext, defaultLimit: Int? = nil) throws(ScriptError) {
        self.context = context
        (dataset, trainer) = try context.requireDataAndModel()
        splitName = try context.arguments.string("split")
        split = try context.split(of: dataset, named: splitName)
        // show-sign takes limit= but not index=; active-units draws no z, so it takes no samples=.
        samples = context.spec.argument(named: "samples") == nil ? context.settings.samples
            : try context.arguments.optionalInt("samples") ?? context.settings.samples
        index = context.spec.argument(named: "index") == nil ? nil : try context.arguments.optionalInt("index")
        let limit = try context.arguments.optionalInt("limit")
        if let index {
            guard index < split.count else {
                throw context.failure(argument: "index", "index \(index) is past the end of the \(splitName) split (\(split.count) examples)")
            }
            if limit != nil { throw context.failure(argument: "limit", "give index= or limit=, not both") }
            indices = [index]
        } else if let count = limit ?? defaultLimit, count < split.count {
            indices = Array(0..<count)
        } else {
            indices = nil
        }
    }

    var model: VAE<Float>? { trainer.model }
    /// The draws of z on this split (see `CommandContext.evaluationDraws`).
    var draws: Draws { context.evaluationDraws(split: splitName) }
    var likelihood: Likelihood { trainer.model.architecture.likelihood }
    var dimension: Int { trainer.model.inputSize }
    var exampleCount: Int { indices?.count ?? split.count }

    /// Every term on the chosen examples; Ctrl-C stops it between chunks (an error, nothing set).
    func evaluate() throws(ScriptError) -> ELBOTerms {
        let model = trainer.model
        let found = context.withProgress { progress in
            model.evaluate(split, indices: indices, samples: samples, draws: draws,
                           shouldStop: { context.isInterrupted }, progress: progress)
        }
        guard let terms = found else { throw ScriptError.interrupted(at: context.location) }
        return terms
    }

    func klPerDimension(_ index: Int) throws(ScriptError) -> [Double] {
        let posterior = trainer.model.posterior(split, index: index)
        return Divergence.klPerDimension(mean: posterior.mean, logVariance: posterior.logVariance).map(Double.init)
    }

    /// "test split of mnist-subset: 2,000 examples, 1 draw of z each".
    func scope(examples: Int, draws: String) -> String {
        let which = index.map { "example \($0) of the \(splitName) split" } ?? "\(splitName) split"
        return "\(which) of \(dataset.name): \(Format.grouped(examples)) example\(examples == 1 ? "" : "s"), \(draws) each"
    }

    /// What "±" means here: one standard error over the examples, or, for one example, over its
    /// draws; nil when there is nothing to estimate one from (one example, one draw).
    func standardErrorNote(examples: Int, draws: String?, drawCount: Int = 1) -> String? {
        if examples > 1 {
            return "± is one standard error of the mean over the \(Format.grouped(examples)) examples"
                + (draws.map { " (\($0) each)" } ?? " (the closed form: no draws of z)")
        }
        guard let draws, drawCount > 1 else { return nil }
        return "± is the Monte-Carlo standard error over the \(draws) of this one example"
    }

    /// A report that starts with the scope line and carries the example and draw counts. Without
    /// `drawsZ` (the closed-form KL alone) it does not claim any draws.
    func header(command: String, terms: ELBOTerms, drawsZ: Bool = true) -> Report {
        var report = Report(command: command)
        let draws = "\(terms.samples) draw\(terms.samples == 1 ? "" : "s") of z"
        if drawsZ {
            report.addText(scope(examples: terms.examples, draws: draws))
        } else {
            let which = index.map { "example \($0) of the \(splitName) split" } ?? "\(splitName) split"
            report.addText("\(which) of \(dataset.name): \(Format.grouped(terms.examples)) example\(terms.examples == 1 ? "" : "s"), "
                           + "the closed form (no draws of z)")
        }
        report.standardErrorNote = standardErrorNote(examples: terms.examples, draws: drawsZ ? draws : nil, drawCount: terms.samples)
        report.addField("split", .string(splitName))
        report.addField("examples", .int(terms.examples))
        report.addField("samples", .int(terms.samples))
        return report
    }
}
