import RealModule
import VAEFormats
import VAEKit

/// `show-sign`, `explain`, `pause`: for teaching with vaesh. show-sign checks the sign of every
/// term with the model's own numbers, explain derives a term with them, pause waits for the class.
extension CommandTable {
    static let teachingCommands: [CommandSpec] = [
        CommandSpec(
            "show-sign", topic: .teaching,
            arguments: [
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which split to evaluate"),
                .option("limit", .int, default: 100, range: .between(1, 100_000), abstract: "examples to evaluate (log p(x) needs K decoder passes each)"),
                .option("samples", .int, range: .between(1, 100_000), abstract: "draws of z per example for the terms (default: the samples setting)"),
                .option("k", .int, range: .between(1, 1_000_000), abstract: "importance samples for log p(x) (default: the k setting, 1000)"),
            ],
            abstract: "every term with its sign, what the optimiser does with it, and each relation checked",
            discussion: """
            Prints one table: the reconstruction term, the KL, the ELBO, the loss and log p(x), \
            each with its formula, value, sign, the sign it must have, and what the optimiser does \
            with it. Under the table it checks, with these numbers: KL ≥ 0; the loss train \
            minimises equals −ELBO; ELBO ≤ log p̂(x) within noise (3 standard errors, more with \
            few examples: Student's t); and one optimiser \
            step, taken on a copy of the model, lowers the loss and raises the ELBO by the same \
            amount. Each check prints ✓ or ✗; none is assumed. The model itself is not changed. \
            The terms use the same draws of z as recon, kl, elbo, loss and logpx on the same \
            examples, so its numbers are theirs ('explain draws').
            """,
            examples: ["show-sign", "show-sign limit=500 k=200", "show-sign split=train"],
            handler: showSign
        ),

        CommandSpec(
            "explain", topic: .teaching,
            arguments: [.positional("term", .choice(ExplainedTerm.allCases.map(\.rawValue)), abstract: "the term to explain; none lists them all")],
            abstract: "define a term of the objective, derive it, and show this model's value",
            discussion: """
            Prints the term's definition and a short derivation: why the ELBO bounds log p(x) \
            (log p(x) = ELBO + KL(q(z|x) ‖ p(z|x))), why minimising loss = −ELBO is maximising \
            the ELBO, why the KL is never negative, how log p(x) is estimated, what NLL and BCE \
            mean, and why the same command prints the same number twice (explain draws: common \
            random numbers); and how logs report them: the reductions over the batch and the \
            pixels (and the slip of reducing the two terms differently), and bits per dimension. \
            When data and a model are loaded it substitutes the model's numbers, computed on the \
            first 500 examples of the test split (train if there is none) with the samples setting \
            (reduction: at least 2 draws, and B the batch setting), or for logpx, gap, nll and \
            bits-per-dim on the first 100 with K = min(k, 200) importance samples. These numbers \
            do not set variables; the term commands do.
            """,
            examples: ["explain", "explain elbo", "explain gap", "explain draws", "explain reduction", "explain bits-per-dim"],
            handler: explainTerm
        ),

        CommandSpec(
            "pause", topic: .teaching,
            arguments: [.rest("text", .template, abstract: "what to show while waiting; {expr} is replaced by its value")],
            abstract: "wait for a key before the script goes on (only when stdin is a terminal)",
            discussion: """
            Prints the text, if any, then waits for one key press when standard input is a \
            terminal, so a teacher can talk about what is on the screen. Enter goes on, c goes on \
            without stopping at later pauses (or --step stops), q or Ctrl-D ends the scripts as \
            'quit' does (in a script sourced at the prompt it returns to the prompt), Ctrl-C \
            interrupts; other keys are ignored. When stdin is not a terminal (a pipe, CI, a test) \
            it only prints the text.
            """,
            examples: ["pause", #"pause "Look at the sign of each term""#],
            printsResults: false,
            handler: pauseForUser
        ),
    ]

    // MARK: - Handlers

    private static func explainTerm(_ context: CommandContext) throws(ScriptError) {
        let name = try context.arguments.optionalString("term")
        guard let name, let term = ExplainedTerm(rawValue: name) else {
            var report = Report(command: "explain")
            report.addText(ExplainedTerm.overviewHeader)
            var table = TextTable(indent: "  ")
            for row in ExplainedTerm.overviewRows { table.append(row) }
            report.addTable(table)
            report.addText(ExplainedTerm.reportingHeader)
            var reporting = TextTable(indent: "  ")
            for row in ExplainedTerm.reportingRows { reporting.append(row) }
            report.addTable(reporting)
            report.addText(ExplainedTerm.overviewFooter)
            report.addField("terms", .array(ExplainedTerm.allCases.map { .string($0.rawValue) }))
            context.report(report)
            return
        }
        var report = Report(command: "explain")
        report.addField("term", .string(term.rawValue))
        report.addText(term.explanation)
        try addModelNumbers(term, to: &report, context: context)
        context.report(report)
    }

    private static func pauseForUser(_ context: CommandContext) throws(ScriptError) {
        let template = try context.arguments.template("text")
        try context.session.requireCurrent(template.variableReferences)
        let text = try template.render(context.session.variableValues)
        if !text.isEmpty { context.report(.message(command: "pause", text: text)) }
        guard let host = context.session[state: PauseHostKey.self] else { return }
        switch host.waitForUser(prompt: "[Enter: go on · c: run to the end · q: quit] ") {
        case .proceed, .runToEnd:
            break
        case .stop where context.session.sourceStack.first.map({ $0.name != nil }) ?? true:
            // Scripts run from the command line end here, as with 'quit'.
            context.session.pendingOutcome = .quit(status: 0)
        case .stop, .interrupted:
            // At the keyboard (a script 'source'd there), stopping returns to the prompt, as Ctrl-C does.
            context.session.interrupt.request()
            throw .interrupted(at: context.location)
        }
    }

    /// The model's numbers for `explain`, when data and a fitting model are there.
    private static func addModelNumbers(_ term: ExplainedTerm, to report: inout Report, context: CommandContext) throws(ScriptError) {
        let workbench = context.session.workbench
        guard let dataset = workbench.dataset, let trainer = workbench.trainer else {
            report.addText("(load data and build or open a model to see this model's numbers here)")
            return
        }
        guard dataset.dimension == trainer.model.inputSize else {
            report.addText("(the model expects \(trainer.model.inputSize) pixels per example and the data has \(dataset.dimension): no numbers)")
            return
        }
        let split = dataset.test ?? dataset.train
        let splitName = dataset.test == nil ? "train" : "test"
        let model = trainer.model
        // The same draws the term commands use on these examples, so the numbers agree with theirs.
        let draws = context.evaluationDraws(split: splitName)
        let unit = "nats/example"

        func signed(_ value: Double) -> String {
            let text = Format.fixed(value, decimals: 2)
            return value < 0 ? "(\(text))" : text
        }

        let greyLevels = greyLevelNote(model.architecture.likelihood, dataset)
        switch term {
        case .sign:
            report.addText("")
            report.addText("'show-sign' checks these on this model.")
        case .draws:
            try addDrawsDemonstration(to: &report, context: context, split: split, splitName: splitName)
        case .recon, .kl, .elbo, .loss, .bce:
            let count = min(explainExamples, split.count)
            let samples = context.settings.samples
            guard let terms = model.evaluate(split, indices: Array(0..<count), samples: samples, draws: draws,
                                             shouldStop: { context.isInterrupted }) else {
                throw .interrupted(at: context.location)
            }
            let recon = terms.reconstruction, kl = terms.kl, elbo = terms.elbo, loss = terms.loss
            report.addText("")
            report.addText("With this model, on the first \(count) \(splitName) examples (\(samples) draw\(samples == 1 ? "" : "s") of z each):")
            report.standardErrorNote = "± is one standard error of the mean over the \(count) examples"
            let bernoulli = model.architecture.likelihood == .bernoulli
            report.add(Quantity("recon", label: "recon = E_q[log p(x|z)]", value: recon.mean, standardError: recon.standardError, unit: unit,
                                preference: .higherIsBetter, expectation: bernoulli ? "≤ 0" : nil, setsVariable: false))
            report.add(Quantity("kl", label: "KL(q(z|x) ‖ p(z))", value: kl.mean, standardError: kl.standardError, unit: unit,
                                preference: .lowerIsBetter, expectation: "≥ 0", setsVariable: false))
            report.add(Quantity("elbo", label: "ELBO = recon − KL", value: elbo.mean, standardError: elbo.standardError, unit: unit,
                                preference: .higherIsBetter, expectation: "≤ log p(x)", setsVariable: false))
            report.add(Quantity("loss", label: "loss = −ELBO", value: loss.mean, standardError: loss.standardError, unit: unit,
                                preference: .lowerIsBetter, setsVariable: false))
            switch term {
            case .recon:
                if bernoulli {
                    report.addText("\(mark(recon.mean <= 0)) recon = \(signed(recon.mean)) ≤ 0, as the log of a probability must be")
                } else if recon.mean > 0 {
                    report.addText("note: recon = \(signed(recon.mean)) > 0: a Gaussian density exceeds 1 where σ is small and the fit close; no contradiction")
                }
                report.addText("reconstruction loss −recon = \(Format.fixed(-recon.mean, decimals: 2)) \(unit): what the loss adds for "
                               + "reconstruction (not the NLL −log p(x): 'explain nll')")
                if let greyLevels { report.addText(greyLevels) }
            case .bce:
                report.addText("E_q[BCE] = −recon = \(Format.fixed(-recon.mean, decimals: 2)) \(unit)"
                               + (bernoulli ? "" : ": only for a Bernoulli decoder; this model's likelihood is \(model.architecture.likelihood.summary)"))
                if let greyLevels { report.addText(greyLevels) }
            case .kl:
                report.addText("\(mark(kl.mean >= 0)) KL = \(signed(kl.mean)) ≥ 0")
            case .elbo:
                report.addText("\(mark(abs(recon.mean - kl.mean - elbo.mean) <= 1e-6 * max(1, abs(elbo.mean)))) ELBO = recon − KL = \(signed(recon.mean)) − \(signed(kl.mean)) = \(signed(recon.mean - kl.mean))")
            case .loss:
                let holds = abs(-recon.mean + kl.mean - loss.mean) <= 1e-6 * max(1, abs(loss.mean)) && abs(loss.mean + elbo.mean) <= 1e-9 * max(1, abs(loss.mean))
                report.addText("\(mark(holds)) loss = −ELBO = −\(signed(elbo.mean)) = \(Format.fixed(loss.mean, decimals: 2)) = −recon + KL = "
                               + "\(signed(-recon.mean)) + \(signed(kl.mean))")
            default:
                break
            }
            report.addField("examples", .int(count))
            report.addField("samples", .int(samples))
            report.addField("split", .string(splitName))
        case .reduction:
            try addReductionNumbers(to: &report, model: model, split: split, splitName: splitName, context: context, draws: draws)
        case .logpx, .gap, .nll, .bitsPerDim:
            let count = min(explainImportanceExamples, split.count)
            let k = min(context.settings.k, explainImportanceSamples)
            guard let estimate = model.logLikelihood(split, indices: Array(0..<count), importanceSamples: k, draws: draws,
                                                     shouldStop: { context.isInterrupted }) else {
                throw .interrupted(at: context.location)
            }
            report.addText("")
            report.addText("With this model, on the first \(count) \(splitName) examples (K = \(k) importance samples each; 'logpx' uses k = \(context.settings.k)):")
            report.addField("examples", .int(count))
            report.addField("k", .int(k))
            report.addField("split", .string(splitName))
            if term == .bitsPerDim {
                addBitsPerDimension(estimate, dimension: model.inputSize, to: &report)
                return
            }
            report.standardErrorNote = "± is one standard error of the mean over the \(count) examples"
            report.add(Quantity("logpx", label: "log p̂(x)", value: estimate.logLikelihood.mean, standardError: estimate.logLikelihood.standardError,
                                unit: unit, preference: .higherIsBetter, expectation: "≥ ELBO", setsVariable: false))
            if term == .nll {
                report.add(Quantity("nll", label: "NLL = −log p̂(x)", value: -estimate.logLikelihood.mean,
                                    standardError: estimate.logLikelihood.standardError, unit: unit, preference: .lowerIsBetter, setsVariable: false))
            }
            report.add(Quantity("elbo", label: "ELBO, same draws", value: estimate.elbo.mean, standardError: estimate.elbo.standardError,
                                unit: unit, preference: .higherIsBetter, expectation: "≤ log p(x)", setsVariable: false))
            report.add(Quantity("gap", label: "gap = log p̂(x) − ELBO", value: estimate.gap.mean, standardError: estimate.gap.standardError,
                                unit: unit, preference: .lowerIsBetter, expectation: "≥ 0", setsVariable: false))
            let gap = estimate.gap.mean
            report.addText("\(mark(gap >= 0)) gap = log p̂(x) − ELBO = \(signed(estimate.logLikelihood.mean)) − \(signed(estimate.elbo.mean)) = \(Format.fixed(gap, decimals: 2)) ≥ 0: "
                           + "the ELBO is below log p̂(x) by KL(q(z|x) ‖ p(z|x)) ≈ \(Format.fixed(gap, decimals: 2)) nats")
            if term == .nll, let greyLevels { report.addText(greyLevels) }
        }
    }

    /// `explain draws` on this model: the ELBO of the same examples with the common draws (what
    /// every command sees while 'draws' is 'common') and with two sets of fresh ones, so the noise
    /// shows beside the agreement.
    private static func addDrawsDemonstration(to report: inout Report, context: CommandContext,
                                              split: DataSplit, splitName: String) throws(ScriptError) {
        let workbench = context.session.workbench
        guard let model = workbench.model else { return }
        let count = min(explainExamples, split.count)
        let indices = Array(0..<count)
        let seed = context.settings.seed
        let common = workbench.evaluationDraws(split: splitName, seed: seed, fresh: false)
        // Two other sets of draws, from streams of their own: the session's streams stay as they were.
        func fresh(_ n: UInt64) -> Draws { .fresh(RandomSource(seed: seed, stream: .evaluation, .max, UInt64(workbench.modelVersion), n)) }
        var values: [Double] = []
        for draws in [common, common, fresh(0), fresh(1)] {
            guard let terms = model.evaluate(split, indices: indices, samples: 1, draws: draws, shouldStop: { context.isInterrupted }) else {
                throw .interrupted(at: context.location)
            }
            values.append(terms.elbo.mean)
        }
        report.addText("")
        report.addText("With this model, the ELBO of the first \(count) \(splitName) examples (1 draw of z each):")
        var table = TextTable(alignments: [.left, .right, .left], indent: "  ")
        for (label, value) in zip(["common draws, now", "common draws, again", "fresh draws", "fresh draws, again"], values) {
            table.append([label, Format.fixed(value, decimals: 4), "nats/example"])
        }
        report.addTable(table)
        report.addText("The common draws agree to the last digit"
                       + (context.settings.freshDraws ? " (though 'set draws=fresh' is on, so commands now draw fresh ones)" : "")
                       + "; fresh ones differ by the Monte-Carlo noise, \(Format.fixed(abs(values[2] - values[3]), decimals: 4)) nats here.")
        report.addField("examples", .int(count))
    }

    /// `explain reduction`: the loss of this model in each reduction, and the slip beside them.
    private static func addReductionNumbers(to report: inout Report, model: VAE<Float>, split: DataSplit, splitName: String,
                                            context: CommandContext, draws: Draws) throws(ScriptError) {
        let count = min(explainExamples, split.count), samples = max(2, context.settings.samples), batch = context.settings.batch
        let measured = try context.engine {
            try model.objectiveDraws(split, indices: Array(0..<count), samples: samples, draws: draws, shouldStop: { context.isInterrupted })
        }
        guard let parts = measured else { throw .interrupted(at: context.location) }
        let catalogue = Convention.catalogue(ConventionSetting(dimension: model.inputSize, latentSize: model.latentSize,
                                                               likelihood: model.architecture.likelihood, batch: batch))
        report.addText("")
        report.addText("With this model, on the first \(count) \(splitName) examples (\(samples) draws of z each),")
        report.addText("B = \(batch) (the batch setting); each is a loss, lower is better:")
        var table = TextTable(alignments: [.left, .left, .right, .left])
        let rows = [("per example", "loss", "nats/example"), ("summed over the batch", "loss_batch", "nats/batch"),
                    ("averaged over pixels", "loss_pixels", "nats/pixel"), ("pixels, batch summed", "loss_batch_pixels", "nats/pixel·batch"),
                    ("the slip: mean-BCE + KL", "mean_rec_plus_kl", "mixed")]
        for (label, id, unit) in rows {
            guard let convention = catalogue.first(where: { $0.id == id }) else { continue }
            let value = parts.mean(convention.weights) * (convention.summedOverBatch ? Double(batch) : 1)
            table.append(["  " + label, convention.formula, Format.general(value), unit])
            report.addField(id, .number(value))
        }
        report.addTable(table)
        let reconstruction = parts.mean([.reconstruction: 1]), kl = parts.mean([.kl: 1]), d = Double(model.inputSize)
        func share(_ part: Double, of total: Double) -> String { Format.fixed(100 * part / total, decimals: 1) + "%" }
        report.addText("the KL is \(share(kl, of: reconstruction + kl)) of the loss in all four; in mean-BCE + KL it is "
                       + "\(share(kl, of: reconstruction / d + kl)),")
        report.addText("weighted \(model.inputSize) times more, as if β = \(model.inputSize)")
        report.addField("examples", .int(count))
        report.addField("samples", .int(samples))
        report.addField("batch", .int(batch))
        report.addField("split", .string(splitName))
    }

    /// `explain bits-per-dim`: −ELBO and −log p̂(x) of the same examples, in nats and in bits per dimension.
    private static func addBitsPerDimension(_ estimate: LogLikelihoodEstimate, dimension: Int, to report: inout Report) {
        let bits = Double(dimension) * Double.log(2)
        var table = TextTable(alignments: [.left, .right, .left, .right, .left])
        table.append(["  loss = −ELBO", Format.fixed(-estimate.elbo.mean, decimals: 2), "nats/example", Format.fixed(-estimate.elbo.mean / bits, decimals: 4),
                      "bits/dim, lower is better"])
        table.append(["  −log p̂(x)", Format.fixed(-estimate.logLikelihood.mean, decimals: 2), "nats/example",
                      Format.fixed(-estimate.logLikelihood.mean / bits, decimals: 4), "bits/dim, lower is better"])
        report.addTable(table)
        let gap = estimate.gap.mean
        report.addText("\(mark(gap >= 0)) −log p̂(x) ≤ −ELBO: the bound is higher by the gap,")
        report.addText("  \(Format.fixed(gap, decimals: 2)) / (\(dimension) · ln 2) = \(Format.fixed(gap / bits, decimals: 4)) bits/dim")
        report.addField("loss_bpd", .number(-estimate.elbo.mean / bits))
        report.addField("nll_bpd", .number(-estimate.logLikelihood.mean / bits))
    }

    /// Examples `explain` evaluates the ELBO terms on, and the importance-sampling budget for logpx
    /// and gap: enough for two decimals on MNIST, and about a second on two cores.
    static let explainExamples = 500
    static let explainImportanceExamples = 100
    static let explainImportanceSamples = 200

    private static func showSign(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context, defaultLimit: 100)
        let k = try context.arguments.optionalInt("k") ?? context.settings.k
        let chosen = run.indices ?? Array(0..<run.split.count)
        // The terms and log p̂(x) on the same draws as the term commands; the step's batch and
        // draws from the measurement stream.
        let draws = run.draws
        var stepNoise = context.measurementStream()
        let batch: Matrix<Float> = run.dataset.train.randomBatch(size: context.settings.batch, random: &stepNoise)
        let trainer = run.trainer, split = run.split, samples = run.samples, learningRate = context.settings.lr
        let found = context.withProgress("show-sign: log p̂(x), K=\(Format.grouped(k))") { progress in
            trainer.signChecks(split, indices: chosen, samples: samples, importanceSamples: k, stepBatch: batch,
                               learningRate: learningRate, draws: draws, stepNoise: stepNoise,
                               shouldStop: { context.isInterrupted }, progress: progress)
        }
        guard let checks = found else { throw ScriptError.interrupted(at: context.location) }
        let terms = checks.terms, importance = checks.importance, pairedGap = checks.gap, step = checks.step
        let optimizerName = run.trainer.optimizer.kind.name == "adam" ? "Adam" : "SGD"

        let recon = terms.reconstruction.mean, kl = terms.kl.mean, elbo = terms.elbo.mean, loss = terms.loss.mean
        let logpx = importance.logLikelihood.mean
        let bernoulli = run.likelihood == .bernoulli
        var table = TextTable(alignments: [.left, .left, .right, .left, .left, .left])
        // Short cells, so the table needs little wrapping at 80 columns; the text under it says
        // how the optimiser's one objective moves each term. A formula is never broken over two
        // lines (the other columns wrap instead): "−ELBO = −recon +" / "KL" misreads.
        table.append(["term", "formula", "nats per example", "sign", "must be", "the optimiser"])
        table.append(["reconstruction", "E_q[log p(x|z)]", Format.fixed(recon, decimals: 2), sign(recon),
                      bernoulli ? "≤ 0 (Bernoulli)" : "any sign (density)", "raises it"])
        table.append(["KL", "KL(q(z|x) ‖ p(z))", Format.fixed(kl, decimals: 2), sign(kl), "≥ 0", "lowers it"])
        table.append(["ELBO", "recon − KL", Format.fixed(elbo, decimals: 2), sign(elbo), "≤ log p(x)", "maximises it"])
        table.append(["loss", "−ELBO = −recon + KL", Format.fixed(loss, decimals: 2), sign(loss),
                      bernoulli ? "≥ 0 (Bernoulli)" : "any sign", "minimises it ('train')"])
        table.append(["log p(x)", "log (1/K) Σ_k w_k", Format.fixed(logpx, decimals: 2), sign(logpx), "≥ ELBO", "measured only"])
        table.append(["gap", "log p(x) − ELBO", Format.fixed(pairedGap.mean, decimals: 2), sign(pairedGap.mean), "≥ 0", "shrinks as q → p(z|x)"])

        table.wrappingColumns = [0, 2, 3, 4, 5]
        table.minimumWidths = [5: "maximises it".count]

        var report = Report(command: "show-sign")
        report.addText(run.scope(examples: chosen.count, draws: "\(run.samples) draw\(run.samples == 1 ? "" : "s") of z (K=\(k) for log p(x))"))
        report.addTable(table)
        report.addText("w_k = p(x,z_k)/q(z_k|x), z_k ~ q(z|x), K = \(Format.grouped(k)): the importance weights")
        if !bernoulli && recon > 0 {
            report.addText("the reconstruction term is positive: a Gaussian density exceeds 1 where σ is small and the mean is close, "
                           + "so log p(x|z) > 0 is no error; it includes the −½·log(2πσ²) constant")
        }

        let klHolds = checks.klIsNonNegative, lossHolds = checks.lossIsMinusELBO
        let boundHolds = checks.elboIsBelowLogLikelihood, stepHolds = checks.stepLowersLossRaisesELBO
        let gapStandardError = pairedGap.standardError ?? 0
        report.addText("checks on these numbers:")
        report.addText("  \(mark(klHolds)) KL ≥ 0: \(Format.fixed(kl, decimals: 4)) on average, "
                       + "\(checks.negativeKLExamples) of \(chosen.count) examples below 0")
        report.addText("  \(mark(lossHolds)) loss = −ELBO: the objective train minimises is \(Format.fixed(checks.trainingLoss, decimals: 4)), "
                       + "−ELBO is \(Format.fixed(-elbo, decimals: 4))")
        let gapText = "log p̂(x) − ELBO = \(Format.fixed(pairedGap.mean, decimals: 3))"
        if let allowance = checks.gapAllowance {
            report.addText("  \(mark(boundHolds)) ELBO ≤ log p̂(x) within noise: \(gapText) ± \(Format.fixed(gapStandardError, decimals: 3)) "
                           + "(one standard error, paired over \(Format.count(chosen.count, "example")); "
                           + "must be > −\(Format.fixed(allowance, decimals: 2)) standard errors, Student's t at 3σ's tail)")
        } else {
            report.addText("  \(mark(boundHolds)) ELBO ≤ log p̂(x): \(gapText) (one example has no standard error, so it must be ≥ 0)")
        }
        let halvings = checks.halvings
        let halvingNote = halvings == 0 ? "" : ", halved \(halvings) time\(halvings == 1 ? "" : "s") until the loss fell"
        let stepScope = "one \(optimizerName) step on a copy (batch of \(batch.rows) training examples, lr \(Format.general(step.learningRate))\(halvingNote))"
        let lossChange = "loss \(Format.fixed(step.before.loss, decimals: 3)) → \(Format.fixed(step.after.loss, decimals: 3)) (\(Format.signed(step.deltaLoss)))"
        let elboChange = "ELBO \(Format.fixed(step.before.elbo, decimals: 3)) → \(Format.fixed(step.after.elbo, decimals: 3)) (\(Format.signed(step.deltaELBO)))"
        report.addText("  \(mark(stepHolds)) \(stepScope): \(lossChange), \(elboChange)")
        report.addText("""
            In Kingma & Welling's notation L(θ, φ; x) = E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z)) is the ELBO, a lower bound \
            on log p_θ(x) that training maximises, raising the reconstruction term and lowering the KL inside it. Optimisers \
            minimise, so train minimises loss = −L = −recon + KL: the same objective with one minus sign, which is why the \
            loss falls while the ELBO rises by the same amount.
            """)

        report.add(Quantity("recon", value: recon, standardError: terms.reconstruction.standardError, unit: nats, setsVariable: true).jsonOnly)
        report.add(Quantity("kl", value: kl, standardError: terms.kl.standardError, unit: nats).jsonOnly)
        report.add(Quantity("elbo", value: elbo, standardError: terms.elbo.standardError, unit: nats).jsonOnly)
        report.add(Quantity("loss", value: loss, standardError: terms.loss.standardError, unit: nats).jsonOnly)
        report.add(Quantity("logpx", value: logpx, standardError: importance.logLikelihood.standardError, unit: nats).jsonOnly)
        report.add(Quantity("gap", value: pairedGap.mean, standardError: pairedGap.standardError, unit: nats).jsonOnly)
        report.addField("examples", .int(chosen.count))
        report.addField("k", .int(k))
        report.addField("checks", .object([("kl_nonnegative", .bool(klHolds)), ("loss_is_minus_elbo", .bool(lossHolds)),
                                           ("elbo_below_logpx", .bool(boundHolds)), ("step_lowers_loss_raises_elbo", .bool(stepHolds))]))
        context.setVariable("checks_passed", Double(checks.passed))
        context.report(report)
    }

    private static func sign(_ value: Double) -> String {
        value.isNaN ? "nan" : value > 0 ? "+" : value < 0 ? "−" : "0"
    }

    private static func mark(_ holds: Bool) -> String { holds ? "✓" : "✗" }
}
