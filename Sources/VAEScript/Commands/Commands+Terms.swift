import RealModule
import VAEFormats
import VAEKit

// The terms of the objective, each printed with its sign, standard error, example count and unit.
//
// Kingma & Welling's L = E_q[log p(x|z)] − KL(q(z|x)‖p(z)) is the ELBO, maximised; the optimiser
// minimises loss = −ELBO = NLL + KL. Every label below says which of the two a number is.

extension CommandTable {
    /// Which examples a term command runs on.
    static let exampleArguments: [ArgumentSpec] = [
        .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which split to evaluate"),
        .option("limit", .int, range: .atLeast(1), abstract: "only the first N examples of the split"),
        .option("index", .int, range: .atLeast(0), abstract: "only example I of the split (0-based)"),
        .option("samples", .int, range: .between(1, 100_000), abstract: "draws of z per example (default: the samples setting)"),
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
        var report = run.header(command: "kl", terms: terms)
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
            let inactive = shares.filter { $0 < inactiveThreshold }.count
            report.addText("\(inactive) of \(shares.count) latent dimensions inactive (KL < \(Format.general(inactiveThreshold)) nats): "
                           + (inactive == shares.count ? "the posterior has collapsed onto the prior for this example"
                              : inactive > 0 ? "those dimensions carry no information about x" : "every dimension is in use"))
            report.addField("inactive", .int(inactive))
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
        context.report(report)
    }

    private static func lossTerm(_ context: CommandContext) throws(ScriptError) {
        let run = try TermRun(context)
        let terms = try run.evaluate()
        var report = run.header(command: "loss", terms: terms)
        report.add(Quantity("nll", label: "NLL = −recon", value: -terms.reconstruction.mean, standardError: terms.reconstruction.standardError,
                            unit: nats, preference: .lowerIsBetter))
        report.add(klQuantity(terms))
        report.add(Quantity("loss", label: "loss = −ELBO = NLL + KL", value: terms.loss.mean, standardError: terms.loss.standardError,
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
        guard let estimate = model.logLikelihood(run.split, indices: run.indices, importanceSamples: k, draws: run.draws,
                                                 shouldStop: { context.isInterrupted }) else {
            throw ScriptError.interrupted(at: context.location)
        }
        var report = Report(command: "logpx")
        report.addText(run.scope(examples: estimate.examples, draws: "\(k) importance samples"))
        report.add(Quantity("logpx", label: "log p̂(x), IWAE K=\(k)", value: estimate.logLikelihood.mean,
                            standardError: estimate.logLikelihood.standardError, unit: nats, preference: .higherIsBetter, expectation: "≥ ELBO"))
        report.add(Quantity("elbo", label: "ELBO (same draws)", value: estimate.elbo.mean, standardError: estimate.elbo.standardError,
                            unit: nats, preference: .higherIsBetter, expectation: "≤ log p(x)"))
        report.add(Quantity("gap", label: "gap = log p̂(x) − ELBO", value: estimate.gap.mean, standardError: estimate.gap.standardError,
                            unit: nats, preference: .lowerIsBetter, expectation: "≥ 0"))
        report.add(Quantity.count("examples", estimate.examples).jsonOnly)
        report.add(Quantity.count("k", k).jsonOnly)
        report.addText("the gap is KL(q(z|x) ‖ p(z|x)), the encoder's distance from the true posterior: log p(x) = ELBO + gap")
        context.report(report)
    }

    static let termCommands: [CommandSpec] = [
        CommandSpec(
            "recon", topic: .terms, arguments: exampleArguments,
            abstract: "the reconstruction term E_q[log p(x|z)], a log-likelihood: higher is better",
            discussion: """
            Estimates E_q(z|x)[log p(x|z)] by drawing z = μ + σ⊙ε from the encoder S times per \
            example. It is a log-likelihood, not a loss: larger is better, and for a Bernoulli \
            decoder it is ≤ 0 because a probability is at most 1. A Gaussian decoder's density can \
            exceed 1, so its reconstruction term can be positive. Sets recon and recon_se.
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
            dimension's share and marks the inactive ones (KL below 0.01 nats), which is how \
            posterior collapse shows. Sets kl (closed form), kl_mc, and their _se.
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
            and their difference, and sets recon, kl and elbo (with _se).
            """,
            examples: ["elbo", "elbo split=train limit=5000", "elbo index=7 samples=1000"],
            handler: elboTerm
        ),

        CommandSpec(
            "loss", topic: .terms, arguments: exampleArguments + [
                .option("bpd", .bool, default: false, abstract: "also print it in bits per dimension"),
            ],
            abstract: "the loss = −ELBO = NLL + KL, what train minimises: lower is better",
            discussion: """
            The negative ELBO, −E_q[log p(x|z)] + KL(q(z|x)‖p(z)): the reconstruction's negative \
            log-likelihood plus the KL. It is what the optimiser minimises (the PyTorch example's \
            BCE + KLD, per example). Sets loss (and recon, kl, elbo, each with _se); bpd=true adds \
            loss_bpd = loss / (D·ln 2).
            """,
            examples: ["loss", "loss split=train", "loss bpd=true"],
            handler: lossTerm
        ),

        CommandSpec(
            "logpx", topic: .terms, arguments: exampleArguments + [
                .option("k", .int, range: .between(1, 1_000_000), abstract: "importance samples per example (default: the k setting, 1000)"),
            ],
            abstract: "log p(x) estimated by importance sampling (IWAE bound), with the ELBO and the gap",
            discussion: """
            Estimates log p(x) = log E_q[p(x|z)p(z)/q(z|x)] with K draws from the encoder and a \
            stable log-mean-exp (Burda et al.'s bound, which tightens as K grows). It also prints \
            the ELBO from the same draws and the gap log p(x) − ELBO ≥ 0, which is \
            KL(q(z|x) ‖ p(z|x)): how far the encoder is from the true posterior. Without limit= or \
            index= it uses the first 100 examples, since each needs K decoder passes. Ctrl-C \
            stops it between chunks. Sets logpx, elbo, gap (with _se).
            """,
            examples: ["logpx", "logpx k=5000 limit=20", "logpx index=0 k=10000"],
            handler: logLikelihood
        ),
    ]

    static let nats = "nats/example"
    /// Latent dimensions whose KL share is below this are called inactive.
    static let inactiveThreshold = 0.01

    static func reconstructionQuantity(_ terms: ELBOTerms, _ likelihood: Likelihood) -> Quantity {
        Quantity("recon", label: "recon = E_q[log p(x|z)]", value: terms.reconstruction.mean, standardError: terms.reconstruction.standardError,
                 unit: nats, preference: .higherIsBetter, expectation: likelihood == .bernoulli ? "≤ 0 for a Bernoulli" : "any sign for a density")
    }

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
                          Format.fixed(share, decimals: 3), share < inactiveThreshold ? "inactive" : ""])
        }
        return table
    }
}
