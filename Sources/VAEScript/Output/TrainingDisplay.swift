import VAEKit

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
        let model = trainer.model.architecture.summary
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
