import Foundation
import VAEFormats
import VAEKit

/// `sample`, `reconstruct`, `traverse`, `curves`: what the model draws, and how training went.
///
/// Pictures show inline (half-blocks on a colour terminal, ASCII shades otherwise, see
/// `TerminalPicture`) unless out= names a file; then the file is written atomically and one line
/// says what went where. Under --json each prints one JSON object and no picture.
extension CommandTable {
    static let samplingCommands: [CommandSpec] = [
        CommandSpec(
            "sample", topic: .sampling,
            arguments: [
                .positional("n", .int, default: 16, range: .between(1, 1024), abstract: "how many samples"),
                .option("out", .path, abstract: "write a PNG grid here instead of showing it"),
            ],
            abstract: "draw z from the prior N(0, I) and show the decoded pictures",
            discussion: """
            Draws n latent points z ~ p(z) = N(0, I), runs them through the decoder and shows the \
            mean of p(x|z) for each (the pixel probabilities σ(logits) for a Bernoulli decoder, \
            the means for a Gaussian one), eight to a row. These are what the model believes \
            data look like; a model that has not been trained draws grey noise. With out=FILE.png \
            it writes an 8-bit grey PNG grid (2 pixels of padding) instead of showing it. Uses a \
            fresh random stream from the session seed.
            """,
            examples: ["sample", "sample 64 out=samples.png", "sample n=8"]
        ) { context throws(ScriptError) in
            let out = try pictureFile(context)
            let trainer = try context.requireTrainer()
            let count = try context.arguments.int("n")
            let model = trainer.model
            let shape = tileShape(context, model: model)
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
                + "decoded to the mean of p(x|z) (\(meanDescription(model.configuration.likelihood)))"
            try show(grid, command: "sample", description: description, out: out, context: context) { report in
                report.addField("n", .int(count))
                report.addField("latent", .int(model.latentSize))
            }
        },

        CommandSpec(
            "reconstruct", topic: .sampling,
            arguments: [
                .positional("n", .int, default: 8, range: .between(1, 1024), abstract: "how many examples, from the first"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which examples"),
                .option("out", .path, abstract: "write a PNG grid here instead of showing it"),
            ],
            abstract: "show examples above their reconstructions",
            discussion: """
            Takes the first n examples of the split, encodes each to the mean μ of q(z|x), decodes \
            that back to the mean of p(x|z), and shows the originals in one row with their \
            reconstructions in the row below, eight to a row (as the PyTorch example's \
            reconstruction_N.png). No z is sampled, so the picture is the same every time. With \
            out=FILE.png it writes a PNG grid instead of showing it.
            """,
            examples: ["reconstruct", "reconstruct 16 split=train", "reconstruct out=reconstruction.png"]
        ) { context throws(ScriptError) in
            let out = try pictureFile(context)
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
            try show(grid, command: "reconstruct", description: description, out: out, context: context) { report in
                report.addField("n", .int(count))
                report.addField("split", .string(name))
            }
        },

        CommandSpec(
            "traverse", topic: .sampling,
            arguments: [
                .option("dim", .int, default: 0, range: .between(0, 9_999), abstract: "the latent dimension to vary, from 0"),
                .option("steps", .int, default: 9, range: .between(2, 64), abstract: "pictures from −range to +range"),
                .option("range", .double, default: 3, range: ValueRange(lowerBound: 0, includesLowerBound: false, upperBound: 100),
                        abstract: "the largest |z_dim|, in prior standard deviations"),
                .option("index", .int, default: 0, range: .atLeast(0), abstract: "the example whose other dimensions are kept"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "where the example comes from"),
                .option("out", .path, abstract: "write a PNG strip here instead of showing it"),
            ],
            abstract: "vary one latent dimension and show what the decoder makes of it",
            discussion: """
            Encodes one example to the mean μ of q(z|x), then sets dimension dim of μ to evenly \
            spaced values from −range to +range (left to right), keeps the other dimensions, and \
            decodes each point to the mean of p(x|z). A dimension the model uses changes the \
            picture; an inactive one (its KL near 0, see 'kl index=I') barely does. It also prints \
            that dimension's μ, σ and KL for the example.
            """,
            examples: ["traverse", "traverse dim=3 steps=11 range=2", "traverse dim=1 index=7 out=traverse.png"]
        ) { context throws(ScriptError) in
            let out = try pictureFile(context)
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
            let mu = Double(posterior.mean[0, dimension]), logVariance = Double(posterior.logVariance[0, dimension])
            let sigma = exp(logVariance / 2)
            let kl = 0.5 * (mu * mu + sigma * sigma - logVariance - 1)
            let description = "z[\(dimension)] from \(Format.general(-range)) to \(Format.general(range)) in \(steps) even steps, left to right; "
                + (model.latentSize == 1 ? "(the only dimension) for \(name) example \(index)"
                   : (model.latentSize == 2 ? "the other dimension stays" : "the other \(model.latentSize - 1) dimensions stay") + " at μ of \(name) example \(index)")
            try show(grid, command: "traverse", description: description, out: out, context: context) { report in
                report.add(Quantity("mu", label: "μ of q(z|x) in this dimension", value: mu, unit: "latent units", decimals: 3, setsVariable: false))
                report.add(Quantity("sigma", label: "σ of q(z|x) in this dimension", value: sigma, unit: "latent units", decimals: 3, setsVariable: false))
                report.add(Quantity("kl_dim", label: "KL of this dimension", value: kl, unit: "nats",
                                    expectation: kl < 0.01 ? "≥ 0; near 0: inactive for this example" : "≥ 0", decimals: 3, setsVariable: false))
                report.addField("dim", .int(dimension))
                report.addField("steps", .int(steps))
                report.addField("range", .number(range))
                report.addField("index", .int(index))
                report.addField("split", .string(name))
            }
        },

        CommandSpec(
            "curves", topic: .training,
            arguments: [.option("out", .path, abstract: "write the curves to FILE.png (a chart) or FILE.csv (the numbers) instead")],
            abstract: "per-epoch train and test loss, reconstruction and KL: a chart, or a PNG or CSV file",
            discussion: """
            Shows the loss of every epoch trained so far (train: the epoch's average over its \
            batches; test: the whole test split at the epoch's end, one draw per example) as a \
            text chart, then every term per epoch in a table, in nats per example. out=FILE.png \
            writes the loss, reconstruction and KL charts side by side; out=FILE.csv writes one \
            row per epoch (epoch, seconds, train_loss, train_recon, train_kl, test_loss, \
            test_recon, test_kl, test_elbo). 'undo' takes the curves back with the model.
            """,
            examples: ["curves", "curves out=curves.png", "curves out=curves.csv"]
        ) { context throws(ScriptError) in
            try runCurves(context)
        },
    ]

    /// Tiles per row in every picture grid, as the PyTorch example's 8-wide comparisons.
    static let gridColumns = 8
    /// Pictures decoded per pass; Ctrl-C is checked between passes.
    static let decodeChunk = 64

    /// The tile size for the model's pictures: the loaded data's when it fits the model, else
    /// square when D is a square, else one row of D pixels.
    static func tileShape(_ context: CommandContext, model: VAE<Float>) -> (width: Int, height: Int) {
        if let dataset = context.session.workbench.dataset, dataset.dimension == model.inputSize {
            return (dataset.imageWidth, dataset.imageHeight)
        }
        let side = Int(Double(model.inputSize).squareRoot().rounded())
        return side * side == model.inputSize ? (side, side) : (model.inputSize, 1)
    }

    static func meanDescription(_ likelihood: Likelihood) -> String {
        likelihood == .bernoulli ? "pixel probabilities σ(logits), Bernoulli" : "the Gaussian's means, clamped to [0, 1] for display"
    }

    /// The out= path, which must end in one of `extensions`; nil when not given.
    static func outputFile(_ context: CommandContext, extensions: [String]) throws(ScriptError) -> String? {
        guard let path = try context.arguments.optionalPath("out") else { return nil }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let fileExtension = name.contains(".") ? name.split(separator: ".").last.map { "." + $0.lowercased() } ?? "" : ""
        guard extensions.contains(fileExtension) else {
            let allowed = extensions.map { "FILE" + $0 }.joined(separator: " or ")
            let found = fileExtension.isEmpty ? "a name without an extension" : "'\(fileExtension)'"
            throw context.failure(argument: "out", "out= must name a \(allowed) file, not \(found)",
                                  hint: "\(context.spec.name) writes \(extensions.map { $0.dropFirst().uppercased() }.joined(separator: " and ")) files, e.g. out=\(context.spec.name)\(extensions[0])")
        }
        return path
    }

    static func pictureFile(_ context: CommandContext) throws(ScriptError) -> String? {
        try outputFile(context, extensions: [".png"])
    }

    /// Writes the grid to `out`, or renders it inline; then reports (one JSON object under --json).
    static func show(_ grid: ImageGrid, command: String, description: String, out: String?, context: CommandContext,
                     fields: (inout Report) -> Void) throws(ScriptError) {
        var report = Report(command: command)
        let image = grid.image()
        if let out {
            try context.engine { () throws in try image.writePNG(to: out) }
            report.addText("wrote \(out) (\(grid.rows)×\(grid.columns) grid, \(image.width)×\(image.height) pixels): \(description)")
        } else {
            report.addText(description + ":")
            report.addText(TerminalPicture.render(grid, style: TerminalPicture.style(for: context.session),
                                                  width: TerminalPicture.availableWidth(for: context.session)))
        }
        fields(&report)
        report.addField("rows", .int(grid.rows))
        report.addField("columns", .int(grid.columns))
        report.addField("width", .int(grid.tileWidth))
        report.addField("height", .int(grid.tileHeight))
        report.addField("file", out.map { .string($0) } ?? .null)
        context.report(report)
    }

    // MARK: - curves

    private static func runCurves(_ context: CommandContext) throws(ScriptError) {
        let out = try outputFile(context, extensions: [".png", ".csv"])
        let trainer = try context.requireTrainer()
        let history = trainer.history
        guard !history.isEmpty else {
            throw context.missing("training history", remedy: "run 'train' first; curves shows one point per epoch")
        }
        let epochs = history.map(\.epoch)
        let trainLoss = history.map { Optional($0.train.loss) }
        let trainRecon = history.map { Optional($0.train.reconstruction) }
        let trainKL = history.map { Optional($0.train.kl) }
        let testLoss = history.map { $0.test?.loss.mean }
        let testRecon = history.map { $0.test?.reconstruction.mean }
        let testKL = history.map { $0.test?.kl.mean }
        let testELBO = history.map { $0.test?.elbo.mean }

        var report = Report(command: "curves")
        if let out {
            if out.lowercased().hasSuffix(".csv") {
                var csv = "epoch,seconds,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,test_elbo\n"
                for (index, epoch) in history.enumerated() {
                    let cells = [trainLoss[index], trainRecon[index], trainKL[index], testLoss[index], testRecon[index], testKL[index], testELBO[index]]
                        .map { $0.map(Format.exact) ?? "" }
                    csv += ([String(epoch.epoch), Format.exact(epoch.seconds)] + cells).joined(separator: ",") + "\n"
                }
                try context.engine { () throws in try AtomicFile.write(Array(csv.utf8), to: out) }
                report.addText("wrote \(history.count) epoch\(history.count == 1 ? "" : "s") of train and test terms (nats per example) to \(out)")
            } else {
                let image = Chart.image([
                    ChartPanel(title: "LOSS (LOWER IS BETTER)", train: trainLoss, test: testLoss),
                    ChartPanel(title: "RECON (HIGHER IS BETTER)", train: trainRecon, test: testRecon),
                    ChartPanel(title: "KL(Q||P) (LOWER IS BETTER)", train: trainKL, test: testKL),
                ])
                try context.engine { () throws in try image.writePNG(to: out) }
                report.addText("wrote the loss, reconstruction and KL curves of \(history.count) epoch\(history.count == 1 ? "" : "s") to \(out) (\(image.width)×\(image.height) pixels)")
            }
        } else {
            let hasTest = testLoss.contains { $0 != nil }
            report.addText("loss = −ELBO per epoch, nats/example, lower is better:  ● train (epoch average)" + (hasTest ? "  ○ test" : ""))
            report.addText(Chart.text(ChartPanel(title: "LOSS", train: trainLoss, test: testLoss),
                                      width: TerminalPicture.availableWidth(for: context.session)))
            var table = TextTable(alignments: [.right, .right, .right, .right, .right, .right, .right, .right])
            table.append(["epoch", "loss ↓", "test loss ↓", "recon ↑", "test recon ↑", "KL ↓", "test KL ↓", "seconds"])
            for index in history.indices {
                func cell(_ value: Double?) -> String { value.map { Format.fixed($0, decimals: 2) } ?? "-" }
                table.append([String(epochs[index]), cell(trainLoss[index]), cell(testLoss[index]), cell(trainRecon[index]),
                              cell(testRecon[index]), cell(trainKL[index]), cell(testKL[index]), Format.fixed(history[index].seconds, decimals: 2)])
            }
            report.addTable(table)
            report.addText("nats per example; ↓ lower is better, ↑ higher is better")
        }
        report.addField("epochs", .array(epochs.map { .int($0) }))
        func series(_ values: [Double?]) -> JSONValue { .array(values.map { $0.map { .number($0) } ?? .null }) }
        report.addField("train_loss", series(trainLoss))
        report.addField("train_recon", series(trainRecon))
        report.addField("train_kl", series(trainKL))
        report.addField("test_loss", series(testLoss))
        report.addField("test_recon", series(testRecon))
        report.addField("test_kl", series(testKL))
        report.addField("file", out.map { .string($0) } ?? .null)
        context.report(report)
    }
}
