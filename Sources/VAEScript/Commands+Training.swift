import VAEFormats
import VAEKit

/// `train` and `undo`: the optimiser at work, and the way back.
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
            examples: ["train", "train epochs=10", "train epochs=3 beta=4 warmup=1", "train objective=elbo epochs=1"]
        ) { context throws(ScriptError) in
            try runTraining(context)
        },

        CommandSpec(
            "undo", topic: .training,
            abstract: "restore the model and optimiser from before the last train or step",
            discussion: """
            train and step change the model for good, as any optimiser step does. undo puts back \
            the parameters, the optimiser's state and the random stream from just before the last \
            of them. One level: a second undo has nothing to return to.
            """,
            examples: ["undo"]
        ) { context throws(ScriptError) in
            let workbench = context.session.workbench
            guard let point = workbench.undoPoint else {
                throw context.failure("nothing to undo", hint: "undo returns to before the last 'train' or 'step'")
            }
            workbench.trainer = point.trainer
            workbench.undoPoint = nil
            context.report(.message(command: "undo", text: "restored the model and optimiser from before '\(point.command)' (epoch \(point.trainer.epochsCompleted), step \(point.trainer.optimizer.step))"))
        },
    ]

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
        session.workbench.trainer = active
        session.workbench.undoPoint = (current, context.invocation.sourceText)
        display.finish()

        if let last = active.history.last {
            session.setVariable("epoch", Double(active.epochsCompleted))
            session.setVariable("seconds", last.seconds, unit: "s")
            session.setVariable("loss", last.train.loss, unit: "nats/example")
            session.setVariable("recon", last.train.reconstruction, unit: "nats/example")
            session.setVariable("kl", last.train.kl, unit: "nats/example")
            if let test = last.test {
                session.setVariable("test_loss", test.loss.mean, unit: "nats/example")
                session.setVariable("test_recon", test.reconstruction.mean, unit: "nats/example")
                session.setVariable("test_kl", test.kl.mean, unit: "nats/example")
                session.setVariable("test_elbo", test.elbo.mean, unit: "nats/example")
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
}

/// What `train` shows while it runs: a table row per epoch, a progress bar on a terminal, or one
/// JSON object per epoch.
final class TrainingDisplay {
    private let context: CommandContext
    private let dataset: Dataset
    private let trainer: Trainer<Float>
    private let settings: TrainingSettings
    private let learningRate: Double
    private let showsProgress: Bool
    private var lastDraw = ContinuousClock.now
    private var barVisible = false

    init(context: CommandContext, dataset: Dataset, trainer: Trainer<Float>, settings: TrainingSettings, learningRate: Double) {
        self.context = context
        self.dataset = dataset
        self.trainer = trainer
        self.settings = settings
        self.learningRate = learningRate
        showsProgress = context.session.options.isTerminal && !context.settings.json
    }

    private var json: Bool { context.settings.json }
    private var output: OutputSink { context.output }

    private static let columns = ["epoch", "loss ↓", "recon ↑", "KL ↓", "test loss ↓", "test ELBO ↑", "seconds"]
    private static let widths = [5, 10, 10, 9, 12, 12, 8]

    private static func row(_ cells: [String]) -> String {
        zip(cells, widths).map { cell, width in String(repeating: " ", count: max(0, width - cell.count)) + cell }
            .joined(separator: " ") + "\n"
    }

    func start() {
        guard !json else { return }
        let model = trainer.model.configuration.summary
        let objective = settings.objective == .loss
            ? "minimising loss = −ELBO = −recon + \(settings.beta == 1 ? "" : "β·")KL"
            : "MINIMISING THE ELBO (objective=elbo, the sign flipped on purpose): expect recon to fall and KL to grow"
        output.write("training \(model) on \(dataset.name) train (\(Format.grouped(dataset.train.count)) images), "
                     + "\(trainer.optimizer.kind.name) lr \(Format.exact(learningRate)), batch \(settings.batchSize)"
                     + (settings.beta == 1 ? "" : ", β \(Format.exact(settings.beta))")
                     + (settings.warmupSteps > 0 ? ", KL warm-up over \(settings.warmupSteps) steps" : "") + ": \(objective)\n")
        output.write(Self.row(Self.columns))
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case .batchEnd(let report):
            guard showsProgress else { return }
            let now = ContinuousClock.now
            guard now - lastDraw > .milliseconds(100) || report.batch == report.batchesPerEpoch else { return }
            lastDraw = now
            drawBar(report)
        case .epochEnd(let report):
            clearBar()
            let test = report.test
            if json {
                var object = Report(command: "train")
                object.addField("epoch", .int(report.epoch))
                object.addField("seconds", .number(report.seconds))
                object.addField("loss", .number(report.train.loss))
                object.addField("recon", .number(report.train.reconstruction))
                object.addField("kl", .number(report.train.kl))
                if let test {
                    object.addField("test_loss", .number(test.loss.mean))
                    object.addField("test_recon", .number(test.reconstruction.mean))
                    object.addField("test_kl", .number(test.kl.mean))
                    object.addField("test_elbo", .number(test.elbo.mean))
                }
                object.addField("examples", .int(report.examples))
                context.session.emit(object)
            } else {
                // A run that blows up (objective=elbo) reaches 1e9 nats: keep the columns aligned.
                func cell(_ value: Double) -> String {
                    abs(value) < 1e6 ? Format.fixed(value, decimals: 2) : String(format: "%.3e", value)
                }
                output.write(Self.row([
                    String(report.epoch), cell(report.train.loss), cell(report.train.reconstruction), cell(report.train.kl),
                    test.map { cell($0.loss.mean) } ?? "-", test.map { cell($0.elbo.mean) } ?? "-",
                    Format.fixed(report.seconds, decimals: 2),
                ]))
            }
        }
    }

    func finish() {
        clearBar()
        guard !json else { return }
        output.write("nats per example; ↓ lower is better, ↑ higher is better; train columns average the epoch's batches, test uses one draw per example\n")
    }

    private func drawBar(_ report: BatchReport) {
        let width = 24
        let done = Int(Double(width) * Double(report.batch) / Double(report.batchesPerEpoch))
        let bar = String(repeating: "█", count: done) + String(repeating: "░", count: width - done)
        let rate = report.seconds > 0 ? Double(report.epochAverage.examples) / report.seconds : 0
        let remaining = rate > 0 ? Double(dataset.train.count - report.epochAverage.examples) / rate : 0
        let line = "epoch \(report.epoch) \(bar) \(report.batch)/\(report.batchesPerEpoch)  ETA \(Format.fixed(remaining, decimals: 0))s"
            + "  \(Format.grouped(Int(rate))) ex/s  recon \(Format.fixed(report.epochAverage.reconstruction, decimals: 1))"
            + "  KL \(Format.fixed(report.epochAverage.kl, decimals: 1))  loss \(Format.fixed(report.epochAverage.loss, decimals: 1))"
        output.write("\r\u{1B}[2K" + line)
        barVisible = true
    }

    private func clearBar() {
        guard barVisible else { return }
        output.write("\r\u{1B}[2K")
        barVisible = false
    }
}
