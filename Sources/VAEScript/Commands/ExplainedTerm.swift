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
