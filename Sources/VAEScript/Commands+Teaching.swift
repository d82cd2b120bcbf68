import VAEFormats
import VAEKit

// MARK: - Waiting for the user

/// What the user answered when a script waited for them.
public enum PauseAnswer: Sendable, Equatable {
    /// Enter: carry on.
    case proceed
    /// `c`: carry on, and stop waiting at later pauses and steps.
    case runToEnd
    /// `q`: stop the scripts, as `quit` would.
    case stop
    /// Ctrl-C (or the input ended): stop, as Ctrl-C during a command does.
    case interrupted
}

/// The host's way of waiting for the user, for `pause` and `vaesh --step`.
///
/// The language never reads the keyboard itself (the shell owns it); the shell installs a host
/// under `PauseHostKey` only when standard input is a terminal, so without one `pause` never waits.
public protocol PauseHost: AnyObject {
    /// Shows `prompt`, waits for a line, and returns the answer. Once the user answered
    /// `.runToEnd`, later calls return `.proceed` at once.
    func waitForUser(prompt: String) -> PauseAnswer
}

/// Where a session keeps its `PauseHost`: `session[state: PauseHostKey.self] = host`.
public enum PauseHostKey: SessionStateKey {
    public typealias Value = any PauseHost
}

// MARK: - Commands

/// `explain`, `pause`: for teaching with vaesh.
extension CommandTable {
    static let teachingCommands: [CommandSpec] = [
        CommandSpec(
            "explain", topic: .terms,
            arguments: [.positional("term", .choice(ExplainedTerm.allCases.map(\.rawValue)), abstract: "the term to explain; none lists them all")],
            abstract: "define a term of the objective, derive it, and show this model's value",
            discussion: """
            Prints the term's definition and a short derivation: why the ELBO bounds log p(x) \
            (log p(x) = ELBO + KL(q(z|x) ‖ p(z|x))), why minimising loss = −ELBO is maximising \
            the ELBO, why the KL is never negative, and how log p(x) is estimated. When data and \
            a model are loaded it substitutes the model's numbers, computed on the first 500 \
            examples of the test split (train if there is none) with the samples setting, or for \
            logpx and gap on the first 100 with K = min(k, 200) importance samples. These numbers \
            do not set variables; the term commands do.
            """,
            examples: ["explain", "explain elbo", "explain gap"]
        ) { context throws(ScriptError) in
            let name = try context.arguments.optionalString("term")
            guard let name, let term = ExplainedTerm(rawValue: name) else {
                var report = Report(command: "explain")
                report.addText(ExplainedTerm.overview)
                report.addField("terms", .array(ExplainedTerm.allCases.map { .string($0.rawValue) }))
                context.report(report)
                return
            }
            var report = Report(command: "explain")
            report.addField("term", .string(term.rawValue))
            report.addText(term.explanation)
            try addModelNumbers(term, to: &report, context: context)
            context.report(report)
        },

        CommandSpec(
            "pause", topic: .session,
            arguments: [.rest("text", .template, abstract: "what to show while waiting; {expr} is replaced by its value")],
            abstract: "wait for Enter before the script goes on (only when stdin is a terminal)",
            discussion: """
            Prints the text, if any, then waits for Enter when standard input is a terminal, so a \
            teacher can talk about what is on the screen. Enter goes on, c goes on without \
            stopping at later pauses (or --step stops), q ends the scripts as 'quit' does (in a \
            script sourced at the prompt it returns to the prompt), Ctrl-C interrupts. When stdin \
            is not a terminal (a pipe, CI, a test) it only prints the text.
            """,
            examples: ["pause", #"pause "Look at the sign of each term""#]
        ) { context throws(ScriptError) in
            let text = try context.arguments.template("text").render(context.session.variableValues)
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
        },
    ]

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
        var random = context.randomStream()
        let unit = "nats/example"

        func signed(_ value: Double) -> String {
            let text = Format.fixed(value, decimals: 2)
            return value < 0 ? "(\(text))" : text
        }
        func mark(_ holds: Bool) -> String { holds ? "✓" : "✗" }

        switch term {
        case .recon, .kl, .elbo, .loss:
            let count = min(explainExamples, split.count)
            let samples = context.settings.samples
            guard let terms = model.evaluate(split, indices: Array(0..<count), samples: samples, random: &random,
                                             shouldStop: { context.isInterrupted }) else {
                throw .interrupted(at: context.location)
            }
            let recon = terms.reconstruction, kl = terms.kl, elbo = terms.elbo, loss = terms.loss
            report.addText("")
            report.addText("With this model, on the first \(count) \(splitName) examples (\(samples) draw\(samples == 1 ? "" : "s") of z each):")
            let bernoulli = model.configuration.likelihood == .bernoulli
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
                report.addText("NLL = −recon = \(Format.fixed(-recon.mean, decimals: 2)) \(unit): what the loss adds for reconstruction")
            case .kl:
                report.addText("\(mark(kl.mean >= 0)) KL = \(signed(kl.mean)) ≥ 0")
            case .elbo:
                report.addText("\(mark(abs(recon.mean - kl.mean - elbo.mean) <= 1e-6 * max(1, abs(elbo.mean)))) ELBO = recon − KL = \(signed(recon.mean)) − \(signed(kl.mean)) = \(signed(recon.mean - kl.mean))")
            case .loss:
                let holds = abs(-recon.mean + kl.mean - loss.mean) <= 1e-6 * max(1, abs(loss.mean)) && abs(loss.mean + elbo.mean) <= 1e-9 * max(1, abs(loss.mean))
                report.addText("\(mark(holds)) loss = −ELBO = −\(signed(elbo.mean)) = \(Format.fixed(loss.mean, decimals: 2)) = NLL + KL = "
                               + "\(signed(-recon.mean)) + \(signed(kl.mean))")
            case .logpx, .gap:
                break
            }
            report.addField("examples", .int(count))
            report.addField("samples", .int(samples))
            report.addField("split", .string(splitName))
        case .logpx, .gap:
            let count = min(explainImportanceExamples, split.count)
            let k = min(context.settings.k, explainImportanceSamples)
            guard let estimate = model.logLikelihood(split, indices: Array(0..<count), importanceSamples: k, random: &random,
                                                     shouldStop: { context.isInterrupted }) else {
                throw .interrupted(at: context.location)
            }
            report.addText("")
            report.addText("With this model, on the first \(count) \(splitName) examples (K = \(k) importance samples each; 'logpx' uses k = \(context.settings.k)):")
            report.add(Quantity("logpx", label: "log p̂(x)", value: estimate.logLikelihood.mean, standardError: estimate.logLikelihood.standardError,
                                unit: unit, preference: .higherIsBetter, expectation: "≥ ELBO", setsVariable: false))
            report.add(Quantity("elbo", label: "ELBO, same draws", value: estimate.elbo.mean, standardError: estimate.elbo.standardError,
                                unit: unit, preference: .higherIsBetter, expectation: "≤ log p(x)", setsVariable: false))
            report.add(Quantity("gap", label: "gap = log p̂(x) − ELBO", value: estimate.gap.mean, standardError: estimate.gap.standardError,
                                unit: unit, preference: .lowerIsBetter, expectation: "≥ 0", setsVariable: false))
            let gap = estimate.gap.mean
            report.addText("\(mark(gap >= 0)) gap = log p̂(x) − ELBO = \(signed(estimate.logLikelihood.mean)) − \(signed(estimate.elbo.mean)) = \(Format.fixed(gap, decimals: 2)) ≥ 0: "
                           + "the ELBO is below log p̂(x) by KL(q(z|x) ‖ p(z|x)) ≈ \(Format.fixed(gap, decimals: 2)) nats")
            report.addField("examples", .int(count))
            report.addField("k", .int(k))
            report.addField("split", .string(splitName))
        }
    }

    /// Examples `explain` evaluates the ELBO terms on, and the importance-sampling budget for logpx
    /// and gap: enough for two decimals on MNIST, and about a second on two cores.
    static let explainExamples = 500
    static let explainImportanceExamples = 100
    static let explainImportanceSamples = 200
}

/// The terms `explain` knows, with their text.
enum ExplainedTerm: String, CaseIterable {
    case recon, kl, elbo, loss, logpx, gap

    static let overview = """
    The terms of the VAE objective, per example x, in nats (natural-log units):
      recon  E_q(z|x)[log p(x|z)]                higher is better; ≤ 0 for a Bernoulli decoder
      kl     KL(q(z|x) ‖ p(z))                   ≥ 0; the penalty for codes that stray from the prior
      elbo   recon − kl                           maximised; ≤ log p(x)
      loss   −elbo = NLL + kl                     minimised: what 'train' and 'step' descend
      logpx  log p(x), by importance sampling     ≥ elbo
      gap    logpx − elbo = KL(q(z|x) ‖ p(z|x))   ≥ 0
    'explain TERM' derives one, with this model's numbers when data and a model are loaded.
    """

    var explanation: String {
        switch self {
        case .recon:
            """
            recon: the reconstruction term E_q(z|x)[log p(x|z)], in nats per example; higher is better
              How probable the decoder makes the example x, on average over codes z drawn from the
              encoder's q(z|x) = N(μ(x), diag σ²(x)).
              Estimated with z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick, so gradients
              reach μ and σ), averaging log p(x|z) over S draws.
              Bernoulli decoder, ŷ = σ(logits):  log p(x|z) = Σ_d [x_d log ŷ_d + (1 − x_d) log(1 − ŷ_d)] ≤ 0,
              minus the binary cross-entropy: PyTorch's BCE(recon_x, x, reduction='sum') is −recon.
              Gaussian decoder:  log p(x|z) = Σ_d [−½ log(2πσ²) − (x_d − μ_d)² / (2σ²)], which can be
              positive: a density exceeds 1 where σ < 1/√(2π) ≈ 0.399 and the fit is close.
              The loss contains it negated, as the negative log-likelihood NLL = −recon.
            """
        case .kl:
            """
            kl: KL(q(z|x) ‖ p(z)), the encoder's divergence from the prior, in nats per example; lower is better for the loss
              KL = E_q[log q(z|x) − log p(z)], in closed form for q = N(μ, diag σ²) and p = N(0, I):
                KL = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)
              Never negative: μ_j² ≥ 0, and σ² − log σ² − 1 ≥ 0 for every σ² > 0 (equality at σ² = 1).
              It is 0 in a dimension only where μ_j = 0 and σ_j = 1: that dimension tells the decoder
              nothing about x. A dimension at 0 for every x is inactive ('kl index=I' marks them;
              most of them inactive is posterior collapse).
              The Monte-Carlo estimate log q(z|x) − log p(z) at a single draw can be negative; its
              average cannot. PyTorch's example writes KLD = −0.5·sum(1 + logvar − mu² − logvar.exp()):
              the same closed form.
            """
        case .elbo:
            """
            elbo: the evidence lower bound, in nats per example; higher is better (it is maximised)
              ELBO(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z)) = recon − kl
              Why it bounds log p(x): for any z, p(x) = p(x, z) / p(z|x), so taking E_q of the log,
                log p(x) = E_q[log p(x, z) − log p(z|x)]
                         = E_q[log p(x, z) − log q(z|x)] + E_q[log q(z|x) − log p(z|x)]
                         = ELBO(x) + KL(q(z|x) ‖ p(z|x))
              A KL is ≥ 0, so ELBO(x) ≤ log p(x), equal when q(z|x) is the true posterior p(z|x).
              With log p(x, z) = log p(x|z) + log p(z), the first expectation is recon − KL(q(z|x) ‖ p(z)).
              Kingma & Welling write it L(θ, φ; x) and maximise it.
            """
        case .loss:
            """
            loss: what training minimises, loss = −ELBO = NLL + KL, in nats per example; lower is better
              loss(x) = −ELBO(x) = −E_q[log p(x|z)] + KL(q(z|x) ‖ p(z)) = NLL + KL
              Minimising it is maximising the ELBO: the two differ only in sign, so they share their
              optimum (argmin loss = argmax ELBO) and ∇loss = −∇ELBO; a descent step on the loss,
              θ ← θ − η∇loss = θ + η∇ELBO, is an ascent step on the ELBO.
              The sign flips once: recon is a log-likelihood (≤ 0 for a Bernoulli), NLL = −recon ≥ 0,
              and the KL enters the loss with a plus. Minimising the ELBO instead is the flipped-sign
              mistake; 'step objective=elbo' and 'train objective=elbo' show where it leads.
              PyTorch's example returns BCE + KLD summed over the batch: this loss, summed.
            """
        case .logpx:
            """
            logpx: log p(x), the evidence, in nats per example; higher is better
              log p(x) = log ∫ p(x|z) p(z) dz has no closed form; it is estimated by importance
              sampling with q(z|x) as the proposal (Burda et al.'s IWAE bound):
                log p̂(x) = log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x)
              The average inside the log is an unbiased estimate of p(x); by Jensen's inequality its
              log is ≤ log p(x) on average, a bound that tightens as K grows. K = 1 is the ELBO's own
              estimate, so ELBO ≤ E[log p̂_K(x)] ≤ log p(x). 'logpx' prints it with the ELBO and the gap.
            """
        case .gap:
            """
            gap: log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), in nats per example; ≥ 0, smaller means a better encoder
              From log p(x) = ELBO(x) + KL(q(z|x) ‖ p(z|x)): the gap is how far the encoder's q(z|x) is
              from the true posterior p(z|x). It is not the KL of the loss, which is to the prior p(z).
              Estimated as log p̂(x) − ELBO on the same examples; with finite K it comes out too small.
              Maximising ELBO = log p(x) − gap raises log p(x), lowers the gap, or both.
            """
        }
    }
}
