/// A state dict read as modules: the tensors under one module name (`encoder.0`, `fc_mu`), what
/// kind of layer they can be, in the order PyTorch's modules run. What `Checkpoint` recognises a
/// model from, and maps onto a described model.
///
/// The order: the file's own order (a module's `state_dict` follows the order its layers were
/// registered), except that `nn.Sequential` indices are compared as numbers (`decoder.10` after
/// `decoder.2`, which a file sorted by name, as safetensors writes them, puts first).
struct StateDictModules {
    /// One module's tensors, keyed by their last name component (`weight`, `running_mean`).
    struct Module {
        /// The name's components after the common prefix, without the tensor's own name.
        var path: [String]
        var tensors: [String: NamedTensor]
        var kind: Kind

        var name: String { path.joined(separator: ".") }
        /// The module's own last component, lowercased: what head names are compared with.
        var leaf: String { (path.last ?? "").lowercased() }
        /// The top-level component: modules under one container form a unit of layers.
        var container: String { path.count >= 2 ? path[0] : name }

        /// "fc1 [400, 784]": the name and the weight's shape, for messages.
        var described: String {
            let shape = tensors["weight"].map { CheckpointError.shape($0.shape) } ?? tensors["running_mean"].map { CheckpointError.shape($0.shape) } ?? ""
            return "\(name) \(kind.text)\(shape.isEmpty ? "" : " \(shape)")"
        }
    }

    /// What a module's tensors say it can be.
    enum Kind: Equatable {
        /// weight (out, in), bias (out) or none.
        case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
        /// A 4-D weight: Conv2d (out, in, kh, kw) or ConvTranspose2d (in, out, kh, kw), which only
        /// its place in the model tells apart; bias (the output channels) or none.
        case convolution(weight: [Int], bias: Bool)
        /// running_mean and running_var (C), weight and bias (C) unless affine=False;
        /// num_batches_tracked optional.
        case batchNorm(features: Int, affine: Bool)
        /// Anything else: refused, listed.
        case unknown

        var text: String {
            switch self {
            case .linear: "Linear"
            case .convolution: "convolution"
            case .batchNorm: "BatchNorm"
            case .unknown: "(not a layer vaesh knows)"
            }
        }
    }

    /// Modules in running order.
    private(set) var modules: [Module] = []
    /// Top-level tensors (no module), e.g. `logvar_x`.
    private(set) var loose: [NamedTensor] = []
    /// The prefix every name shared, taken off ("vae."), or "".
    let prefix: String

    init(_ tensors: [NamedTensor]) {
        let split = tensors.map { $0.name.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        // The longest run of leading components every name shares, leaving each at least a module and a tensor name.
        var shared = 0
        if let first = split.first, split.allSatisfy({ $0.count >= 3 }) {
            while shared < first.count - 2,
                  split.allSatisfy({ $0.count - shared >= 3 && $0[shared] == first[shared] }) { shared += 1 }
        }
        prefix = split.first.map { $0.prefix(shared).map { $0 + "." }.joined() } ?? ""
        var order: [String: Int] = [:]       // every name prefix → where it first appears
        var byPath: [[String]: [String: NamedTensor]] = [:]
        var paths: [[String]] = []
        for (tensor, components) in zip(tensors, split) {
            let rest = Array(components.dropFirst(shared))
            guard rest.count >= 2 else {
                var stripped = tensor
                stripped.name = rest.joined(separator: ".")
                loose.append(stripped)
                continue
            }
            let path = Array(rest.dropLast())
            for length in 1...path.count where order[path.prefix(length).joined(separator: ".")] == nil {
                order[path.prefix(length).joined(separator: ".")] = order.count
            }
            if byPath[path] == nil { paths.append(path) }
            byPath[path, default: [:]][rest[rest.count - 1]] = tensor
        }
        paths.sort { a, b in
            for i in 0..<min(a.count, b.count) where a[i] != b[i] {
                if let x = Int(a[i]), let y = Int(b[i]) { return x < y }
                return order[a.prefix(i + 1).joined(separator: "."), default: 0] < order[b.prefix(i + 1).joined(separator: "."), default: 0]
            }
            return a.count < b.count
        }
        modules = paths.map { path in
            let tensors = byPath[path] ?? [:]
            return Module(path: path, tensors: tensors, kind: Self.kind(of: tensors))
        }
    }

    /// The layer `tensors` can be, from their names and shapes alone.
    static func kind(of tensors: [String: NamedTensor]) -> Kind {
        let names = Set(tensors.keys)
        let weight = tensors["weight"]?.shape, bias = tensors["bias"]?.shape
        if names.contains("running_mean") || names.contains("running_var") {
            guard let mean = tensors["running_mean"]?.shape, mean.count == 1, tensors["running_var"]?.shape == mean,
                  names.isSubset(of: ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]),
                  (weight == nil) == (bias == nil), weight == nil || (weight == mean && bias == mean),
                  tensors["num_batches_tracked"].map({ $0.values.count == 1 }) ?? true else { return .unknown }
            return .batchNorm(features: mean[0], affine: weight != nil)
        }
        guard let weight, names.isSubset(of: ["weight", "bias"]) else { return .unknown }
        if weight.count == 2, bias == nil || bias == [weight[0]] {
            return .linear(inFeatures: weight[1], outFeatures: weight[0], bias: bias != nil)
        }
        if weight.count == 4, bias == nil || bias?.count == 1 { return .convolution(weight: weight, bias: bias != nil) }
        return .unknown
    }

    /// Every tensor with its shape, one per line, for a refusal ("fc1.weight [400, 784]").
    static func listing(_ tensors: [NamedTensor], limit: Int = 40) -> String {
        let lines = tensors.prefix(limit).map { "\(CheckpointError.quoted($0.name)) \(CheckpointError.shape($0.shape))" }
        return lines.joined(separator: ", ") + (tensors.count > limit ? " and \(tensors.count - limit) more" : "")
    }
}
