/// The terms `explain` knows, with their text.
enum ExplainedTerm: String, CaseIterable {
    case recon, kl, elbo, loss, logpx, gap, reduction
    case bitsPerDim = "bits-per-dim"

    static let overview = """
    The terms of the VAE objective, per example x, in nats (natural-log units):
      recon  E_q(z|x)[log p(x|z)]                higher is better; ≤ 0 for a Bernoulli decoder
      kl     KL(q(z|x) ‖ p(z))                   ≥ 0; the penalty for codes that stray from the prior
      elbo   recon − kl                           maximised; ≤ log p(x)
      loss   −elbo = NLL + kl                     minimised: what 'train' and 'step' descend
      logpx  log p(x), by importance sampling     ≥ elbo
      gap    logpx − elbo = KL(q(z|x) ‖ p(z|x))   ≥ 0
    How logs report them ('whatis NUMBER' names the convention of a logged number):
      reduction     per example, summed over the batch, or averaged over pixels too
      bits-per-dim  nats per example / (D · ln 2), as papers report it
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
            gap: log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), in nats per example; ≥ 0, smaller means a better encoder
              From log p(x) = ELBO(x) + KL(q(z|x) ‖ p(z|x)): the gap is how far the encoder's q(z|x) is
              from the true posterior p(z|x). It is not the KL of the loss, which is to the prior p(z).
              Estimated as log p̂(x) − ELBO on the same examples; with finite K it comes out too small.
              Maximising ELBO = log p(x) − gap raises log p(x), lowers the gap, or both.
            """
        }
    }
}
