import Foundation
import VAEFormats
import VAEKit

/// `sample`, `reconstruct`, `traverse`: what the model draws.
///
/// Pictures show inline (half-blocks on a colour terminal, ASCII shades otherwise, see
/// `TerminalPicture`) unless out= names a file; then the file is written atomically and one line
/// says what went where. Under --json each prints one JSON object and no picture.
extension CommandTable {
    static let pictureCommands: [CommandSpec] = [
        CommandSpec(
            "sample", topic: .pictures,
            arguments: [
                .positional("n", .int, default: 16, range: .between(1, 1024), abstract: "how many samples"),
                .option("out", .path, abstract: "write a PNG grid here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "draw z from the prior N(0, I) and show the decoded pictures",
            discussion: """
            Draws n latent points z ~ p(z) = N(0, I), runs them through the decoder and shows the \
            mean of p(x|z) for each (the pixel probabilities σ(logits) for a Bernoulli decoder, \
            the means for a Gaussian one), eight to a row. These are what the model believes \
            data look like; a model that has not been trained draws grey noise. With out=FILE.png \
            it writes an 8-bit grey PNG grid (2 pixels of padding) instead of showing it. Uses a \
            fresh random stream from the session seed. scale=N draws each pixel of the PNG as an N×N block.
            """,
            examples: ["sample", "sample 64 out=samples.png", "sample n=8", "sample out=slide.png scale=8"],
            handler: sampleFromPrior
        ),

        CommandSpec(
            "reconstruct", topic: .pictures,
            arguments: [
                .positional("n", .int, default: 8, range: .between(1, 1024), abstract: "how many examples, from the first"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which examples"),
                .option("out", .path, abstract: "write a PNG grid here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "show examples above their reconstructions",
            discussion: """
            Takes the first n examples of the split, encodes each to the mean μ of q(z|x), decodes \
            that back to the mean of p(x|z), and shows the originals in one row with their \
            reconstructions in the row below, eight to a row (as the PyTorch example's \
            reconstruction_N.png). No z is sampled, so the picture is the same every time. With \
            out=FILE.png it writes a PNG grid instead of showing it.
            """,
            examples: ["reconstruct", "reconstruct 16 split=train", "reconstruct out=reconstruction.png"],
            handler: reconstructExamples
        ),

        CommandSpec(
            "traverse", topic: .pictures,
            arguments: [
                .option("dim", .int, default: 0, range: .between(0, 9_999), abstract: "the latent dimension to vary, from 0"),
                .option("steps", .int, default: 9, range: .between(2, 64), abstract: "pictures from −range to +range"),
                .option("range", .double, default: 3, range: ValueRange(lowerBound: 0, includesLowerBound: false, upperBound: 100),
                        abstract: "the largest |z_dim|, in prior standard deviations"),
                .option("index", .int, default: 0, range: .atLeast(0), abstract: "the example whose other dimensions are kept"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "where the example comes from"),
                .option("out", .path, abstract: "write a PNG strip here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "vary one latent dimension and show what the decoder makes of it",
            discussion: """
            Encodes one example to the mean μ of q(z|x), then sets dimension dim of μ to evenly \
            spaced values from −range to +range (left to right), keeps the other dimensions, and \
            decodes each point to the mean of p(x|z). A dimension the model uses changes the \
            picture; an inactive one barely does. It also prints that dimension's μ, σ and KL for \
            the example, its activity A_d = Cov_x(μ_d) over the first 1,000 examples of the split \
            (see 'active-units'), and how much the pictures change from the first to the last \
            (the mean absolute pixel difference). Sets activity and picture_change.
            """,
            examples: ["traverse", "traverse dim=3 steps=11 range=2", "traverse dim=1 index=7 out=traverse.png"],
            handler: traverseDimension
        ),
    ]

    /// `scale=N` of a PNG: every pixel an N×N block.
    static let pictureScaleArgument = ArgumentSpec.option(
        "scale", .int, default: 1, range: .between(1, 32), abstract: "with out=FILE.png: draw each pixel as an N×N block, e.g. for slides")

    /// Examples `traverse` measures a dimension's activity on: enough for A_d to two decimals,
    /// and an encoder pass of a few milliseconds.
    static let traverseActivityExamples = 1000

    /// Tiles per row in every picture grid, as the PyTorch example's 8-wide comparisons.
    static let gridColumns = 8
    /// Pictures decoded per pass; Ctrl-C is checked between passes.
    static let decodeChunk = 64

    // MARK: - Handlers

    private static func sampleFromPrior(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let trainer = try context.requireTrainer()
        let count = try context.arguments.int("n")
        let model = trainer.model
        let shape = context.tileShape(model: model)
        var random = context.randomStream()
        var tiles: [GreyImage?] = []
        var done = 0
        while done < count {
            if context.isInterrupted { throw .interrupted(at: context.location) }
            let chunk = min(decodeChunk, count - done)
            let means = model.sample(count: chunk, random: &random)
            tiles += ImageGrid(means, tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
            done += chunk
        }
        let grid = ImageGrid(tileWidth: shape.width, tileHeight: shape.height, columns: min(count, gridColumns), tiles: tiles)
        let description = "\(count) sample\(count == 1 ? "" : "s") from the prior: z ~ N(0, I) in \(model.latentSize) dimensions, "
            + "decoded to the mean of p(x|z) (\(meanDescription(model.architecture.likelihood)))"
        try context.show(grid, command: "sample", description: description, out: out) { report in
            report.addField("n", .int(count))
            report.addField("latent", .int(model.latentSize))
        }
    }

    private static func reconstructExamples(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let (dataset, trainer) = try context.requireDataAndModel()
        let count = try context.arguments.int("n")
        let name = try context.arguments.string("split")
        let split = try context.split(of: dataset, named: name)
        guard count <= split.count else {
            throw context.failure(argument: "n", "n=\(count), but the \(name) split has only \(Format.grouped(split.count)) examples",
                                  hint: "ask for at most \(split.count)")
        }
        let model = trainer.model
        let shape = (width: dataset.imageWidth, height: dataset.imageHeight)
        var originals: [GreyImage?] = [], reconstructions: [GreyImage?] = []
        var done = 0
        while done < count {
            if context.isInterrupted { throw .interrupted(at: context.location) }
            let chunk = min(decodeChunk, count - done)
            let x = Matrix<Float>(rows: chunk, columns: model.inputSize)
            split.fillBatch(done..<done + chunk, into: x, epoch: 0)
            originals += ImageGrid(x, tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
            let means = model.reconstruct(x, rows: chunk)
            reconstructions += ImageGrid(means, tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
            done += chunk
        }
        // Rows of up to eight originals, each followed by the row of their reconstructions.
        let columns = min(count, gridColumns)
        var tiles: [GreyImage?] = []
        for start in stride(from: 0, to: count, by: columns) {
            let end = min(count, start + columns)
            let blanks = [GreyImage?](repeating: nil, count: columns - (end - start))
            tiles += Array(originals[start..<end]) + blanks + Array(reconstructions[start..<end]) + blanks
        }
        let grid = ImageGrid(tileWidth: shape.width, tileHeight: shape.height, columns: columns, tiles: tiles)
        let description = "the first \(count) \(name) example\(count == 1 ? "" : "s") (upper row) and their reconstructions (lower row): "
            + "x → μ of q(z|x) → mean of p(x|z), no sampling"
        try context.show(grid, command: "reconstruct", description: description, out: out) { report in
            report.addField("n", .int(count))
            report.addField("split", .string(name))
        }
    }

    private static func traverseDimension(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let (dataset, trainer) = try context.requireDataAndModel()
        let model = trainer.model
        let dimension = try context.arguments.int("dim")
        let steps = try context.arguments.int("steps")
        let range = try context.arguments.double("range")
        let index = try context.arguments.int("index")
        let name = try context.arguments.string("split")
        let split = try context.split(of: dataset, named: name)
        guard dimension < model.latentSize else {
            throw context.failure(argument: "dim", "dim=\(dimension), but the model has \(model.latentSize) latent dimension\(model.latentSize == 1 ? "" : "s") (0…\(model.latentSize - 1))")
        }
        guard index < split.count else {
            throw context.failure(argument: "index", "index=\(index), but the \(name) split has \(Format.grouped(split.count)) examples (0…\(split.count - 1))")
        }
        if context.isInterrupted { throw .interrupted(at: context.location) }
        let x = Matrix<Float>(rows: 1, columns: model.inputSize)
        split.fillBatch(CollectionOfOne(index), into: x, epoch: 0)
        let posterior = model.encodeMean(x, rows: 1)
        let z = Matrix<Float>(rows: steps, columns: model.latentSize)
        let values = (0..<steps).map { -range + 2 * range * Double($0) / Double(steps - 1) }
        for (row, value) in values.enumerated() {
            for j in 0..<model.latentSize { z[row, j] = posterior.mean[0, j] }
            z[row, dimension] = Float(value)
        }
        let means = model.decodeMean(z)
        let grid = ImageGrid(means, tileWidth: dataset.imageWidth, tileHeight: dataset.imageHeight, columns: steps)
        // What the pictures show, as numbers: how far the ends of the strip differ, and whether the
        // dimension is used across the data (one example's KL cannot say).
        let change = (0..<model.inputSize).map { abs(Double(means[steps - 1, $0]) - Double(means[0, $0])) }.reduce(0, +) / Double(model.inputSize)
        let measured = Array(0..<min(split.count, traverseActivityExamples))
        let activity = measured.count >= 2 ? model.latentActivity(split, indices: measured).map { $0.activity[dimension] } : nil
        let mu = Double(posterior.mean[0, dimension]), logVariance = Double(posterior.logVariance[0, dimension])
        let sigma = exp(logVariance / 2)
        let kl = Double(Divergence.klPerDimension(mean: [posterior.mean[0, dimension]], logVariance: [posterior.logVariance[0, dimension]])[0])
        let description = "z[\(dimension)] from \(Format.general(-range)) to \(Format.general(range)) in \(steps) even steps, left to right; "
            + (model.latentSize == 1 ? "(the only dimension) for \(name) example \(index)"
               : (model.latentSize == 2 ? "the other dimension stays" : "the other \(model.latentSize - 1) dimensions stay") + " at μ of \(name) example \(index)")
        try context.show(grid, command: "traverse", description: description, out: out) { report in
            report.add(Quantity("mu", label: "μ of q(z|x) in this dimension", value: mu, unit: "latent units", decimals: 3, setsVariable: false))
            report.add(Quantity("sigma", label: "σ of q(z|x) in this dimension", value: sigma, unit: "latent units", decimals: 3, setsVariable: false))
            report.add(Quantity("kl_dim", label: "KL of this dimension", value: kl, unit: "nats",
                                expectation: kl < 0.01 ? "≥ 0; near 0: at the prior for this example" : "≥ 0", decimals: 3, setsVariable: false))
            if let activity {
                report.add(Quantity("activity", label: "A_d = Cov_x(μ_d) over \(Format.grouped(measured.count)) \(name) examples", value: activity,
                                    unit: "latent units²", expectation: activity > LatentActivity.threshold ? "> 0.01: active across the data"
                                        : "≤ 0.01: inactive across the data", decimals: 4))
            }
            report.add(Quantity("picture_change", label: "mean |Δ pixel| from the first picture to the last", value: change,
                                unit: "of the grey range", expectation: change < 0.01 ? "the pictures barely change" : nil, decimals: 3))
            report.addField("dim", .int(dimension))
            report.addField("steps", .int(steps))
            report.addField("range", .number(range))
            report.addField("index", .int(index))
            report.addField("split", .string(name))
        }
    }

    static func meanDescription(_ likelihood: Likelihood) -> String {
        likelihood == .bernoulli ? "pixel probabilities σ(logits), Bernoulli" : "the Gaussian's means, clamped to [0, 1] for display"
    }
}
