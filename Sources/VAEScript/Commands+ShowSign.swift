import VAEFormats
import VAEKit

/// `show-sign` and `step`: the sign of every term, checked with the user's own numbers.
extension CommandTable {
    static let signCommands: [CommandSpec] = [
        CommandSpec(
            "show-sign", topic: .terms,
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
            minimises equals −ELBO; ELBO ≤ log p̂(x) within 3 standard errors; and one optimiser \
            step, taken on a copy of the model, lowers the loss and raises the ELBO by the same \
            amount. Each check prints ✓ or ✗; none is assumed. The model itself is not changed.
            """,
            examples: ["show-sign", "show-sign limit=500 k=200", "show-sign split=train"]
        ) { context throws(ScriptError) in
            try showSign(context)
        },

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
            examples: ["step", "step batch=64 lr=1e-3", "step objective=elbo"]
        ) { context throws(ScriptError) in
            try takeStep(context)
        },
    ]

    /// Before and after one optimiser step on a batch, with the same ε.
    struct StepResult {
        var before: BatchTerms
        var after: BatchTerms
        var deltaLoss: Double { after.loss - before.loss }
        var deltaELBO: Double { after.elbo - before.elbo }
        /// loss = −ELBO, so the two changes must cancel.
        var changesCancel: Bool { abs(deltaLoss + deltaELBO) <= 1e-9 * max(1, abs(deltaLoss)) }
    }

    /// Takes one step of `trainer` on `batch` (rows, D) and measures the terms before and after
    /// on that batch with the same draws of z.
    static func measuredStep(_ trainer: Trainer<Float>, batch: Matrix<Float>, objective: TrainingObjective,
                             random: RandomSource) -> StepResult {
        var settings = TrainingSettings()
        settings.objective = objective
        var draws = random
        let before = trainer.model.computeGradients(batch, rows: batch.rows, weights: settings.weights(atStep: 0), random: &draws)
        trainer.optimizer.apply(to: trainer.model.parameters)
        draws = random
        let after = trainer.model.computeGradients(batch, rows: batch.rows, weights: settings.weights(atStep: 0), random: &draws)
        trainer.model.parameters.zeroGradients()
        return StepResult(before: before, after: after)
    }

    /// A random batch of the training split.
    static func randomBatch(_ split: DataSplit, size: Int, random: inout RandomSource) -> Matrix<Float> {
        let rows = min(size, split.count)
        let batch = Matrix<Float>(rows: rows, columns: split.dimension)
        split.fillBatch(random.permutation(split.count).prefix(rows), into: batch, epoch: 0)
        return batch
    }

    private static func sign(_ value: Double) -> String {
        value.isNaN ? "nan" : value > 0 ? "+" : value < 0 ? "−" : "0"
    }

    private static func mark(_ holds: Bool) -> String { holds ? "✓" : "✗" }

    private static func showSign(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context, defaultLimit: 100)
        let model = run.trainer.model
        let k = try context.arguments.optionalInt("k") ?? context.settings.k
        let chosen = run.indices ?? Array(0..<run.split.count)
        let noise = context.randomStream()

        // The terms, and the very objective `train` minimises, on the same examples and draws.
        var draws = noise
        guard let terms = model.evaluate(run.split, indices: chosen, samples: run.samples, random: &draws,
                                         keepPerExample: true, shouldStop: { context.isInterrupted }),
              let perExample = terms.perExample else { throw ScriptError.interrupted(at: context.location) }
        let examples = Matrix<Float>(rows: chosen.count, columns: run.dimension)
        run.split.fillBatch(chosen, into: examples, epoch: 0)
        draws = noise
        let trainingLoss = model.objective(examples, rows: chosen.count, samples: run.samples, weights: .loss(),
                                           reduction: .mean, random: &draws)

        var importanceRandom = context.randomStream()
        guard let importance = model.logLikelihood(run.split, indices: chosen, importanceSamples: k, random: &importanceRandom,
                                                   shouldStop: { context.isInterrupted }) else {
            throw ScriptError.interrupted(at: context.location)
        }
        // ELBO ≤ log p(x), paired per example: the ELBO here is the one in the table (closed-form KL).
        let pairedGap = Estimate(values: zip(importance.perExample, perExample.elbo).map { $0 - $1 })

        // One step on a copy; the session's model is untouched. The optimiser starts fresh, so
        // its first step points downhill (Adam's is lr·sign(g)); on a trained model lr may
        // overshoot, so the step size is halved until the loss falls (at most 12 times). With a
        // gradient of the wrong sign no step size helps, and the check fails.
        var batchRandom = context.randomStream()
        let batch = randomBatch(run.dataset.train, size: context.settings.batch, random: &batchRandom)
        var learningRate = context.settings.lr, halvings = 0
        func stepOnACopy() -> StepResult {
            let optimizer = Optimizer<Float>(run.trainer.optimizer.kind, learningRate: learningRate, parameterCount: model.parameters.count)
            return measuredStep(Trainer(model: model.copy(), optimizer: optimizer, seed: 0), batch: batch, objective: .loss, random: batchRandom)
        }
        var step = stepOnACopy()
        while step.deltaLoss >= 0 && halvings < 12 {
            learningRate /= 2
            halvings += 1
            step = stepOnACopy()
        }
        let optimizerName = run.trainer.optimizer.kind.name == "adam" ? "Adam" : "SGD"

        let recon = terms.reconstruction.mean, kl = terms.kl.mean, elbo = terms.elbo.mean, loss = terms.loss.mean
        let logpx = importance.logLikelihood.mean
        let bernoulli = run.likelihood == .bernoulli
        var table = TextTable(alignments: [.left, .left, .right, .left, .left, .left])
        table.append(["term", "formula", "nats/example", "sign", "must be", "the optimiser"])
        table.append(["reconstruction", "E_q[log p(x|z)]", Format.fixed(recon, decimals: 2), sign(recon),
                      bernoulli ? "≤ 0 (Bernoulli)" : "any sign (density)", "raises it (inside the ELBO)"])
        table.append(["KL", "KL(q(z|x) ‖ p(z))", Format.fixed(kl, decimals: 2), sign(kl), "≥ 0", "lowers it (inside the ELBO)"])
        table.append(["ELBO", "recon − KL", Format.fixed(elbo, decimals: 2), sign(elbo), "≤ log p(x)", "maximises it"])
        table.append(["loss", "−ELBO = NLL + KL", Format.fixed(loss, decimals: 2), sign(loss),
                      bernoulli ? "≥ 0 (Bernoulli)" : "any sign", "minimises it: what 'train' does"])
        table.append(["log p(x)", "log (1/K) Σ p(x,z_k)/q(z_k|x)", Format.fixed(logpx, decimals: 2), sign(logpx), "≥ ELBO", "none: it is measured, K=\(k)"])
        table.append(["gap", "log p(x) − ELBO", Format.fixed(pairedGap.mean, decimals: 2), sign(pairedGap.mean), "≥ 0", "shrinks as q nears p(z|x)"])

        var report = Report(command: "show-sign")
        report.addText(run.scope(examples: chosen.count, draws: "\(run.samples) draw\(run.samples == 1 ? "" : "s") of z (K=\(k) for log p(x))"))
        report.addTable(table)
        if !bernoulli && recon > 0 {
            report.addText("the reconstruction term is positive: a Gaussian density exceeds 1 where σ is small and the mean is close, "
                           + "so log p(x|z) > 0 is no error; it includes the −½·log(2πσ²) constant")
        }

        let klHolds = kl >= 0 && perExample.kl.allSatisfy { $0 >= 0 }
        let lossHolds = abs(trainingLoss - (-elbo)) <= 1e-9 * max(1, abs(elbo))
        let gapStandardError = pairedGap.standardError ?? 0
        let boundHolds = pairedGap.mean >= -3 * gapStandardError
        let stepHolds = step.deltaLoss < 0 && step.deltaELBO > 0 && step.changesCancel
        report.addText("checks on these numbers:")
        report.addText("  \(mark(klHolds)) KL ≥ 0: \(Format.fixed(kl, decimals: 4)) on average, "
                       + "\(perExample.kl.filter { $0 < 0 }.count) of \(perExample.kl.count) examples below 0")
        report.addText("  \(mark(lossHolds)) loss = −ELBO: the objective train minimises is \(Format.fixed(trainingLoss, decimals: 4)), "
                       + "−ELBO is \(Format.fixed(-elbo, decimals: 4))")
        report.addText("  \(mark(boundHolds)) ELBO ≤ log p̂(x) within noise: log p̂(x) − ELBO = \(Format.fixed(pairedGap.mean, decimals: 3)) "
                       + "± \(Format.fixed(gapStandardError, decimals: 3)) (paired over \(chosen.count) examples; must be > −3 standard errors)")
        let halvingNote = halvings == 0 ? "" : ", halved \(halvings) time\(halvings == 1 ? "" : "s") until the loss fell"
        let stepScope = "one \(optimizerName) step on a copy (batch of \(batch.rows) training examples, lr \(Format.general(learningRate))\(halvingNote))"
        let lossChange = "loss \(Format.fixed(step.before.loss, decimals: 3)) → \(Format.fixed(step.after.loss, decimals: 3)) (\(Format.signed(step.deltaLoss)))"
        let elboChange = "ELBO \(Format.fixed(step.before.elbo, decimals: 3)) → \(Format.fixed(step.after.elbo, decimals: 3)) (\(Format.signed(step.deltaELBO)))"
        report.addText("  \(mark(stepHolds)) \(stepScope): \(lossChange), \(elboChange)")
        report.addText("""
            In Kingma & Welling's notation L(θ, φ; x) = E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z)) is the ELBO, a lower bound \
            on log p_θ(x) that training maximises. Optimisers minimise, so train minimises loss = −L = NLL + KL: the same \
            objective with one minus sign, which is why the loss falls while the ELBO rises by the same amount.
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
        context.session.setVariable("checks_passed", Double([klHolds, lossHolds, boundHolds, stepHolds].filter { $0 }.count))
        context.report(report)
    }

    private static func takeStep(_ context: CommandContext) throws(ScriptError) {
        let (dataset, current) = try context.requireDataAndModel()
        let objective = TrainingObjective(rawValue: try context.arguments.string("objective")) ?? .loss
        let batchSize = try context.arguments.optionalInt("batch") ?? context.settings.batch
        let learningRate = try context.arguments.optionalDouble("lr") ?? context.settings.lr

        let stepped = current.copy()
        stepped.optimizer.learningRate = learningRate
        var random = context.randomStream()
        let batch = randomBatch(dataset.train, size: batchSize, random: &random)
        let result = measuredStep(stepped, batch: batch, objective: objective, random: random)
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
        context.session.workbench.trainer = stepped
        context.session.workbench.undoPoint = (current, context.invocation.sourceText)
        context.report(report)
    }
}

extension Format {
    /// "+1.234" / "-1.234" with three decimals.
    static func signed(_ value: Double, decimals: Int = 3) -> String {
        (value > 0 ? "+" : "") + fixed(value, decimals: decimals)
    }
}
