/// The terms `explain` knows, with their text.
///
/// The texts are broken by hand to fit 78 columns, so they read well on an 80-column projector
/// and in a log; a narrower terminal wraps them further at blanks.
enum ExplainedTerm: String, CaseIterable {
    case recon, kl, elbo, loss, logpx, gap, nll, bce, sign, draws, reduction
    case bitsPerDim = "bits-per-dim"

    /// One row per term for the overview: name, formula, what to expect of it.
    static let overviewRows: [[String]] = [
        ["recon", "E_q(z|x)[log p(x|z)]", "higher is better; ≤ 0 for Bernoulli"],
        ["kl", "KL(q(z|x) ‖ p(z))", "≥ 0; the price of leaving the prior"],
        ["elbo", "recon − kl", "maximised; ≤ log p(x)"],
        ["loss", "−elbo = −recon + kl", "minimised by 'train' and 'step'"],
        ["logpx", "log p(x), by importance sampling", "≥ elbo"],
        ["gap", "logpx − elbo = KL(q(z|x) ‖ p(z|x))", "≥ 0"],
        ["nll", "−log p(x)", "what papers call NLL; not −recon"],
        ["bce", "binary cross-entropy", "PyTorch's BCE; −recon if Bernoulli"],
        ["sign", "which way each term goes", "checked on your model: 'show-sign'"],
        ["draws", "common random numbers", "why a command repeats its numbers"],
    ]

    /// How logs report the terms, for the overview's second part.
    static let reportingRows: [[String]] = [
        ["reduction", "per example, summed over the batch, or averaged over pixels too"],
        ["bits-per-dim", "nats per example / (D · ln 2), as papers report it"],
    ]

    static let overviewHeader = "The terms of the VAE objective, per example x, in nats (natural-log units):"
    static let reportingHeader = "How logs report them ('whatis NUMBER' names the convention of a logged number):"
    static let overviewFooter = "'explain TERM' derives one; with data and a model loaded, with their numbers."

    var explanation: String {
        switch self {
        case .recon:
            """
            recon: the reconstruction term E_q(z|x)[log p(x|z)], in nats per example;
            higher is better
              How probable the decoder makes the example x, on average over codes z
              drawn from the encoder's q(z|x) = N(μ(x), diag σ²(x)).
              Estimated with z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick,
              so gradients reach μ and σ), averaging log p(x|z) over S draws.
              Bernoulli decoder, ŷ = σ(logits):
                log p(x|z) = Σ_d [x_d log ŷ_d + (1 − x_d) log(1 − ŷ_d)] ≤ 0,
              minus the binary cross-entropy: PyTorch's
              BCE(recon_x, x, reduction='sum') is −recon ('explain bce').
              Gaussian decoder:
                log p(x|z) = Σ_d [−½ log(2πσ²) − (x_d − μ_d)² / (2σ²)],
              which can be positive: a density exceeds 1 where σ < 1/√(2π) ≈ 0.399
              and the fit is close.
              The loss contains it negated, as the reconstruction loss −recon. That is
              not the NLL −log p(x) of the literature ('explain nll').
            """
        case .kl:
            """
            kl: KL(q(z|x) ‖ p(z)), the encoder's divergence from the prior, in nats per
            example; lower is better for the loss
              KL = E_q[log q(z|x) − log p(z)], in closed form for q = N(μ, diag σ²)
              and p = N(0, I):
                KL = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)
              Never negative: μ_j² ≥ 0, and σ² − log σ² − 1 ≥ 0 for every σ² > 0
              (equality at σ² = 1).
              It is 0 in a dimension only where μ_j = 0 and σ_j = 1: there this
              example's code tells the decoder nothing. A dimension whose μ_j stays
              put for every x is unused: 'active-units' measures that over the data
              (Burda et al.'s Cov_x(E_q[z_j]) > 0.01); most of them unused is
              posterior collapse. 'kl index=I' shows one example's dimensions.
              The Monte-Carlo estimate log q(z|x) − log p(z) at a single draw can be
              negative; its average cannot. PyTorch's example writes
              KLD = −0.5·sum(1 + logvar − mu² − logvar.exp()): the same closed form.
            """
        case .elbo:
            """
            elbo: the evidence lower bound, in nats per example; higher is better (it is
            maximised)
              ELBO(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z)) = recon − kl
              Why it bounds log p(x): for any z, p(x) = p(x, z) / p(z|x), so taking
              E_q of the log,
                log p(x) = E_q[log p(x, z) − log p(z|x)]
                         = E_q[log p(x, z) − log q(z|x)] + E_q[log q(z|x) − log p(z|x)]
                         = ELBO(x) + KL(q(z|x) ‖ p(z|x))
              A KL is ≥ 0, so ELBO(x) ≤ log p(x), equal when q(z|x) is the true
              posterior p(z|x). With log p(x, z) = log p(x|z) + log p(z), the first
              expectation is recon − KL(q(z|x) ‖ p(z)).
              Kingma & Welling write it L(θ, φ; x) and maximise it.
            """
        case .loss:
            """
            loss: what training minimises, loss = −ELBO = −recon + KL, in nats per
            example; lower is better
              loss(x) = −ELBO(x) = −E_q[log p(x|z)] + KL(q(z|x) ‖ p(z))
              Minimising it is maximising the ELBO: the two differ only in sign, so
              they share their optimum (argmin loss = argmax ELBO) and ∇loss = −∇ELBO;
              a descent step on the loss, θ ← θ − η∇loss = θ + η∇ELBO, is an ascent
              step on the ELBO.
              The sign flips once: recon is a log-likelihood (≤ 0 for a Bernoulli),
              the reconstruction loss −recon is ≥ 0, and the KL enters the loss with a
              plus. Minimising the ELBO instead is the flipped-sign mistake;
              'step objective=elbo' and 'train objective=elbo' show where it leads.
              PyTorch's example returns BCE + KLD summed over the batch: this loss,
              summed. It is not the NLL −log p(x), which is smaller by the gap.
            """
        case .logpx:
            """
            logpx: log p(x), the evidence, in nats per example; higher is better
              log p(x) = log ∫ p(x|z) p(z) dz has no closed form; it is estimated by
              importance sampling with q(z|x) as the proposal (Burda et al.'s IWAE
              bound):
                log p̂(x) = log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x)
              The average inside the log is an unbiased estimate of p(x); by Jensen's
              inequality its log is ≤ log p(x) on average, a bound that tightens as K
              grows. K = 1 is the ELBO's own estimate, so
              ELBO ≤ E[log p̂_K(x)] ≤ log p(x). 'logpx' prints it with the ELBO, the
              gap and NLL = −log p̂(x).
            """
        case .reduction:
            """
            reduction: how a loss is combined over pixels and examples; lower is better
              One objective, many numbers. The loss of one example sums over its D pixels
              and Z latent dimensions:
                loss = BCE + KL,  BCE = −Σ_d [x_d log x̂_d + (1 − x_d) log(1 − x̂_d)],
                KL = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)
              A batch of B examples is then reduced in one of four ways:
                per example            (1/B) Σ_b loss_b       pytorch/examples' printed loss
                summed over the batch  Σ_b loss_b             reduction='sum'
                averaged over pixels   (1/(B·D)) Σ_b loss_b   reduction='mean', the default
                pixels, batch summed   (1/D) Σ_b loss_b
              Scaling a loss by a constant moves no minimum (and Adam ignores a constant
              scale of the gradient), so these four train alike. The slip is to reduce the
              two terms differently:
                mean-BCE + KL = BCE/D + KL = (BCE + D·KL)/D
              the β-VAE loss with β = D, divided by D: the KL weighted D times too much, and
              the codes collapse onto the prior (scripts/examples/mean-vs-sum.vae).
              'whatis NUMBER' names the reduction a logged number follows.
            """
        case .bitsPerDim:
            """
            bits-per-dim: a loss in bits per value, as papers report it; lower is better
              bpd = (nats per example) / (D · ln 2): dividing by D gives nats per pixel,
              dividing by ln 2 turns nats into bits (log₂ e ≈ 1.4427). On MNIST's 784
              pixels, 100 nats per example is 100 / (784 · ln 2) ≈ 0.184 bits/dim.
              Papers on images report −log₂ p(x) per dimension, log p(x) estimated by
              importance sampling ('logpx'); the loss −ELBO in bits/dim is an upper bound
              on it, higher by the gap. 'loss bpd=true' prints the loss this way, and
              'whatis' recognises a number in bits per dimension.
            """
        case .gap:
            """
            gap: log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), in nats per example; ≥ 0, smaller
            means a better encoder
              From log p(x) = ELBO(x) + KL(q(z|x) ‖ p(z|x)): the gap is how far the
              encoder's q(z|x) is from the true posterior p(z|x). It is not the KL of
              the loss, which is to the prior p(z).
              Estimated as log p̂(x) − ELBO on the same examples; with finite K it
              comes out too small.
              Maximising ELBO = log p(x) − gap raises log p(x), lowers the gap, or
              both.
            """
        case .nll:
            """
            nll: the negative log-likelihood −log p(x) of the data under the model, in
            nats per example; lower is better
              In the VAE literature "NLL" is −log p(x), estimated by importance
              sampling ('explain logpx'): the number tables of results report, e.g.
              for binarised MNIST. 'logpx' prints it as NLL = −log p̂(x).
              It is not the reconstruction loss −E_q[log p(x|z)] that the loss
              contains ('explain recon'), and vaesh never calls that one NLL:
                −E_q[log p(x|z)] = NLL + gap − KL(q(z|x) ‖ p(z)),
                loss = −E_q[log p(x|z)] + KL = NLL + gap ≥ NLL.
              On grey-level pixels a Bernoulli decoder's −log p(x) is no likelihood
              of the data ('explain bce'); load with binarize= to compare with papers.
            """
        case .bce:
            """
            bce: the binary cross-entropy, in nats per example; lower is better
              BCE(ŷ, x) = −Σ_d [x_d log ŷ_d + (1 − x_d) log(1 − ŷ_d)], with ŷ = σ(logits)
              the decoder's pixel probabilities: PyTorch's
              F.binary_cross_entropy(recon_x, x, reduction='sum'). For a Bernoulli
              decoder it is −log p(x|z) at one z, so its average over q(z|x) is the
              reconstruction loss −recon ('explain recon'), and BCE + KLD is the loss.
              On 0/1 pixels it is a negative log-likelihood. On grey levels in (0, 1)
              (MNIST as x/255, the PyTorch example's default) it is a cross-entropy
              between two distributions per pixel: never below the entropy of x, and
              not the log of any probability of x. Its totals are then not comparable
              with published binarised-MNIST figures: load with binarize=dynamic
              (or static, threshold) for those.
            """
        case .sign:
            """
            sign: which way each term goes, and which way the optimiser pushes it
              recon ≤ 0 for a Bernoulli decoder (the log of a probability); the
              optimiser raises it.
              KL ≥ 0 always; the optimiser lowers it.
              ELBO = recon − KL ≤ log p(x): maximised.
              loss = −ELBO: minimised. One minus sign between them, used once.
              'show-sign' prints every term of your model with its sign and checks
              each relation with the model's own numbers; 'step objective=elbo' shows
              what the flipped sign does.
            """
        case .draws:
            """
            draws: why the same command prints the same number twice
              recon, elbo, loss, logpx and show-sign estimate expectations over
              z ~ q(z|x) with random draws z = μ + σ ⊙ ε. vaesh uses common random
              numbers: ε for example i and draw s is a fixed function of (session
              seed, split, i, s) and of nothing else. So every command sees the same
              z for the same examples while the model is unchanged: two runs of
              'elbo' agree to the last digit, and recon − kl = elbo = −loss holds
              exactly across separate commands. The same weights give the same
              numbers in any session (a model saved and opened again, or opened
              tomorrow with the same seed), and a model before and after 'train' or
              'step' is measured on the same ε, so the difference is the model's.
              The numbers are still Monte-Carlo estimates: their ± says how far they
              could move with other draws. 'set draws=fresh' gives every command new
              draws, so the noise shows; 'set draws=common' goes back.
            """
        }
    }
}
