import Foundation
import RealModule
import VAEFormats
import VAEKit

// The terms of the objective, each printed with its sign, standard error, example count and unit.
//
// Kingma & Welling's L = E_q[log p(x|z)] − KL(q(z|x)‖p(z)) is the ELBO, maximised; the optimiser
// minimises loss = −ELBO = −E_q[log p(x|z)] + KL. Every label below says which of the two a number
// is. "NLL" is kept for −log p(x), as the VAE literature uses it; −E_q[log p(x|z)] is the
// reconstruction loss.
//
// Over 400 lines: the topic has seven commands (the five terms, whatis and active-units), each
// spec with its discussion; whatis's table of conventions lives in IdentificationReport.swift.

extension CommandTable {
    /// Which examples a term command runs on.
    static let exampleArguments: [ArgumentSpec] = [
        .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which split to evaluate"),
        .option("limit", .int, range: .atLeast(1), abstract: "only the first N examples of the split"),
        .option("index", .int, range: .atLeast(0), abstract: "only example I of the split (0-based)"),
        .option("samples", .int, range: .between(1, 100_000), abstract: "draws of z per example (default: the samples setting)"),
    ]

    static let termCommands: [CommandSpec] = [
        CommandSpec(
            "recon", topic: .terms, arguments: exampleArguments,
            abstract: "the reconstruction term E_q[log p(x|z)], a log-likelihood: higher is better",
            discussion: """
            Estimates E_q(z|x)[log p(x|z)] by drawing z = μ + σ⊙ε from the encoder S times per \
            example. It is a log-likelihood, not a loss: larger is better, and for a Bernoulli \
            decoder it is ≤ 0 because a probability is at most 1. A Gaussian decoder's density can \
            exceed 1, so its reconstruction term can be positive. Sets recon and recon_se.\(commonDrawsNote)
            """,
            examples: ["recon", "recon split=train limit=1000", "recon index=0 samples=100"],
            handler: reconstructionTerm
        ),

        CommandSpec(
            "kl", topic: .terms,
            arguments: exampleArguments + [
                .option("method", .choice(["analytic", "mc", "both"]), default: "analytic",
                        abstract: "closed form, the Monte-Carlo estimate log q(z|x) − log p(z), or both"),
            ],
            abstract: "the KL divergence KL(q(z|x) ‖ p(z)) ≥ 0 from the encoder to the prior: lower is better",
            discussion: """
            The closed form ½Σ(μ² + σ² − 1 − log σ²) is exact and never negative. method=mc \
            estimates the same quantity as log q(z|x) − log p(z) at the sampled z: unbiased, but \
            one draw for one example can be negative. With index=I it lists each latent \
            dimension's μ, σ² and share of the KL, and marks the dimensions where \
            this example sits at the prior; 'active-units' tells which dimensions are unused \
            across the data. Sets kl (closed form), kl_mc, and their _se; with index=I also \
            inactive, the number of dimensions at the prior for that example.\(commonDrawsNote)
            """,
            examples: ["kl", "kl method=both index=3 samples=1", "kl index=0"],
            handler: klTerm
        ),

        CommandSpec(
            "elbo", topic: .terms, arguments: exampleArguments,
            abstract: "the ELBO = E_q[log p(x|z)] − KL, a lower bound on log p(x): higher is better",
            discussion: """
            The evidence lower bound of Kingma & Welling, L = E_q[log p(x|z)] − KL(q(z|x)‖p(z)): \
            the quantity a VAE maximises. It is ≤ log p(x) for every example. Prints the two terms \
            and their difference, and sets recon, kl, elbo and loss (with _se).\(commonDrawsNote)
            """,
            examples: ["elbo", "elbo split=train limit=5000", "elbo index=7 samples=1000"],
            handler: elboTerm
        ),

        CommandSpec(
            "loss", topic: .terms, arguments: exampleArguments + [
                .option("bpd", .bool, default: false, abstract: "also print it in bits per dimension"),
            ],
            abstract: "the loss = −ELBO = −recon + KL, what train minimises: lower is better",
            discussion: """
            The negative ELBO, −E_q[log p(x|z)] + KL(q(z|x)‖p(z)): the reconstruction loss \
            −E_q[log p(x|z)] plus the KL. It is what the optimiser minimises (the PyTorch \
            example's BCE + KLD, per example). It is not the NLL −log p(x), which 'logpx' \
            estimates and which is smaller. Sets loss, recon_loss (and recon, kl, elbo, each with \
            _se); bpd=true adds loss_bpd = loss / (D·ln 2).\(commonDrawsNote)
            """,
            examples: ["loss", "loss split=train", "loss bpd=true"],
            handler: lossTerm
        ),

        CommandSpec(
            // Its draws are the k importance samples: samples= would mean nothing here.
            "logpx", topic: .terms, arguments: exampleArguments.filter { $0.name != "samples" } + [
                .option("k", .int, range: .between(1, 1_000_000), abstract: "importance samples per example (default: the k setting, 1000)"),
            ],
            abstract: "log p(x) estimated by importance sampling (IWAE bound), with the ELBO and the gap",
            discussion: """
            Estimates log p(x) = log E_q[p(x|z)p(z)/q(z|x)] with K draws from the encoder and a \
            stable log-mean-exp (Burda et al.'s bound, which tightens as K grows). It also prints \
            the ELBO from the same draws and the gap log p(x) − ELBO ≥ 0, which is \
            KL(q(z|x) ‖ p(z|x)): how far the encoder is from the true posterior. Without limit= or \
            index= it uses the first 100 examples, since each needs K decoder passes; on a \
            terminal a progress line with an ETA shows while it runs, and Ctrl-C stops it between \
            chunks. Also prints NLL = −log p̂(x), the number papers report. Sets logpx, nll, elbo, \
            gap (with _se).\(commonDrawsNote)
            """,
            examples: ["logpx", "logpx k=5000 limit=20", "logpx index=0 k=10000"],
            handler: logLikelihood
        ),

        CommandSpec(
            "whatis", topic: .terms,
            arguments: [
                .positional("number", .expression, required: true,
                            abstract: "the number from the log (0.1347, -105.6), or an expression without spaces (loss*128)"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "the split the log's number comes from"),
                .option("limit", .int, range: .atLeast(2), abstract: "only the first N examples of the split"),
                .option("batch", .int, range: .atLeast(1),
                        abstract: "B, the examples behind the number (default: the batch setting; the split's size for an average over it)"),
                .option("samples", .int, range: .between(2, 100_000), abstract: "draws of z per example (default: the samples setting, at least 2)"),
                .option("beta", .double, range: .greaterThan(0), abstract: "also test the β-weighted loss with this β"),
                .option("tolerance", .double, range: .greaterThan(0), abstract: "match within this distance instead of 3 standard errors"),
            ],
            abstract: "which quantity a number from a training log is: every convention, closest first",
            discussion: """
            Computes, on the current model and split and from one set of draws of z, every common \
            way of reporting the objective and its parts: the loss −ELBO or the ELBO; per example, \
            summed over a batch of B, averaged over the D pixels, or both; in bits per dimension; \
            the reconstruction alone (binary cross-entropy from logits, or on probabilities as \
            PyTorch's F.binary_cross_entropy computes it with each log clamped at −100, or squared \
            error; summed or averaged); the KL alone, flipped, per latent dimension or summed over \
            the batch; the loss with its KL averaged wrongly or flipped; and the β-weighted loss \
            when beta= is given. It lists those that match the number, closest first, each with \
            its formula, value, unit, distance and a line on where such numbers come from; when \
            none matches, the nearest three and what might explain the number. The model of the \
            number: the convention's value on one batch of B examples drawn from the split, one \
            draw of z each (batch=2000 on a split of 2,000 is an average over all of it, which \
            leaves only the noise of z; a training epoch's running average mixes the parameters \
            of every step, so it is no one model's number). A match is within 3 standard errors, which add the \
            batch's sampling spread (√B times larger for a sum), the noise of z (allowing a \
            Monte-Carlo KL inside a whole objective), this estimate's own error, half a unit of the number's last printed \
            digit and float32 round-off; tolerance= replaces them with a plain distance. Sets \
            whatis (the best match's value), whatis_se, whatis_distance, whatis_matches, and \
            match_ID for every convention: its rank among the matches, 0 when it does not match.
            """,
            examples: ["whatis 105.6", "whatis 0.1347", "whatis -155.9 batch=2000", "whatis loss*128", "whatis 13520 tolerance=50",
                       "whatis 212.4 beta=4"],
            handler: whatIs
        ),

        CommandSpec(
            "active-units", topic: .terms,
            arguments: [
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which split to measure"),
                .option("limit", .int, range: .atLeast(1), abstract: "only the first N examples of the split"),
            ],
            abstract: "which latent dimensions the model uses across the data: Cov_x(E_q[z_d]) > 0.01",
            discussion: """
            A latent dimension d is active when the encoder's mean μ_d(x) changes from example to \
            example: A_d = Cov_x(E_q(z|x)[z_d]) > 0.01, the measure of Burda, Grosse & \
            Salakhutdinov (2016). Prints every dimension's A_d with its KL(q(z_d|x) ‖ p(z_d)) \
            averaged over the same examples, and the number of active units. One example's KL \
            ('kl index=I') cannot tell a dimension the model never uses from one this example \
            happens not to need; this can. The encoder alone runs (no draws of z). Sets \
            active_units and inactive_kl.
            """,
            examples: ["active-units", "active-units split=train limit=10000"],
            handler: activeUnits
        ),
    ]

    // MARK: - Handlers

    private static func reconstructionTerm(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        let terms = try run.evaluate()
        var report = run.header(command: "recon", terms: terms)
        report.add(reconstructionQuantity(terms, run.likelihood))
        report.addText(signLine(reconstruction: terms.reconstruction.mean, likelihood: run.likelihood))
        context.report(report)
    }

    private static func klTerm(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        let method = try context.arguments.string("method")
        let terms = try run.evaluate()
        // The closed form draws no z: its numbers have no Monte-Carlo noise to speak of.
        var report = run.header(command: "kl", terms: terms, drawsZ: method != "analytic")
        if method != "mc" { report.add(klQuantity(terms)) }
        if method != "analytic" {
            report.add(Quantity("kl_mc", label: "KL Monte-Carlo log q(z|x) − log p(z)", value: terms.klMonteCarlo.mean,
                                standardError: terms.klMonteCarlo.standardError, unit: nats, preference: .lowerIsBetter,
                                expectation: "unbiased for KL"))
        }
        if method == "both" {
            let agrees = terms.klMonteCarlo.standardError.map { abs(terms.klMonteCarlo.mean - terms.kl.mean) <= 4 * $0 }
            report.addText("the closed form is exact and never negative; the Monte-Carlo estimate averages log q(z|x) − log p(z) "
                           + "over \(terms.samples) draw\(terms.samples == 1 ? "" : "s") per example, so it is noisy and a single "
                           + "draw can be negative" + (terms.klMonteCarlo.mean < 0 ? " (as here)" : "")
                           + (agrees.map { $0 ? "; they agree within 4 standard errors" : "; they differ by more than 4 standard errors" } ?? ""))
        }
        if method != "mc" { report.addText(terms.kl.mean >= 0 ? "sign: + as it must be (KL ≥ 0)" : "sign: − which a KL can never be: ✗") }
        if let index = run.index, let model = run.model {
            report.addTable(latentTable(model: model, split: run.split, index: index))
            let shares = try run.klPerDimension(index)
            let quiet = shares.filter { $0 < inactiveThreshold }.count
            report.addText("\(quiet) of \(shares.count) latent dimensions at the prior for this example (KL < \(Format.general(inactiveThreshold)) nats): "
                           + (quiet == 0 ? "every dimension moves away from N(0, 1) for it"
                              : "q(z_d|x) is N(0, 1) there for this x; whether a dimension is unused for every x is what 'active-units' measures"))
            report.add(Quantity.count("inactive", label: "dimensions at the prior for this example", quiet).jsonOnly)
        }
        context.report(report)
    }

    private static func elboTerm(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        let terms = try run.evaluate()
        var report = run.header(command: "elbo", terms: terms)
        report.add(reconstructionQuantity(terms, run.likelihood))
        report.add(klQuantity(terms))
        report.add(Quantity("elbo", label: "ELBO = recon − KL", value: terms.elbo.mean, standardError: terms.elbo.standardError,
                            unit: nats, preference: .higherIsBetter, expectation: "≤ log p(x)"))
        report.addText("the ELBO is maximised; the optimiser minimises its negative, loss = −ELBO = \(Format.fixed(terms.loss.mean, decimals: 2))")
        // The loss it prints is set too (and in JSON), so `assert loss == -elbo` works after it.
        report.add(Quantity("loss", value: terms.loss.mean, standardError: terms.loss.standardError, unit: nats).jsonOnly)
        context.report(report)
    }

    private static func lossTerm(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        let terms = try run.evaluate()
        var report = run.header(command: "loss", terms: terms)
        report.add(Quantity("recon_loss", label: "reconstruction loss −E_q[log p(x|z)]", value: -terms.reconstruction.mean,
                            standardError: terms.reconstruction.standardError, unit: nats, preference: .lowerIsBetter))
        report.add(klQuantity(terms))
        report.add(Quantity("loss", label: "loss = −ELBO = −recon + KL", value: terms.loss.mean, standardError: terms.loss.standardError,
                            unit: nats, preference: .lowerIsBetter, expectation: run.likelihood == .bernoulli ? "≥ 0 for a Bernoulli" : nil))
        if try context.arguments.bool("bpd") {
            let bitsPerDimension = terms.loss.mean / (Double(run.dimension) * Double.log(2))
            report.add(Quantity("loss_bpd", label: "loss in bits/dim", value: bitsPerDimension, unit: "bits/dim", preference: .lowerIsBetter, decimals: 4))
        }
        report.addText("this is what 'train' minimises; the ELBO it raises is \(Format.fixed(terms.elbo.mean, decimals: 2))")
        // The command sets the parts too, so `assert loss ~= -elbo` works after it.
        context.setVariable("recon", terms.reconstruction.mean, unit: nats)
        context.setVariable("elbo", terms.elbo.mean, unit: nats)
        context.report(report)
    }

    private static func logLikelihood(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context, defaultLimit: 100)
        let k = try context.arguments.optionalInt("k") ?? context.settings.k
        guard let model = run.model else { throw context.missing("model", remedy: "run 'model' or 'open FILE' first") }
        let found = context.withProgress("logpx K=\(Format.grouped(k))") { progress in
            model.logLikelihood(run.split, indices: run.indices, importanceSamples: k, draws: run.draws,
                                shouldStop: { context.isInterrupted }, progress: progress)
        }
        guard let estimate = found else { throw ScriptError.interrupted(at: context.location) }
        var report = Report(command: "logpx")
        report.addText(run.scope(examples: estimate.examples, draws: "\(k) importance samples"))
        report.standardErrorNote = run.standardErrorNote(examples: estimate.examples, draws: "\(Format.grouped(k)) importance samples")
        report.add(Quantity("logpx", label: "log p̂(x), IWAE K=\(k)", value: estimate.logLikelihood.mean,
                            standardError: estimate.logLikelihood.standardError, unit: nats, preference: .higherIsBetter, expectation: "≥ ELBO"))
        report.add(Quantity("nll", label: "NLL = −log p̂(x)", value: -estimate.logLikelihood.mean,
                            standardError: estimate.logLikelihood.standardError, unit: nats, preference: .lowerIsBetter,
                            expectation: "what papers report as NLL"))
        report.add(Quantity("elbo", label: "ELBO (same draws)", value: estimate.elbo.mean, standardError: estimate.elbo.standardError,
                            unit: nats, preference: .higherIsBetter, expectation: "≤ log p(x)"))
        report.add(Quantity("gap", label: "gap = log p̂(x) − ELBO", value: estimate.gap.mean, standardError: estimate.gap.standardError,
                            unit: nats, preference: .lowerIsBetter, expectation: "≥ 0"))
        report.add(Quantity.count("examples", estimate.examples).jsonOnly)
        report.add(Quantity.count("k", k).jsonOnly)
        report.addText("the gap is KL(q(z|x) ‖ p(z|x)), the encoder's distance from the true posterior: log p(x) = ELBO + gap")
        if let note = greyLevelNote(run.likelihood, run.dataset) { report.addText(note) }
        context.report(report)
    }

    private static func activeUnits(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        guard run.exampleCount >= 2 else {
            throw context.failure(argument: "limit", "active units need at least 2 examples: A_d is a variance over the data",
                                  hint: "use limit=100 or more")
        }
        // The encoder alone: 60,000 examples take a fraction of a second, so no progress line.
        guard let activity = run.trainer.model.latentActivity(run.split, indices: run.indices, shouldStop: { context.isInterrupted }) else {
            throw ScriptError.interrupted(at: context.location)
        }
        var report = Report(command: "active-units")
        report.addText("\(run.splitName) split of \(run.dataset.name): \(Format.grouped(activity.examples)) examples, "
                       + "the encoder's μ and σ² of each (no draws of z)")
        var table = TextTable(alignments: [.right, .right, .right, .left])
        table.append(["dim", "A_d = Cov_x(μ_d)", "mean KL nats", ""])
        for d in activity.activity.indices {
            table.append([String(d), Format.fixed(activity.activity[d], decimals: 4), Format.fixed(activity.meanKL[d], decimals: 3),
                          activity.isActive(d) ? "active" : "inactive"])
        }
        report.addTable(table)
        let active = activity.activeCount, total = activity.activity.count
        let inactiveKL = activity.activity.indices.filter { !activity.isActive($0) }.map { activity.meanKL[$0] }.reduce(0, +)
        let totalKL = activity.meanKL.reduce(0, +)
        report.add(Quantity.count("active_units", label: "active units (A_d > \(Format.general(LatentActivity.threshold)))", active))
        report.add(Quantity("inactive_kl", label: "KL of the inactive dimensions", value: inactiveKL, unit: nats,
                            expectation: "of \(Format.fixed(totalKL, decimals: 2)) in all"))
        report.addText("A_d is the variance over these examples of the encoder's mean μ_d(x) (Burda et al. 2016): "
                       + "an active dimension's code moves with x, an inactive one's stays put, so it tells the decoder nothing"
                       + (active == 0 ? "; here none is active: the posterior has collapsed onto the prior"
                          : active == total ? "; here every dimension is in use" : ""))
        report.addField("activity", .array(activity.activity.map { .number($0) }))
        report.addField("mean_kl", .array(activity.meanKL.map { .number($0) }))
        report.addField("examples", .int(activity.examples))
        report.addField("split", .string(run.splitName))
        context.report(report)
    }

    private static func whatIs(_ context: CommandContext) throws(ScriptError) {
        let number = try loggedNumber(context)
        let run = try TermRun(context)
        guard run.exampleCount >= 2 else {
            throw context.failure("the \(run.splitName) split has one example: whatis needs two or more to tell the spread between examples")
        }
        let samples = try context.arguments.optionalInt("samples") ?? max(2, context.settings.samples)
        let batch = try context.arguments.optionalInt("batch") ?? context.settings.batch
        let beta = try context.arguments.optionalDouble("beta"), tolerance = try context.arguments.optionalDouble("tolerance")
        // The term commands' draws on this split: with common random numbers, draw 0 of an example
        // is the z 'loss' and 'recon' used.
        let measured = try context.engine {
            try run.trainer.model.objectiveDraws(run.split, indices: run.indices, samples: samples, draws: run.draws,
                                                 shouldStop: { context.isInterrupted })
        }
        guard let draws = measured else { throw ScriptError.interrupted(at: context.location) }
        let model = run.trainer.model
        let setting = ConventionSetting(dimension: model.inputSize, latentSize: model.latentSize, likelihood: run.likelihood,
                                        batch: batch, beta: beta)
        let identification = draws.identify(LoggedNumber(value: number.value, rounding: number.rounding, batch: batch),
                                            among: Convention.catalogue(setting), splitSize: run.split.count, tolerance: tolerance)
        let display = IdentificationReport(
            identification: identification, draws: draws, setting: setting,
            scope: run.scope(examples: draws.examples, draws: "\(samples) draws of z"), splitName: run.splitName,
            splitSize: run.split.count, typed: number.text, width: TerminalPicture.availableWidth(for: context.session))
        for (name, rank) in display.matchRanks { context.setVariable(name, Double(rank)) }
        context.report(display.report())
    }

    /// The number `whatis` identifies, and half a unit of its last digit when it was typed as a
    /// literal (a computed value is exact).
    private static func loggedNumber(_ context: CommandContext) throws(ScriptError) -> (value: Double, rounding: Double, text: String) {
        let (expression, text) = try context.arguments.expression("number")
        let variables = context.session.variableValues
        let hint = "give the number as the log printed it, e.g. 'whatis 0.1347', or an expression without spaces, e.g. 'whatis loss*128'"
        if let special = expression.variableNames.first(where: { variables[$0] == nil && ["nan", "inf", "infinity"].contains($0.lowercased()) }) {
            throw context.failure(argument: "number", "'\(special)' is not a finite number: NaN and infinity match no convention", hint: hint)
        }
        if case .variable(let name, _) = expression, variables[name] == nil {
            throw context.failure(argument: "number", "'\(name)' is neither a number nor a variable", hint: hint)
        }
        // A number computed from another command's result must describe this model and data.
        try context.session.requireCurrent(expression.variableReferences)
        let value = try expression.evaluate(variables)
        guard case .number(let number) = value else {
            throw context.failure(argument: "number", "whatis needs a number, not \(value.exactDescription)", hint: hint)
        }
        guard number.isFinite else {
            throw context.failure(argument: "number", "the number is \(Format.general(number)): NaN and infinity match no convention", hint: hint)
        }
        let isLiteral: Bool = switch expression {
        case .number: true
        case .unary(.negate, .number, _), .unary(.plus, .number, _): true
        default: false
        }
        return (number, isLiteral ? halfUnitOfLastDigit(text) ?? 0 : 0, text)
    }

    /// Half a unit in the last digit of a decimal literal: 0.00005 for "0.1347", 0.5 for "105",
    /// 0.000005 for "1.5e-5"; nil for anything else.
    static func halfUnitOfLastDigit(_ text: String) -> Double? {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "e" || $0 == "E" })
        guard let mantissa = parts.first, parts.count <= 2, mantissa.contains(where: \.isNumber),
              mantissa.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), mantissa.filter({ $0 == "." }).count <= 1,
              let exponent = parts.count == 2 ? Int(parts[1]) : 0 else { return nil }
        let decimals = mantissa.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        // "0e400" is a finite zero whose last digit would be worth 10^400: no rounding to speak of.
        let half = 0.5 * Foundation.pow(10, Double(exponent - decimals))
        return half.isFinite ? half : nil
    }

    static let nats = "nats/example"
    /// Latent dimensions whose KL share for one example is below this sit at the prior for it.
    static let inactiveThreshold = 0.01

    /// Said in the help of every command that draws z: why its numbers repeat.
    static let commonDrawsNote = """
         Numbers repeat: ε for an example's draw depends only on the seed, the split and the \
        example (common random numbers), so while the model is unchanged every command draws the \
        same z for the same examples, recon − kl = elbo = −loss holds across commands, and the \
        same weights give the same numbers in any session; 'set draws=fresh' draws new z every time, to show the Monte-Carlo noise \
        ('explain draws').
        """


    static func reconstructionQuantity(_ terms: ELBOTerms, _ likelihood: Likelihood) -> Quantity {
        Quantity("recon", label: "recon = E_q[log p(x|z)]", value: terms.reconstruction.mean, standardError: terms.reconstruction.standardError,
                 unit: nats, preference: .higherIsBetter, expectation: likelihood == .bernoulli ? "≤ 0 for a Bernoulli" : "any sign for a density")
    }

    /// The closed-form KL; for one example its standard error is 0 (it is exact), which shows no ±.
    static func klQuantity(_ terms: ELBOTerms) -> Quantity {
        Quantity("kl", label: "KL(q(z|x) ‖ p(z))", value: terms.kl.mean, standardError: terms.kl.standardError,
                 unit: nats, preference: .lowerIsBetter, expectation: "≥ 0")
    }

    /// The sign of the reconstruction term, and why it has it.
    static func signLine(reconstruction: Double, likelihood: Likelihood) -> String {
        switch (likelihood, reconstruction > 0) {
        case (.bernoulli, false):
            "sign: − as expected: a Bernoulli probability is at most 1, so its log is ≤ 0"
        case (.bernoulli, true):
            "sign: + which a Bernoulli log-likelihood can never be: ✗"
        case (_, true):
            "sign: + which is fine: a Gaussian density exceeds 1 where σ < 1/√(2π) ≈ 0.399 and the mean is close, so its log is positive"
        case (_, false):
            "sign: − a Gaussian log-density; it may have either sign (the −½·log(2πσ²) constant is included)"
        }
    }

    /// Per-dimension μ, σ² and KL share of one example.
    static func latentTable(model: VAE<Float>, split: DataSplit, index: Int) -> TextTable {
        let posterior = model.posterior(split, index: index)
        var table = TextTable(alignments: [.right, .right, .right, .right, .left])
        table.append(["dim", "μ", "σ²", "KL nats", ""])
        for j in posterior.mean.indices {
            let share = Double(Divergence.klPerDimension(mean: [posterior.mean[j]], logVariance: [posterior.logVariance[j]])[0])
            table.append([String(j), Format.fixed(Double(posterior.mean[j]), decimals: 3),
                          Format.fixed(Double(Float.exp(posterior.logVariance[j])), decimals: 3),
                          Format.fixed(share, decimals: 3), share < inactiveThreshold ? "at the prior" : ""])
        }
        return table
    }
}
