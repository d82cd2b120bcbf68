/// A VAE recognised by its structure, not its names: the state dict read as modules, the latent
/// heads found by their usual names (or one 2Z-wide head), and the Linear layers put in the one
/// order whose shapes chain from the input down to the heads and from Z back up to the input.
/// What cannot be known is asked for (`CheckpointHints`) or assumed and said; what is ambiguous
/// or left over is refused, listing the tensors, what was understood, and the line that resolves it.
extension Checkpoint {
    /// The usual names of the μ head.
    static let meanHeadNames: Set<String> = ["fc21", "fc_mu", "mu", "z_mean", "fc_mean", "z_mu", "mean"]
    /// The usual names of the second head, with the parameterisation the name itself says (nil:
    /// the name does not say; "std"-like names say σ but not how, so they need `variance=`).
    static let varianceHeadNames: [String: VarianceParameterization?] = [
        "fc22": nil, "fc_var": nil, "var": nil,
        "fc_logvar": .logvar, "logvar": .logvar, "log_var": .logvar, "fc_log_var": .logvar, "z_log_var": .logvar, "z_logvar": .logvar,
        "fc_logstd": .logstd, "logstd": .logstd, "log_std": .logstd, "z_log_std": .logstd, "log_sigma": .logstd, "fc_log_sigma": .logstd,
        "fc_std": nil, "std": nil, "sigma": nil, "fc_sigma": nil, "z_std": nil, "z_scale": nil, "scale": nil,
    ]
    static let sigmaNames: Set<String> = ["fc_std", "std", "sigma", "fc_sigma", "z_std", "z_scale", "scale"]

    /// What recognition found: the architecture, the file's tensors renamed to its slots, and
    /// what it understood and assumed, for the report.
    struct Recognition {
        var architecture: VAEArchitecture
        var tensors: [NamedTensor]
        var understood: [String]
        var assumptions: [String]
    }

    /// The model `tensors` (without vaesh metadata) describe, recognised by structure.
    static func recogniseStructure(_ tensors: [NamedTensor], hints: CheckpointHints, file: String) throws(CheckpointError) -> Recognition {
        let state = StateDictModules(tensors)
        var understood: [String] = []
        if !state.prefix.isEmpty { understood.append("every name starts with '\(state.prefix)', taken off") }
        func refuse(_ problem: String, resolve: String? = nil) -> CheckpointError {
            var lines = ["the file holds \(state.modules.count) modules: " + state.modules.map(\.described).joined(separator: "; ")]
            if !state.loose.isEmpty { lines.append("and the tensors " + StateDictModules.listing(state.loose)) }
            if !understood.isEmpty { lines.append("understood: " + understood.joined(separator: "; ")) }
            lines.append(resolve ?? "describe the model with 'model …' (the layers of your Python class, in order), then 'open \(file) into=model' maps the tensors onto it by order and shape")
            return .incompatible(file: file, detail: "cannot recognise the VAE in the file: \(problem)", hint: lines.joined(separator: "\n  "))
        }
        if let unknown = state.modules.first(where: { $0.kind == .unknown }) {
            throw refuse("\(StateDictModules.listing(unknown.tensors.values.sorted { $0.name < $1.name })) are not a Linear, convolution or BatchNorm layer")
        }
        // The learned Gaussian variance, and nothing else, may sit outside a module.
        var learnedVariance = false
        for tensor in state.loose {
            guard tensor.name == "logvar_x", tensor.shape.count == 1 else {
                throw refuse("the tensor \(CheckpointError.quoted(tensor.name)) \(CheckpointError.shape(tensor.shape)) belongs to no layer (only 'logvar_x', a learned Gaussian variance, may)")
            }
            learnedVariance = true
        }

        // The heads, by name; else the encoder's last Linear gives 2Z.
        var means = state.modules.filter { meanHeadNames.contains($0.leaf) }
        var variances = state.modules.filter { varianceHeadNames[$0.leaf] != nil }
        // The heads are two Linear layers of one shape side by side (Pyro's decoder also calls its output layer fc21).
        let pairs = means.flatMap { mean in
            variances.filter { $0.kind == mean.kind && $0.path.dropLast() == mean.path.dropLast() }.map { (mean, $0) }
        }
        if pairs.count == 1, let pair = pairs.first { (means, variances) = ([pair.0], [pair.1]) }
        if means.count > 1 || variances.count > 1 {
            throw refuse("more than one module is named like a latent head (\((means + variances).map(\.name).joined(separator: ", ")))")
        }
        var head: (mean: StateDictModules.Module, variance: StateDictModules.Module)?
        if let mean = means.first, let variance = variances.first {
            guard case .linear(let input, let latent, _) = mean.kind, variance.kind == mean.kind else {
                let both = [mean, variance].map { StateDictModules.listing($0.tensors.values.sorted { $0.name < $1.name }) }
                throw refuse("the heads are not two Linear layers of the same shape: \(both[0]) but \(both[1])")
            }
            head = (mean, variance)
            understood.append("'\(mean.name)' gives μ and '\(variance.name)' the variance: Z = \(latent) from \(input) features")
        } else if let lone = (means + variances).first {
            throw refuse("'\(lone.name)' is named like a latent head, but its partner (\(means.isEmpty ? "fc21, fc_mu, mu, z_mean" : "fc22, fc_var, fc_logvar, logvar, log_var, z_log_var")) is missing")
        }
        let headNames = Set([head?.mean.name, head?.variance.name].compactMap { $0 })
        let layers = state.modules.filter { !headNames.contains($0.name) }
        if let convolution = layers.first(where: { if case .convolution = $0.kind { true } else { false } }) {
            throw refuse("'\(convolution.name)' is a convolution \(CheckpointError.shape(convolution.tensors["weight"]?.shape ?? [])), whose stride, padding and output padding its weights cannot tell",
                         resolve: convolutionResolution(modules: state.modules, head: head, file: file))
        }

        // Units: the layers of one container stay together and in order; the search orders the units.
        var units: [[StateDictModules.Module]] = []
        for module in layers {
            let sameContainer = units.last?.last.map { $0.container == module.container && module.path.count >= 2 } ?? false
            // A top-level BatchNorm (`self.bn1`) belongs to the Linear layer before it.
            var followsItsLinear = false
            if case .batchNorm(let features, _) = module.kind, let last = units.last { followsItsLinear = Self.widths(last).output == features }
            if sameContainer || followsItsLinear {
                units[units.count - 1].append(module)
            } else {
                units.append([module])
            }
        }
        var chains: [(encoder: [Int], decoder: [Int])] = []
        for unit in units {
            if let problem = Self.chainProblem(unit) { throw refuse(problem) }
        }
        var search = MLPChainSearch(units: units.map { Self.widths($0) }, head: head.map { Self.linearShape($0.mean) })
        chains = search.solutions()
        if search.exhausted { throw refuse("too many ways to order \(units.count) groups of layers to try them all") }
        let inOrder = chains.filter { $0.encoder == $0.encoder.sorted() && $0.decoder == $0.decoder.sorted() }
        let candidates = inOrder.isEmpty ? chains : inOrder
        guard let chain = candidates.first else {
            throw refuse(head == nil
                ? "no latent heads by the usual names (fc21/fc22, fc_mu/fc_var, mu/logvar, z_mean/z_log_var), and no order of the Linear layers chains from the input to a 2Z-wide head and from Z back to the input"
                : "no order of the Linear layers chains from the input down to the heads and from Z back up to the input")
        }
        if candidates.count > 1 {
            let other = candidates[1]
            func names(_ indices: [Int]) -> String { indices.flatMap { units[$0].map(\.name) }.joined(separator: " → ") }
            throw refuse("the shapes chain in more than one way: the encoder could be \(names(chain.encoder)) (decoder \(names(chain.decoder))) or \(names(other.encoder)) (decoder \(names(other.decoder)))")
        }
        let encoderModules = chain.encoder.flatMap { units[$0] }, decoderModules = chain.decoder.flatMap { units[$0] }
        let activation = hints.activation ?? .relu
        var assumptions: [String] = []
        if hints.activation == nil {
            assumptions.append("activation=relu: the file cannot say which nonlinearity follows each hidden layer; open it with activation=tanh, softplus, … to change it")
        }
        func stack(_ modules: [StateDictModules.Module], endsWithOutput: Bool) -> [LayerSpec] {
            var specs: [LayerSpec] = []
            for (index, module) in modules.enumerated() {
                switch module.kind {
                case .linear(let input, let output, let bias): specs.append(.Linear(input, output, bias: bias))
                case .batchNorm(let features, let affine): specs.append(.BatchNorm1d(features, affine: affine))
                default: break
                }
                let nextIsBatchNorm = index + 1 < modules.count && { if case .batchNorm = modules[index + 1].kind { true } else { false } }()
                let isLast = index == modules.count - 1
                if !nextIsBatchNorm && !(isLast && endsWithOutput) { specs.append(activation) }
            }
            return specs
        }
        let inputCount = Self.widths(units[chain.encoder[0]]).input
        let input = hints.input.flatMap { $0.count == inputCount ? $0 : nil } ?? .vector(inputCount)
        var likelihood = hints.likelihood ?? .bernoulli
        if learnedVariance {
            if let given = hints.likelihood, given != .gaussianLearned {
                throw refuse("the file holds 'logvar_x', a learned Gaussian variance, but likelihood=\(given.summary) was given")
            }
            likelihood = .gaussianLearned
        } else if hints.likelihood == nil {
            assumptions.append("likelihood=bernoulli: the file cannot say what p(x|z) is; open it with likelihood=gaussian sigma=… to change it")
        }
        var variance = hints.variance ?? .logvar
        if hints.variance == nil {
            if let head, let named = varianceHeadNames[head.variance.leaf] ?? nil {
                variance = named
                understood.append("the head's name '\(head.variance.name)' says \(named.meaning)")
            } else if let head, sigmaNames.contains(head.variance.leaf) {
                throw refuse("the head '\(head.variance.name)' gives σ, but whether as σ itself, softplus(head) or exp(head) the file cannot tell",
                             resolve: "open \(file) variance=std, variance=softplus-std or variance=logstd, as your Python class computes σ")
            } else {
                assumptions.append("variance=logvar: the file cannot say how the second head gives σ; open it with variance=logstd, std or softplus-std to change it")
            }
        }
        if encoderModules.contains(where: { if case .batchNorm = $0.kind { true } else { false } }) || decoderModules.contains(where: { if case .batchNorm = $0.kind { true } else { false } }) {
            assumptions.append("each BatchNorm1d comes between its Linear layer and the activation (Linear → BatchNorm → activation), with its running statistics")
        }
        let architecture = VAEArchitecture(
            input: input, encoder: stack(encoderModules, endsWithOutput: head == nil),
            head: head == nil ? .split : .twoLinear, latentSize: head.map { Self.linearShape($0.mean).output } ?? Self.widths(units[chain.decoder[0]]).input,
            decoder: stack(decoderModules, endsWithOutput: true), likelihood: likelihood, variance: variance)
        let ordered = encoderModules + [head?.mean, head?.variance].compactMap { $0 } + decoderModules
        understood.append("encoder " + encoderModules.map(\.name).joined(separator: ", ") + ", decoder " + decoderModules.map(\.name).joined(separator: ", "))
        let named = try rename(ordered, loose: state.loose, for: architecture, file: file)
        if named.renamed { understood.append("the tensors take vaesh's names (\(named.architecture.naming == .sequential ? "encoder.i, fc21, fc22, decoder.i" : "fc1, fc21, fc22, fc3, fc4")), which 'save' writes") }
        return Recognition(architecture: named.architecture, tensors: named.tensors, understood: understood, assumptions: assumptions)
    }

    /// The file's modules, in the architecture's layer order, under the architecture's tensor
    /// names: the pytorch/examples names or `nn.Sequential` ones when the file used them (so
    /// nothing is renamed), else vaesh's `encoder.i`/`fc21`/`fc22`/`decoder.i`.
    private static func rename(_ modules: [StateDictModules.Module], loose: [NamedTensor], for architecture: VAEArchitecture,
                               file: String) throws(CheckpointError) -> (architecture: VAEArchitecture, tensors: [NamedTensor], renamed: Bool) {
        let fileNames = modules.map(\.name)
        var candidates: [ParameterNaming] = [.pytorchExample]
        let containers = modules.map { $0.path.count == 2 ? $0.path[0] : "" }
        if architecture.head == .twoLinear, modules.count >= 2 {
            let mean = modules[modules.count - 1 - architecture.decoder.filter { $0.hasParameters || $0.isBatchNorm }.count - 1]
            let variance = modules[modules.count - 1 - architecture.decoder.filter { $0.hasParameters || $0.isBatchNorm }.count]
            candidates.append(.sequential(SequentialNames(encoder: containers.first ?? "encoder", mean: mean.name, logVariance: variance.name,
                                                          decoder: containers.last ?? "decoder")))
        } else {
            candidates.append(.sequential(SequentialNames(encoder: containers.first ?? "encoder", decoder: containers.last ?? "decoder")))
        }
        func names(_ naming: ParameterNaming) -> [String]? {
            var candidate = architecture
            candidate.naming = naming
            return (try? candidate.validate())?.layers.compactMap(\.name)
        }
        var chosen = architecture
        if let naming = candidates.first(where: { names($0) == fileNames }) { chosen.naming = naming }
        guard let target = names(chosen.naming), target.count == modules.count else {
            do { _ = try chosen.validate() } catch { throw .incompatible(file: file, detail: error.message, hint: error.hint) }
            throw .incompatible(file: file, detail: "\(modules.count) layers with tensors recognised, but the model built from them has a different count", hint: nil)
        }
        var renamed: [NamedTensor] = []
        for (module, name) in zip(modules, target) {
            for (suffix, tensor) in module.tensors.sorted(by: { $0.key < $1.key }) {
                var copy = tensor
                copy.name = "\(name).\(suffix)"
                renamed.append(copy)
            }
        }
        return (chosen, renamed + loose, target != fileNames)
    }

    /// Why a unit's layers do not chain (a BatchNorm of the wrong width, a Linear that does not read
    /// the previous one's output), or nil.
    private static func chainProblem(_ unit: [StateDictModules.Module]) -> String? {
        var width: Int?
        for module in unit {
            switch module.kind {
            case .linear(let input, let output, _):
                if let width, width != input { return "'\(module.name)' reads \(input) features, but the layer before it gives \(width)" }
                width = output
            case .batchNorm(let features, _):
                guard let current = width, current == features else {
                    return "the BatchNorm '\(module.name)' normalises \(features) features, \(width.map { "but the layer before it gives \($0)" } ?? "with no Linear layer before it")"
                }
            default: return "'\(module.name)' is not a Linear or BatchNorm layer"
            }
        }
        return nil
    }

    /// A unit's first input and last output width (units are checked to chain first).
    static func widths(_ unit: [StateDictModules.Module]) -> (input: Int, output: Int) {
        let linears = unit.compactMap { module -> (Int, Int)? in
            if case .linear(let input, let output, _) = module.kind { return (input, output) }
            return nil
        }
        return (linears.first?.0 ?? 0, linears.last?.1 ?? 0)
    }

    static func linearShape(_ module: StateDictModules.Module) -> (input: Int, output: Int) {
        if case .linear(let input, let output, _) = module.kind { return (input, output) }
        return (0, 0)
    }
}

/// Every way to order units of Linear layers into an encoder (from D to the heads' input H, or to
/// 2Z for a split head) and a decoder (from Z back to D), each unit used once.
struct MLPChainSearch {
    let units: [(input: Int, output: Int)]
    /// The two-Linear head's (H, Z), or nil for a split head.
    let head: (input: Int, output: Int)?
    /// Orderings tried before giving up (a file with many interchangeable layers).
    static let budget = 200_000
    private(set) var exhausted = false

    init(units: [(input: Int, output: Int)], head: (input: Int, output: Int)?) {
        self.units = units
        self.head = head
    }

    /// Up to 16 solutions, as unit indices in order.
    mutating func solutions() -> [(encoder: [Int], decoder: [Int])] {
        var found: [(encoder: [Int], decoder: [Int])] = []
        var steps = 0
        var used = [Bool](repeating: false, count: units.count)
        func decoder(_ chain: [Int], width: Int, encoder: [Int], input: Int) {
            steps += 1
            if steps > Self.budget || found.count >= 16 { return }
            if !chain.isEmpty && width == input && !used.contains(false) { found.append((encoder, chain)) }
            for i in units.indices where !used[i] && units[i].input == width {
                used[i] = true
                decoder(chain + [i], width: units[i].output, encoder: encoder, input: input)
                used[i] = false
            }
        }
        func encoder(_ chain: [Int], width: Int) {
            steps += 1
            if steps > Self.budget || found.count >= 16 { return }
            if let first = chain.first {
                let input = units[first].input
                if let head, width == head.input {
                    decoder([], width: head.output, encoder: chain, input: input)
                } else if head == nil, width % 2 == 0 {
                    decoder([], width: width / 2, encoder: chain, input: input)
                }
            }
            for i in units.indices where !used[i] && (chain.isEmpty || units[i].input == width) {
                used[i] = true
                encoder(chain + [i], width: units[i].output)
                used[i] = false
            }
        }
        encoder([], width: 0)
        exhausted = steps > Self.budget
        return found
    }
}
