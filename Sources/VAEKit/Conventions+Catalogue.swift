import RealModule

// The conventions a VAE's log may follow, each a linear combination of the objective's parts
// (`ObjectivePart`) with the batch size B, the D values per example, the Z latent dimensions and a
// β filled in. Names, formulas and meanings are written for the reader of a log: the formula in
// the symbols `whatis` defines (BCE, BCEp, SSE, KL), the meaning in one line of plain language
// naming the code that prints it. Each meaning fits one 80-column line after a 3-space indent
// (a test holds them to it).

/// One way of reporting the objective or a part of it.
public struct Convention: Sendable, Equatable {
    /// A stable identifier for scripts and JSON: `loss_batch`.
    public var id: String
    /// What it is, in a few words: "the loss summed over a batch of 128".
    public var name: String
    /// In the symbols BCE (or −log p(x|z)), BCEp, SSE and KL: "128·(BCE + KL)".
    public var formula: String
    /// One line: where such a number comes from, and what it means.
    public var meaning: String
    /// "nats per example", "bits per dimension", …
    public var unit: String
    /// True when larger is better, false when smaller is, nil when neither is the point.
    public var higherIsBetter: Bool?
    /// Coefficients of the per-example parts.
    public var weights: [ObjectivePart: Double]
    /// True when the per-example value is summed over the batch rather than averaged.
    public var summedOverBatch: Bool
}

/// What the catalogue is built for: the model's sizes and likelihood, the batch, and a β if any.
public struct ConventionSetting: Sendable, Equatable {
    public var dimension: Int
    public var latentSize: Int
    public var likelihood: Likelihood
    public var batch: Int
    /// A β to test the β-weighted loss with; nil leaves it out (any number ≥ the reconstruction
    /// loss is some β's loss, so without a β there is nothing to test).
    public var beta: Double?

    public init(dimension: Int, latentSize: Int, likelihood: Likelihood, batch: Int, beta: Double? = nil) {
        self.dimension = dimension
        self.latentSize = latentSize
        self.likelihood = likelihood
        self.batch = batch
        self.beta = beta
    }
}

extension Convention {
    /// Every identifier the catalogue can hold, in catalogue order (scripts read one variable each).
    public static let allIdentifiers: [String] = catalogue(ConventionSetting(
        dimension: 784, latentSize: 20, likelihood: .bernoulli, batch: 128, beta: 4)).map(\.id)

    /// The conventions for `setting`, in a fixed order. Those that coincide for these sizes (a
    /// batch of one, a single latent dimension, β = 1) appear once, under the first name.
    public static func catalogue(_ setting: ConventionSetting) -> [Convention] {
        let d = Double(setting.dimension), z = Double(setting.latentSize), b = setting.batch
        let bernoulli = setting.likelihood == .bernoulli
        let D = String(setting.dimension), B = String(b), Z = String(setting.latentSize)
        let rec = bernoulli ? "BCE" : "−log p(x|z)"
        let perExample = "nats per example", perBatch = "nats per batch of \(B)", perPixel = "nats per pixel"
        let mixed = "nats: \(rec) per pixel, KL per example"
        var list: [Convention] = []
        func add(_ id: String, _ name: String, _ formula: String, _ meaning: String, unit: String, higher: Bool?,
                 _ weights: [ObjectivePart: Double], summed: Bool = false) {
            list.append(Convention(id: id, name: name, formula: formula, meaning: meaning, unit: unit, higherIsBetter: higher,
                                   weights: weights, summedOverBatch: summed))
        }
        let loss: [ObjectivePart: Double] = [.reconstruction: 1, .kl: 1]
        let elbo: [ObjectivePart: Double] = [.reconstruction: -1, .kl: -1]
        let torchLoss: [ObjectivePart: Double] = [.probabilityBCE: 1, .kl: 1]

        // The objective: its sign, and its reductions over the batch and the pixels.
        add("loss", "the loss −ELBO per example", "\(rec) + KL",
            "what train minimises, averaged over a batch: the usual 'loss' of a VAE log",
            unit: perExample, higher: false, loss)
        add("elbo", "the ELBO per example", "−(\(rec) + KL)",
            "the bound itself, maximised: the TensorFlow tutorial's 'Test set ELBO'",
            unit: perExample, higher: true, elbo)
        add("loss_batch", "the loss summed over a batch of \(B)", "\(B)·(\(rec) + KL)",
            "reduction='sum' over the batch, not divided by len(data)",
            unit: perBatch, higher: false, loss, summed: true)
        add("elbo_batch", "the ELBO summed over a batch of \(B)", "−\(B)·(\(rec) + KL)",
            "the bound summed over the batch: minus the summed loss",
            unit: perBatch, higher: true, elbo, summed: true)
        add("loss_pixels", "the loss averaged over pixels as well as examples", "(\(rec) + KL)/\(D)",
            "\(bernoulli ? "reduction='mean' BCE" : "−log p(x|z) per pixel") + KL/\(D): the KL weighted as if it were one pixel",
            unit: perPixel, higher: false, loss.mapValues { $0 / d })
        add("loss_batch_pixels", "the loss averaged over pixels, summed over the batch", "\(B)·(\(rec) + KL)/\(D)",
            "a sum over the batch of per-pixel means: \(B)/\(D) of the loss",
            unit: "nats per pixel, summed over \(B)", higher: false, loss.mapValues { $0 / d }, summed: true)
        add("bits_per_dim", "the loss −ELBO in bits per dimension", "(\(rec) + KL)/(\(D)·ln 2)",
            "as papers report it: an upper bound on −log₂ p(x) per value",
            unit: "bits per dimension", higher: false, loss.mapValues { $0 / (d * Double.log(2)) })
        add("mean_rec_plus_kl", "the \(bernoulli ? "BCE" : "reconstruction") averaged over pixels, the KL not",
            "\(rec)/\(D) + KL",
            "reduction='mean' + KL per example: the KL weighted \(D) times (β = \(D))",
            unit: mixed, higher: false, [.reconstruction: 1 / d, .kl: 1])
        add("loss_kl_flipped", "the loss with the KL's sign flipped", "\(rec) − KL",
            "+0.5·Σ(1 + log σ² − μ² − σ²) added: the optimiser then raises the KL",
            unit: perExample, higher: false, [.reconstruction: 1, .kl: -1])
        add("mean_rec_minus_kl", "the mean-reduced loss with the KL's sign flipped", "\(rec)/\(D) − KL",
            "the negative 'total loss' Keras users ask about",
            unit: mixed, higher: false, [.reconstruction: 1 / d, .kl: -1])
        if bernoulli {
            add("loss_torch", "the loss per example, BCE on probabilities", "BCEp + KL",
                "pytorch/examples' printed loss: loss_function(...).item() / len(data)",
                unit: perExample, higher: false, torchLoss)
            add("loss_torch_batch", "the loss summed over a batch of \(B), BCE on probabilities", "\(B)·(BCEp + KL)",
                "what pytorch/examples' loss_function returns for a batch of \(B)",
                unit: perBatch, higher: false, torchLoss, summed: true)
            add("loss_torch_pixels", "the loss averaged over pixels, BCE on probabilities", "(BCEp + KL)/\(D)",
                "F.binary_cross_entropy(...) + KLD/(B·\(D)): the first pytorch/examples",
                unit: perPixel, higher: false, torchLoss.mapValues { $0 / d })
        }

        // The reconstruction alone.
        let recMeaning = bernoulli ? "binary cross-entropy from logits (exact)" : "the Gaussian −log p(x|z), constant included"
        add("rec", "the reconstruction loss alone, per example", rec,
            "\(recMeaning), summed over pixels",
            unit: perExample, higher: false, [.reconstruction: 1])
        add("rec_pixels", "the reconstruction loss averaged over pixels", "\(rec)/\(D)",
            bernoulli ? "F.binary_cross_entropy_with_logits(l, x), reduction='mean'" : "the Gaussian −log p(x|z) per pixel",
            unit: perPixel, higher: false, [.reconstruction: 1 / d])
        add("rec_batch", "the reconstruction loss summed over a batch of \(B)", "\(B)·\(rec)",
            "\(recMeaning), reduction='sum'",
            unit: perBatch, higher: false, [.reconstruction: 1], summed: true)
        add("recon", "the reconstruction term E_q[log p(x|z)], a log-likelihood", "−\(rec)",
            "vaesh's recon, Kingma & Welling's first term: a log-likelihood, not a loss",
            unit: perExample, higher: true, [.reconstruction: -1])
        if bernoulli {
            add("bce_torch", "BCE on probabilities, per example", "BCEp",
                "F.binary_cross_entropy(recon_x, x, reduction='sum') / len(data)",
                unit: perExample, higher: false, [.probabilityBCE: 1])
            add("bce_torch_pixels", "BCE on probabilities, averaged over pixels", "BCEp/\(D)",
                "F.binary_cross_entropy(recon_x, x): the default reduction='mean'",
                unit: perPixel, higher: false, [.probabilityBCE: 1 / d])
            add("bce_torch_batch", "BCE on probabilities, summed over a batch of \(B)", "\(B)·BCEp",
                "F.binary_cross_entropy(recon_x, x, reduction='sum')",
                unit: perBatch, higher: false, [.probabilityBCE: 1], summed: true)
        }
        add("sse", "the squared error summed over pixels, per example", "SSE",
            "F.mse_loss(recon_x, x, reduction='sum') / len(data)",
            unit: "squared error per example", higher: false, [.squaredError: 1])
        add("mse", "the mean squared error", "SSE/\(D)",
            "F.mse_loss(recon_x, x): the default reduction='mean'",
            unit: "squared error per pixel", higher: false, [.squaredError: 1 / d])
        add("sse_batch", "the squared error summed over a batch of \(B)", "\(B)·SSE",
            "F.mse_loss(recon_x, x, reduction='sum')",
            unit: "squared error per batch of \(B)", higher: false, [.squaredError: 1], summed: true)
        add("loss_sse", "squared error plus KL, per example", "SSE + KL",
            "a Gaussian decoder with σ² = ½, its constant dropped",
            unit: perExample, higher: false, [.squaredError: 1, .kl: 1])
        add("loss_mse", "mean squared error plus KL", "SSE/\(D) + KL",
            "F.mse_loss(recon_x, x) + KL: the KL weighted \(D) times",
            unit: "nats: SSE per pixel, KL per example", higher: false, [.squaredError: 1 / d, .kl: 1])

        // The KL alone.
        add("kl", "the KL alone, per example", "KL",
            "KL(q(z|x) ‖ p(z)) summed over the \(Z) latents: Keras's kl_loss",
            unit: perExample, higher: false, [.kl: 1])
        add("kl_flipped", "the KL with its sign flipped", "−KL",
            "0.5·Σ(1 + log σ² − μ² − σ²) without its minus: a KL is never negative",
            unit: perExample, higher: nil, [.kl: -1])
        add("kl_latent_mean", "the KL averaged over latent dimensions", "KL/\(Z)",
            "a mean over the \(Z) latent dimensions where a sum belongs",
            unit: "nats per latent dimension", higher: false, [.kl: 1 / z])
        add("kl_batch", "the KL summed over a batch of \(B)", "\(B)·KL",
            "pytorch/examples' KLD = −0.5·torch.sum(...) for a batch of \(B)",
            unit: perBatch, higher: false, [.kl: 1], summed: true)

        // The β-weighted loss, only for a given β.
        if let beta = setting.beta {
            let betaText = ConventionSetting.shortText(beta)
            add("beta_loss", "the β-VAE loss with β = \(betaText), per example", "\(rec) + \(betaText)·KL",
                "Higgins et al.'s objective: the KL weighted β times",
                unit: perExample, higher: false, [.reconstruction: 1, .kl: beta])
            add("beta_loss_batch", "the β-VAE loss with β = \(betaText), summed over \(B)", "\(B)·(\(rec) + \(betaText)·KL)",
                "the β-weighted loss, reduction='sum' over the batch",
                unit: perBatch, higher: false, [.reconstruction: 1, .kl: beta], summed: true)
        }

        // The same coefficients (per batch) once only.
        var seen: [[Double]] = []
        return list.filter { convention in
            let scale = convention.summedOverBatch ? Double(b) : 1
            let key = ObjectivePart.allCases.map { (convention.weights[$0] ?? 0) * scale }
            if seen.contains(key) { return false }
            seen.append(key)
            return true
        }
    }
}

extension ConventionSetting {
    /// β as written in a formula: `4`, `0.5`, `1e-05`.
    static func shortText(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
