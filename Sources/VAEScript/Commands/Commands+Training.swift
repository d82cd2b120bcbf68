import VAEFormats
import VAEKit

/// `train`, `step`, `undo`, `curves`: the optimiser at work, one step of it, the way back, and how it went.
extension CommandTable {
    static let trainingCommands: [CommandSpec] = [
        CommandSpec(
            "train", topic: .training,
            arguments: [
                .option("epochs", .int, default: 1, range: .between(1, 100_000), abstract: "passes over the training split"),
                .option("batch", .int, range: .between(1, 1_000_000), abstract: "examples per step (default: the batch setting, 128)"),
                .option("lr", .double, range: ValueRange(lowerBound: 0, includesLowerBound: false, upperBound: 1e6),
                        abstract: "learning rate (default: the lr setting, 1e-3)"),
                .option("beta", .double, default: 1, range: .between(0, 1e6), abstract: "weight β of the KL: the β-VAE loss is −recon + β·KL"),
                .option("warmup", .int, default: 0, range: .atLeast(0), abstract: "epochs over which the KL weight rises linearly from 0 to β"),
                .option("samples", .int, default: 1, range: .between(1, 1000), abstract: "draws of z per example in each step"),
                .option("optimizer", .choice(["adam", "sgd"]), abstract: "switch optimiser (resets its state); default: keep the current one"),
                .option("objective", .choice(TrainingObjective.allCases.map(\.rawValue)), default: "loss",
                        abstract: "loss: minimise −ELBO (correct); elbo: minimise the ELBO, the sign flipped by mistake"),
            ],
            abstract: "train the model: minimise loss = −ELBO with the optimiser",
            discussion: """
            Runs epochs of mini-batch training on the train split, shuffled from the session seed, \
            with the PyTorch example's recipe by default (Adam 1e-3, batch 128, the loss summed \
            over each batch). After each epoch it prints the epoch's average training terms and \
            the test terms (one draw per example), in nats per example, and sets loss, recon, kl, \
            test_loss, test_recon, test_kl, test_elbo, epoch and seconds. On a terminal a progress \
            bar shows the running terms. Ctrl-C stops at the end of the current batch and keeps \
            everything trained so far. If a term becomes NaN or infinite, training stops and the \
            parameters of the last good step are restored. 'undo' returns to before the command.
            """,
            examples: ["train", "train epochs=10", "train epochs=3 beta=4 warmup=1", "train objective=elbo epochs=1"],
            handler: runTraining
        ),

        CommandSpec(
            "step", topic: .training,
            arguments: [
                .option("batch", .int, range: .between(1, 1_000_000), abstract: "examples in the batch (default: the batch setting, 128)"),
                .option("lr", .double, range: ValueRange(lowerBound: 0, includesLowerBound: false, upperBound: 1e6),
                        abstract: "learning rate for this step (default: the lr setting)"),
                .option("objective", .choice(TrainingObjective.allCases.map(\.rawValue)), default: "loss",
                        abstract: "loss: minimise −ELBO (correct); elbo: minimise the ELBO, the sign flipped by mistake"),
            ],
            abstract: "one optimiser step on one batch, every term before → after",
            discussion: """
            Draws a batch from the training split, takes one step of the model's optimiser on it, \
            and prints each term on that batch before and after, with the same draws of z, so the \
            change is the step's alone. With the default objective the loss goes down and the \
            ELBO up by the same amount. objective=elbo minimises the ELBO instead, the classic \
            sign mistake: the terms move the wrong way. The step is kept, as any optimiser step \
            is; 'undo' restores the model from before it. Sets loss, elbo, recon, kl (after), \
            loss_before, elbo_before, delta_loss and delta_elbo.
            """,
            examples: ["step", "step batch=64 lr=1e-3", "step objective=elbo"],
            handler: takeStep
        ),

        CommandSpec(
            "undo", topic: .training,
            abstract: "restore the model and optimiser from before the last train or step",
            discussion: """
            train and step change the model for good, as any optimiser step does. undo puts back \
            the parameters, the optimiser's state and the random stream from just before the last \
            of them. One level: a second undo has nothing to return to.
            """,
            examples: ["undo"],
            handler: undoLast
        ),

        CommandSpec(
            "curves", topic: .training,
            arguments: [.option("out", .path, abstract: "write the curves to FILE.png (a chart) or FILE.csv (the numbers) instead"),
                        pictureScaleArgument],
            abstract: "per-epoch train and test loss, reconstruction and KL: a chart, or a PNG or CSV file",
            discussion: """
            Shows the loss of every epoch trained so far (train: the epoch's average over its \
            batches; test: the whole test split at the epoch's end, one draw per example) as a \
            text chart, then every term per epoch in a table, in nats per example. out=FILE.png \
            writes the loss, reconstruction and KL charts side by side; out=FILE.csv writes one \
            row per epoch (epoch, seconds, train_loss, train_recon, train_kl, test_loss, \
            test_recon, test_kl, test_elbo); scale=N draws the PNG N times larger. In the text \
            chart ● marks the train loss, ○ the test loss, and ◉ a column where both fall in the \
            same cell; ┤ marks the values written on the axis. 'undo' takes the curves back with \
            the model.
            """,
            examples: ["curves", "curves out=curves.png", "curves out=curves.csv", "curves out=curves.png scale=2"],
            handler: runCurves
        ),
    ]

    // MARK: - Handlers

    private static func undoLast(_ context: CommandContext) throws(ScriptError) {
        let workbench = context.session.workbench
        let undone = workbench.current?.command ?? ""
        guard let point = workbench.undo(command: context.invocation.sourceText) else {
            throw context.failure("nothing to undo", hint: "undo returns to before the last 'train' or 'step'")
        }
        context.report(.message(command: "undo", text: "restored the model and optimiser from before '\(undone)' (epoch \(point.trainer.epochsCompleted), step \(point.trainer.optimizer.step))"))
    }

    /// The `train` command's body.
    private static func runTraining(_ context: CommandContext) throws(ScriptError) {
        let (dataset, current) = try context.requireDataAndModel()
        let session = context.session
        var settings = TrainingSettings()
        settings.epochs = try context.arguments.int("epochs")
        settings.batchSize = try context.arguments.optionalInt("batch") ?? context.settings.batch
        settings.beta = try context.arguments.double("beta")
        settings.samples = try context.arguments.int("samples")
        settings.objective = TrainingObjective(rawValue: try context.arguments.string("objective")) ?? .loss
        let learningRate = try context.arguments.optionalDouble("lr") ?? context.settings.lr
        let examples = dataset.train.count
        let batchesPerEpoch = (examples + min(settings.batchSize, examples) - 1) / max(1, min(settings.batchSize, examples))
        settings.warmupSteps = try context.arguments.int("warmup") * batchesPerEpoch

        // Train a copy, so that a failure before the first step changes nothing, and keep the
        // original as the undo point.
        var active = current.copy()
        if let name = try context.arguments.optionalString("optimizer"), name != active.optimizer.kind.name {
            active = active.replacingOptimizer(optimizer(named: name, for: active.model, learningRate: learningRate))
        }
        active.optimizer.learningRate = learningRate

        let display = TrainingDisplay(context: context, dataset: dataset, trainer: active, settings: settings, learningRate: learningRate)
        display.start()
        let outcome = active.train(dataset.train, test: dataset.test, settings: settings) { event in
            display.handle(event)
            return context.isInterrupted ? .stop : .proceed
        }
        session.workbench.replaceModel(with: active, command: context.invocation.sourceText)
        display.finish()

        if let last = active.history.last {
            context.setVariable("epoch", Double(active.epochsCompleted))
            context.setVariable("seconds", last.seconds, unit: "s")
            context.setVariable("loss", last.train.loss, unit: "nats/example")
            context.setVariable("recon", last.train.reconstruction, unit: "nats/example")
            context.setVariable("kl", last.train.kl, unit: "nats/example")
            if let test = last.test {
                context.setVariable("test_loss", test.loss.mean, unit: "nats/example")
                context.setVariable("test_recon", test.reconstruction.mean, unit: "nats/example")
                context.setVariable("test_kl", test.kl.mean, unit: "nats/example")
                context.setVariable("test_elbo", test.elbo.mean, unit: "nats/example")
            }
        }
        switch outcome {
        case .completed:
            break
        case .stopped(let epoch, let batch):
            var report = Report.message(command: "train", text: "stopped by Ctrl-C after batch \(batch) of epoch \(epoch); the model and optimiser are as after that step ('undo' returns to before this command)")
            report.addField("stopped", .bool(true))
            session.emit(report)
        case .diverged(let epoch, let batch, let restored):
            let what = restored ? "restored the parameters of the last good step" : "there was no earlier step to restore"
            throw context.failure(
                "training diverged at batch \(batch) of epoch \(epoch): a term became NaN or infinite; \(what)",
                hint: "lower the learning rate (e.g. lr=\(Format.exact(learningRate / 10))); log σ² is clamped to [−30, 20]; 'undo' returns to before this command")
        }
    }

    private static func takeStep(_ context: CommandContext) throws(ScriptError) {
        let (dataset, current) = try context.requireDataAndModel()
        let objective = TrainingObjective(rawValue: try context.arguments.string("objective")) ?? .loss
        let batchSize = try context.arguments.optionalInt("batch") ?? context.settings.batch
        let learningRate = try context.arguments.optionalDouble("lr") ?? context.settings.lr

        let stepped = current.copy()
        stepped.optimizer.learningRate = learningRate
        var random = context.measurementStream()
        let batch: Matrix<Float> = dataset.train.randomBatch(size: batchSize, random: &random)
        let result = stepped.measuredStep(on: batch, objective: objective, random: random)
        guard result.after.loss.isFinite && result.after.elbo.isFinite else {
            throw context.failure("the step made a term NaN or infinite; the model is unchanged",
                                  hint: "lower the learning rate, e.g. lr=\(Format.exact(learningRate / 10))")
        }

        var table = TextTable(alignments: [.left, .right, .right, .right, .left])
        table.append(["term", "before", "after", "change", ""])
        func row(_ name: String, _ before: Double, _ after: Double, higherIsBetter: Bool) {
            let change = after - before
            let arrow = change > 0 ? "↑" : change < 0 ? "↓" : "="
            let better = change == 0 ? "" : (change > 0) == higherIsBetter ? "better" : "worse"
            table.append([name, Format.fixed(before, decimals: 3), Format.fixed(after, decimals: 3), Format.signed(change), "\(arrow) \(better)"])
        }
        row("recon ↑", result.before.reconstruction, result.after.reconstruction, higherIsBetter: true)
        row("KL ↓", result.before.kl, result.after.kl, higherIsBetter: false)
        row("ELBO ↑", result.before.elbo, result.after.elbo, higherIsBetter: true)
        row("loss ↓", result.before.loss, result.after.loss, higherIsBetter: false)

        var report = Report(command: "step")
        let goal = objective == .loss ? "minimising loss = −ELBO" : "minimising the ELBO (objective=elbo: the sign flipped on purpose)"
        report.addText("one \(stepped.optimizer.kind.name) step, lr \(Format.exact(learningRate)), on \(batch.rows) training examples, \(goal); "
                       + "terms on that batch with the same draws of z, nats/example:")
        report.addTable(table)
        if objective == .loss {
            report.addText(result.deltaLoss < 0 && result.deltaELBO > 0
                           ? "loss ↓ \(Format.signed(result.deltaLoss)) ⇔ ELBO ↑ \(Format.signed(result.deltaELBO)): the same change, opposite signs"
                           : "this step did not lower the loss (a step can overshoot; try a smaller lr)")
        } else {
            report.addText(result.deltaELBO < 0
                           ? "the ELBO went down and the loss up: minimising the ELBO pushes the model the wrong way; keep it up and the KL grows while the reconstruction collapses"
                           : "this step happened to raise the ELBO; repeat it and the flipped objective wins")
        }
        report.addText("the step is kept, as any optimiser step is; 'undo' restores the model from before it")
        report.add(Quantity("loss", value: result.after.loss, unit: nats).jsonOnly)
        report.add(Quantity("elbo", value: result.after.elbo, unit: nats).jsonOnly)
        report.add(Quantity("recon", value: result.after.reconstruction, unit: nats).jsonOnly)
        report.add(Quantity("kl", value: result.after.kl, unit: nats).jsonOnly)
        report.add(Quantity("loss_before", value: result.before.loss, unit: nats).jsonOnly)
        report.add(Quantity("elbo_before", value: result.before.elbo, unit: nats).jsonOnly)
        report.add(Quantity("delta_loss", value: result.deltaLoss, unit: nats).jsonOnly)
        report.add(Quantity("delta_elbo", value: result.deltaELBO, unit: nats).jsonOnly)
        report.addField("examples", .int(batch.rows))

        // Commit: the stepped copy becomes the model; the old one is the undo point.
        stepped.optimizer.learningRate = current.optimizer.learningRate
        context.session.workbench.replaceModel(with: stepped, command: context.invocation.sourceText)
        context.report(report)
    }

    private static func runCurves(_ context: CommandContext) throws(ScriptError) {
        let out = try context.outputFile(extensions: [".png", ".csv"])
        let scale = try context.pictureScale(out: out)
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

        let panels = [
            ChartPanel(title: "LOSS (LOWER IS BETTER)", train: trainLoss, test: testLoss),
            ChartPanel(title: "RECON (HIGHER IS BETTER)", train: trainRecon, test: testRecon),
            ChartPanel(title: "KL(Q||P) (LOWER IS BETTER)", train: trainKL, test: testKL),
        ]
        let epochCount = "\(history.count) epoch\(history.count == 1 ? "" : "s")"
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
                let image = Chart.image(panels)
                let written = try context.writePicture(image, scale: scale, to: out)
                report.addText("wrote the loss, reconstruction and KL curves of \(epochCount) to \(out) (\(written.width)×\(written.height) pixels)")
            }
        } else {
            // A terminal draws the loss alone, in characters; a notebook shows all three panels.
            let hasTest = testLoss.contains { $0 != nil }
            // The legend explains the characters' marks, so it belongs to the text form only.
            var legend = TextTable(indent: "  ")
            legend.append(["●", "train: the epoch's average over its batches"])
            if hasTest {
                legend.append(["○", "test: the whole test split at the epoch's end"])
                legend.append(["◉", "train and test in the same cell"])
            }
            legend.append(["┤", "the value written beside it"])
            let width = context.session.lineWidth
            let image = Chart.image(panels)
            report.addPicture(Picture(image: image, description: "the loss, reconstruction and KL curves of \(epochCount), "
                                      + "train and test, in nats per example (\(image.width)×\(image.height) pixels)",
                                      text: TextLayout.wrapLines("loss = −ELBO per epoch, nats/example, lower is better:\n", width: width)
                                        + legend.render(width: width) + Chart.text(ChartPanel(title: "LOSS", train: trainLoss, test: testLoss),
                                                       width: TerminalPicture.availableWidth(for: context.session))))
            // Without a test split in the history, its three columns (2, 4, 6) would hold only dashes.
            func shown(_ row: [String]) -> [String] {
                hasTest ? row : row.enumerated().filter { ![2, 4, 6].contains($0.offset) }.map(\.element)
            }
            let headings = shown(["epoch", "loss ↓", "test loss ↓", "recon ↑", "test recon ↑", "KL ↓", "test KL ↓", "seconds"])
            var table = TextTable(alignments: headings.map { _ in .right })
            table.append(headings)
            for index in history.indices {
                func cell(_ value: Double?) -> String { value.map { Format.fixed($0, decimals: 2) } ?? "-" }
                table.append(shown([String(epochs[index]), cell(trainLoss[index]), cell(testLoss[index]), cell(trainRecon[index]),
                                    cell(testRecon[index]), cell(trainKL[index]), cell(testKL[index]),
                                    Format.fixed(history[index].seconds, decimals: 2)]))
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
