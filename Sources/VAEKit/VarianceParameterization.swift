import RealModule

/// How the encoder's second head gives σ: what a checkpoint cannot tell from its tensors, so
/// `open` asks for it (`variance=`) rather than guess.
///
/// The engine works in log σ² throughout (the KL, the reparameterisation, their gradients);
/// each parameterisation is the exact map from the head's raw output h to log σ², applied in
/// the pass (never a conversion of the weights), with its derivative for the backward pass:
///
/// | case            | σ from h            | log σ²               | ∂ log σ² / ∂h              |
/// |-----------------|---------------------|----------------------|----------------------------|
/// | `logvar`        | exp(h/2)            | h                    | 1                          |
/// | `logstd`        | exp(h)              | 2h                   | 2                          |
/// | `std`           | h (must be > 0)     | 2 log h              | 2/h = 2/σ                  |
/// | `softplusStd`   | softplus(h)         | 2 log softplus(h)    | 2·sigmoid(h)/σ = 2(1 − e^−σ)/σ |
///
/// Every derivative is a function of σ alone (sigmoid(h) = 1 − e^−softplus(h)), so backward needs
/// nothing but the σ the forward pass kept. `std` with h ≤ 0 is no distribution (PyTorch's Normal
/// raises): log σ² is NaN there and the terms say so, rather than a clamp inventing a σ.
public enum VarianceParameterization: String, Sendable, Hashable, Codable, CaseIterable {
    /// h = log σ² (pytorch/examples, most tutorials).
    case logvar
    /// h = log σ (Pyro's tutorial: `z_scale = torch.exp(fc22(hidden))`).
    case logstd
    /// h = σ itself.
    case std
    /// σ = softplus(h) (PyTorch's softplus: β = 1, threshold 20, where it is h itself).
    case softplusStd = "softplus-std"

    /// A few words for reports: "log σ²", "log σ", "σ", "softplus⁻¹(σ)".
    public var meaning: String {
        switch self {
        case .logvar: "the head gives log σ²"
        case .logstd: "the head gives log σ"
        case .std: "the head gives σ"
        case .softplusStd: "σ = softplus(head)"
        }
    }

    /// log σ² for the head's raw output `h` (before the model's clamp).
    @inlinable
    public func logVariance<T: VAEScalar>(fromHead h: T) -> T {
        switch self {
        case .logvar: return h
        case .logstd: return 2 * h
        case .std: return h > 0 ? 2 * T.log(h) : .nan
        case .softplusStd:
            // PyTorch's softplus: h itself above the threshold 20, else the stable max(h,0) + log1p(e^−|h|).
            let sigma = h > 20 ? h : max(h, 0) + T.log(onePlus: T.exp(-abs(h)))
            return 2 * T.log(sigma)
        }
    }

    /// ∂ log σ² / ∂h at the point where the standard deviation is `sigma` (see the table).
    @inlinable
    public func dLogVarianceDHead<T: VAEScalar>(sigma: T) -> T {
        switch self {
        case .logvar: return 1
        case .logstd: return 2
        case .std: return 2 / sigma
        // sigmoid(h) = 1 − e^−softplus(h) = −expm1(−σ); above the threshold softplus is h, slope 1: 2/σ.
        case .softplusStd: return sigma > 20 ? 2 / sigma : -2 * T.expMinusOne(-sigma) / sigma
        }
    }
}
