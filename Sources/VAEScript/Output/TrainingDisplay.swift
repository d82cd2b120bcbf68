import VAEKit

/// What `train` shows while it runs: a table row per epoch, a progress bar on a terminal, or one
/// JSON object per epoch.
final class TrainingDisplay {
    private let context: CommandContext
    private let dataset: Dataset
    private let trainer: Trainer<Float>
    private let settings: TrainingSettings
    private let learningRate: Double
    private let progress: ProgressLine

    init(context: CommandContext, dataset: Dataset, trainer: Trainer<Float>, settings: TrainingSettings, learningRate: Double) {
        self.context = context
        self.dataset = dataset
        self.trainer = trainer
        self.settings = settings
        self.learningRate = learningRate
        // Training runs past a second from its first epoch: the bar shows at once.
        progress = ProgressLine(session: context.session, delay: .zero)
    }

    private var json: Bool { context.settings.json }
    private var output: OutputSink { context.output }

    /// Data without a test split (a lone CSV or IDX file, `merge-test=yes`) gets no test columns.
    private var hasTest: Bool { dataset.test != nil }

    private var columns: [String] {
        ["epoch", "loss ↓", "recon ↑", "KL ↓"] + (hasTest ? ["test loss ↓", "test ELBO ↑"] : []) + ["seconds"]
    }

    private var widths: [Int] { [5, 10, 10, 9] + (hasTest ? [12, 12] : []) + [8] }

    private func row(_ cells: [String]) -> String {
        zip(cells, widths).map { cell, width in String(repeating: " ", count: max(0, width - cell.count)) + cell }
            .joined(separator: " ") + "\n"
    }

    func start() {
        guard !json else { return }
        let model = trainer.model.architecture.summary
        let objective = settings.objective == .loss
            ? "minimising loss = −ELBO = −recon + \(settings.beta == 1 ? "" : "β·")KL"
            : "MINIMISING THE ELBO (objective=elbo, the sign flipped on purpose): expect recon to fall and KL to grow"
        write("training \(model) on \(dataset.name) train (\(Format.grouped(dataset.train.count)) images), "
              + "\(trainer.optimizer.kind.name) lr \(Format.exact(learningRate)), batch \(settings.batchSize)"
              + (settings.beta == 1 ? "" : ", β \(Format.exact(settings.beta))")
              + (settings.warmupSteps > 0 ? ", KL warm-up over \(settings.warmupSteps) steps" : "") + ": \(objective)\n")
        output.write(row(columns))
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case .batchEnd(let report):
            drawBar(report)
        case .epochEnd(let report):
            progress.clear()
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
                let testCells = hasTest ? [test.map { cell($0.loss.mean) } ?? "-", test.map { cell($0.elbo.mean) } ?? "-"] : []
                output.write(row([String(report.epoch), cell(report.train.loss), cell(report.train.reconstruction), cell(report.train.kl)]
                                 + testCells + [Format.fixed(report.seconds, decimals: 2)]))
            }
        }
    }

    func finish() {
        progress.clear()
        guard !json else { return }
        write("nats per example; ↓ lower is better, ↑ higher is better; train columns average the epoch's batches"
              + (hasTest ? ", test uses one draw per example\n" : "\n"))
    }

    /// Text laid out for the session's width.
    private func write(_ text: String) {
        output.write(TextLayout.wrapLines(text, width: context.session.lineWidth))
    }

    private var lastDraw: ContinuousClock.Instant?

    /// `epoch 1  ███░░  23/469  ETA 12s  loss 172.5  recon -160.2  KL 12.3  10,512 ex/s`, the
    /// fields after the ETA dropped from the right when the width is short.
    private func drawBar(_ report: BatchReport) {
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100), report.batch != report.batchesPerEpoch { return }
        lastDraw = now
        let rate = report.seconds > 0 ? Double(report.epochAverage.examples) / report.seconds : 0
        let remaining = rate > 0 ? Double(dataset.train.count - report.epochAverage.examples) / rate : 0
        progress.draw(label: "epoch \(report.epoch)", fraction: Double(report.batch) / Double(report.batchesPerEpoch),
                      counts: "\(report.batch)/\(report.batchesPerEpoch)", eta: "ETA " + ProgressLine.duration(remaining),
                      details: ["loss \(Format.fixed(report.epochAverage.loss, decimals: 1))",
                                "recon \(Format.fixed(report.epochAverage.reconstruction, decimals: 1))",
                                "KL \(Format.fixed(report.epochAverage.kl, decimals: 1))",
                                "\(Format.grouped(Int(rate))) ex/s"])
    }
}
