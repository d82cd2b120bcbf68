/// Tensors mapped onto a model the person described (`model …`, then `open FILE into=model`): by
/// order and shape, as `load_state_dict` maps them by name. And, for a convolutional file that
/// cannot be recognised, the `model` line with what its weights do tell.
extension Checkpoint {
    /// `tensors` renamed to `architecture`'s tensor names: by name when the file uses them all,
    /// else the i-th tensor of the file (in running order, `StateDictModules`) onto the model's
    /// i-th, every shape checked. When that order does not fit, the file's top-level groups
    /// (`encoder`, `decoder`, `fc_mu`, …) are tried in every order; exactly one must fit.
    static func mapByOrder(_ tensors: [NamedTensor], onto architecture: VAEArchitecture, file: String) throws(CheckpointError)
        -> (tensors: [NamedTensor], notes: [String]) {
        let layout: ModelLayout
        do { layout = try ModelLayout(architecture, summary: try architecture.validate()) } catch {
            throw .incompatible(file: file, detail: error.message, hint: error.hint)
        }
        var shapes: [String: [Int]] = [:]
        for slot in layout.parameters.slots + layout.buffers.slots { shapes[slot.name] = slot.shape }
        let fileNames = Set(tensors.map(\.name))
        if layout.stateOrder.allSatisfy(fileNames.contains) || layout.stateOrder.allSatisfy({ fileNames.contains($0) || $0.hasSuffix(".num_batches_tracked") }) {
            return (tensors, [])
        }
        // The batch counters are optional on either side (PyTorch before 0.4.1 kept none); they follow their running_var.
        let counted = { (name: String) in !name.hasSuffix(".num_batches_tracked") }
        let targets = layout.stateOrder.filter(counted)
        let state = StateDictModules(tensors)
        let groups: [[NamedTensor]] = {
            var groups: [[NamedTensor]] = []
            var last: String?
            for module in state.modules {
                let items = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].compactMap { module.tensors[$0] }
                    + module.tensors.filter { !["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].contains($0.key) }
                        .sorted { $0.key < $1.key }.map(\.value)
                if module.container == last { groups[groups.count - 1] += items } else { groups.append(items) }
                last = module.container
            }
            return groups + state.loose.map { [$0] }
        }()
        func pairing(_ order: [Int]) -> [NamedTensor]? {
            let sources = order.flatMap { groups[$0] }
            let pairable = sources.filter { counted($0.name) }
            guard pairable.count == targets.count else { return nil }
            var result: [NamedTensor] = []
            var module: [String: String] = [:]   // file module → model module, for the counters
            for (source, target) in zip(pairable, targets) {
                guard source.shape == shapes[target] else { return nil }
                var copy = source
                copy.name = target
                result.append(copy)
                module[String(source.name.dropLast(source.name.split(separator: ".").last?.count ?? 0))] =
                    String(target.dropLast(target.split(separator: ".").last?.count ?? 0))
            }
            for source in sources where !counted(source.name) {
                let owner = String(source.name.dropLast("num_batches_tracked".count))
                guard let target = module[owner], shapes[target + "num_batches_tracked"] != nil else { return nil }
                var copy = source
                copy.name = target + "num_batches_tracked"
                result.append(copy)
            }
            return result
        }
        let direct = Array(groups.indices)
        if let mapped = pairing(direct) {
            return (mapped, ["the file's \(targets.count) tensors were mapped onto the model's by order and shape"])
        }
        var fits: [[NamedTensor]] = []
        if groups.count <= 7 {
            for order in permutations(direct) where order != direct {
                if let mapped = pairing(order) { fits.append(mapped) }
                if fits.count > 1 { break }
            }
        }
        if fits.count == 1, let mapped = fits.first {
            return (mapped, ["the file's \(targets.count) tensors were mapped onto the model's by shape, its groups reordered"])
        }
        let modelListing = targets.map { "\(CheckpointError.quoted($0)) \(CheckpointError.shape(shapes[$0] ?? []))" }
        let detail = fits.isEmpty
            ? "its tensors do not fit the model described (\(architecture.summary)) in order and shape"
            : "its tensors fit the model described (\(architecture.summary)) in more than one order"
        throw .incompatible(file: file, detail: detail, hint: [
            "the file: " + StateDictModules.listing(tensors.filter { counted($0.name) }),
            "the model: " + modelListing.prefix(40).joined(separator: ", "),
            "change the 'model …' line until the two lists agree, then 'open \(file) into=model' again",
        ].joined(separator: "\n  "))
    }

    /// The `model` line a convolutional file needs, with what its weights tell (channels, kernel
    /// sizes, widths) and `?` where only the Python class knows (strides, paddings, the
    /// activation): printed by the refusal, for the person to complete.
    static func convolutionResolution(modules: [StateDictModules.Module], head: (mean: StateDictModules.Module, variance: StateDictModules.Module)?,
                                      file: String) -> String {
        // The decoder: what comes after the heads, or (no heads by name) a container named like one.
        let headIndex = head.flatMap { head in modules.firstIndex { $0.name == head.mean.name || $0.name == head.variance.name } }
        let decoderWords = ["dec", "gen", "up"]
        func isDecoder(_ index: Int) -> Bool {
            if let headIndex { return index > headIndex }
            return decoderWords.contains { modules[index].container.lowercased().contains($0) }
        }
        let heads = Set([head?.mean.name, head?.variance.name].compactMap { $0 })
        let layers = modules.indices.filter { !heads.contains(modules[$0].name) }
        func text(_ modules: [StateDictModules.Module], decoder: Bool) -> String {
            var words: [String] = []
            var previousWasConvolution = false
            for module in modules {
                switch module.kind {
                case .convolution(let weight, let bias):
                    if decoder && !previousWasConvolution && !words.isEmpty { words.append("Unflatten(1, (\(weight[0]), ?, ?))") }
                    let kernel = weight[2] == weight[3] ? "\(weight[2])" : "(\(weight[2]), \(weight[3]))"
                    let tail = bias ? "" : ", bias=False"
                    words.append(decoder
                        ? "ConvTranspose2d(\(weight[0]), \(weight[1]), \(kernel), stride=?, padding=?, output_padding=?\(tail))"
                        : "Conv2d(\(weight[1]), \(weight[0]), \(kernel), stride=?, padding=?\(tail))")
                    previousWasConvolution = true
                case .linear(let input, let output, let bias):
                    if !decoder && previousWasConvolution { words.append("Flatten()") }
                    words.append("Linear(\(input), \(output)\(bias ? "" : ", bias=False"))")
                    previousWasConvolution = false
                case .batchNorm(let features, let affine):
                    words.append("BatchNorm\(previousWasConvolution ? "2d" : "1d")(\(features)\(affine ? "" : ", affine=False"))")
                default: continue
                }
                let isLast = module.name == modules.last?.name
                let nextIsBatchNorm = modules.firstIndex { $0.name == module.name }.map { $0 + 1 < modules.count && modules[$0 + 1].kind.text == "BatchNorm" } ?? false
                if !(decoder && isLast) && !nextIsBatchNorm { words.append("ReLU()?") }
            }
            // Heads after convolutions read them flattened.
            if !decoder && previousWasConvolution && head != nil { words.append("Flatten()") }
            return words.joined(separator: " ")
        }
        let encoder = layers.filter { !isDecoder($0) }.map { modules[$0] }, decoder = layers.filter(isDecoder).map { modules[$0] }
        let latent = head.map { linearShape($0.mean).output }.map(String.init) ?? "?"
        return "complete every ? from your Python class, then run: model encoder=\"\(text(encoder, decoder: false))\" latent=\(latent) decoder=\"\(text(decoder, decoder: true))\"; open \(file) into=model"
    }
}

/// Every ordering of `items` (Heap's algorithm); only for a handful.
func permutations(_ items: [Int]) -> [[Int]] {
    var result: [[Int]] = []
    var items = items
    func generate(_ k: Int) {
        if k <= 1 { result.append(items); return }
        generate(k - 1)
        for i in 0..<k - 1 {
            items.swapAt(k % 2 == 0 ? i : 0, k - 1)
            generate(k - 1)
        }
    }
    generate(items.count)
    return result
}
