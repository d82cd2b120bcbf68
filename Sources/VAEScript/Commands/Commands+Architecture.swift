import VAEFormats
import VAEKit

// `model encoder="…" decoder="…"`: a model as stacks of layers written in PyTorch's names, and
// the torchsummary-like drawing `info` and `model` show of any model. The MLP form of `model`
// stays in Commands+Model.swift; this file is the part that reads layers.

extension CommandTable {
    /// Whether `model` was given the stack form (encoder= or decoder= layers), refusing the MLP
    /// options beside it: `hidden=` or `activation=` with layers would be silently ignored otherwise.
    static func stackArgumentsGiven(_ context: CommandContext) throws(ScriptError) -> Bool {
        let arguments = context.arguments
        let encoder = try arguments.optionalLayers("encoder")
        let decoder = try arguments.optionalLayers("decoder")
        if arguments.isGiven("encoder"), encoder == nil {
            throw context.failure(argument: "encoder", "encoder= takes layers, e.g. encoder=\"Linear(784,400) ReLU\"",
                                  hint: "hidden= gives an MLP encoder's widths")
        }
        guard encoder != nil || decoder != nil else {
            if arguments.isGiven("head") {
                throw context.failure(argument: "head", "head= chooses the head of a model given as layers (encoder=, decoder=)",
                                      hint: "the MLP form always has two Linear heads, fc21 and fc22")
            }
            return false
        }
        guard encoder != nil else {
            throw context.failure(argument: "decoder", "decoder= layers need encoder= layers too",
                                  hint: "write both stacks, e.g. encoder=\"Linear(784,400) ReLU\" decoder=\"Linear(20,400) ReLU Linear(400,784)\"")
        }
        guard decoder != nil else {
            let hint = arguments.isGiven("decoder") ? "decoder= widths are for the MLP form (hidden=); write the decoder's layers"
                : "write the decoder's layers too, e.g. decoder=\"Linear(20,400) ReLU Linear(400,784)\""
            throw context.failure(argument: arguments.isGiven("decoder") ? "decoder" : "encoder", "encoder= layers need decoder= layers too", hint: hint)
        }
        for option in ["hidden", "activation"] where arguments.isGiven(option) {
            throw context.failure(argument: option, "\(option)= is for the MLP form; with encoder= and decoder= the layers say it all",
                                  hint: "leave out \(option)=, or leave out encoder= and decoder=")
        }
        return true
    }

    /// `model` with encoder= and decoder= layers: checked against the loaded data's shape, built,
    /// installed. Every error points at the layer's text; the current model is kept.
    static func buildStackModel(_ context: CommandContext, likelihood: Likelihood) throws(ScriptError) {
        guard let encoder = try context.arguments.optionalLayers("encoder"),
              let decoder = try context.arguments.optionalLayers("decoder") else {
            throw .internalError("'model' built a stack without both stacks", at: context.location)
        }
        let architecture = try stackArchitecture(context, encoder: encoder, decoder: decoder, likelihood: likelihood)
        let head = architecture.head, latent = architecture.latentSize
        let initialization = Initialization(rawValue: try context.arguments.string("init")) ?? .pytorch
        let seed = context.settings.seed
        var random = RandomSource(seed: seed, stream: .initialisation)
        let model = try context.engine { () throws -> VAE<Float> in
            try VAE<Float>(architecture, initialization: initialization, random: &random)
        }
        let built = try installBuilt(model, described: describe(architecture), context)
        var report = built.report
        let optimizer = built.optimizer
        if head == .split, let last = encoder.last {
            report.addText("head: the encoder's last \(2 * latent) outputs (\(last.text)) split into [μ | log σ²]")
        } else if head == .twoLinear {
            report.addText("head: two Linear layers on the encoder's output, fc21 → μ and fc22 → log σ²")
        }
        report.addText("initialised \(initializationText(initialization)), seed \(seed); optimiser \(optimizer.kind.name), lr \(Format.exact(optimizer.learningRate))")
        report.addText("'info' draws the stack with each layer's output shape")
        report.addField("architecture", .string(architecture.summary))
        report.addField("head", .string(head.rawValue))
        report.addField("encoder", .string(LayerText.canonical(architecture.encoder)))
        report.addField("decoder", .string(LayerText.canonical(architecture.decoder)))
        context.report(report)
    }

    /// The architecture that encoder=, decoder=, latent= and head= describe, for the loaded data's
    /// shape (1×28×28 without data), checked: an error points at the layer that does not fit.
    static func stackArchitecture(_ context: CommandContext, encoder: [LayerCall], decoder: [LayerCall],
                                  likelihood: Likelihood) throws(ScriptError) -> VAEArchitecture {
        let latent = try context.arguments.int("latent")
        let head: LatentHead = switch try context.arguments.string("head") {
        case "split": .split
        case "two-linear": .twoLinear
        default: automaticHead(encoder.last?.spec, latent: latent)
        }
        // The data's shape when there is data; MNIST's otherwise, the default of everything.
        let input = context.session.workbench.dataset?.shape ?? .image(channels: 1, height: 28, width: 28)
        if likelihood == .bernoulli, let last = decoder.last, last.spec == .sigmoid {
            throw .commandFailed(message: "the decoder ends with Sigmoid, but the Bernoulli likelihood takes logits",
                                 hint: "leave the Sigmoid out: p(x|z) = Bernoulli(sigmoid(logits)) applies it, as BCEWithLogits does",
                                 at: last.location)
        }
        let architecture = VAEArchitecture(input: input, encoder: encoder.map(\.spec), head: head, latentSize: latent,
                                           decoder: decoder.map(\.spec), likelihood: likelihood)
        do {
            _ = try architecture.validate()
        } catch {
            throw .engine(message: error.message, hint: error.hint, at: location(of: error.place, encoder: encoder, decoder: decoder, context))
        }
        return architecture
    }

    /// Installs a model `model` just built, with a fresh optimiser (the `optimizer` argument), and
    /// starts the report: the model in a few words and its parameter count.
    static func installBuilt(_ model: VAE<Float>, described: String,
                             _ context: CommandContext) throws(ScriptError) -> (report: Report, optimizer: Optimizer<Float>) {
        let seed = context.settings.seed
        let optimizer = optimizer(named: try context.arguments.string("optimizer"), for: model, learningRate: context.settings.lr)
        context.session.workbench.installModel(Trainer(model: model, optimizer: optimizer, seed: seed),
                                               origin: "built by 'model' (seed \(seed))", command: context.invocation.sourceText)
        context.session.refreshPrompt()
        var report = Report(command: "model")
        report.dependency = .architecture
        report.addText("model \(model.architecture.summary): \(described); \(Format.grouped(model.parameters.count)) parameters")
        report.add(Quantity.count("parameters", model.parameters.count).jsonOnly)
        return (report, optimizer)
    }

    /// The split head when the encoder ends with a Linear of 2Z outputs (the tutorials'
    /// `Dense(latent + latent)`), else two Linear layers. `model` says which it built.
    static func automaticHead(_ last: LayerSpec?, latent: Int) -> LatentHead {
        if case .linear(_, let outputs, _)? = last, outputs == 2 * latent { return .split }
        return .twoLinear
    }

    /// Where an architecture error points: the layer's text for a layer, latent= for the head.
    private static func location(of place: ArchitectureError.Place, encoder: [LayerCall], decoder: [LayerCall],
                                 _ context: CommandContext) -> SourceLocation {
        switch place {
        case .encoder(let index) where index < encoder.count: encoder[index].location
        case .decoder(let index) where index < decoder.count: decoder[index].location
        case .head: context.arguments.location(of: "latent") ?? context.arguments.location(of: "encoder") ?? context.location
        default: context.location
        }
    }

    static func initializationText(_ initialization: Initialization) -> String {
        switch initialization {
        case .pytorch: "like PyTorch's layers, U(±1/√fan_in)"
        case .keras: "like Keras's layers, glorot_uniform weights and zero biases"
        }
    }

    // MARK: - The stack, drawn

    /// The model as torchsummary draws it: every layer with its module name, output shape and
    /// parameter count, from the input to the decoder's output, then the totals.
    static func architectureTable(_ architecture: VAEArchitecture) -> (table: TextTable, totals: String)? {
        guard let summary = try? architecture.validate() else { return nil }
        var table = TextTable(alignments: [.left, .left, .right, .right])
        table.append(["module", "layer", "output", "parameters"])
        table.append(["input", "one example of the data", architecture.input.text, ""])
        for (index, layer) in summary.layers.enumerated() {
            // The name its tensors are saved under, so that `info` and `save` agree. A layer without
            // tensors is `encoder.1` in an nn.Sequential; the pytorch/examples model calls it as a
            // function (F.relu), so it has no name there.
            let module: String = switch (layer.place, architecture.naming) {
            case (.head, _): layer.name ?? "head"
            case (_, .pytorchExample): layer.name ?? ""
            default: layer.name ?? layer.place.text
            }
            table.append([module, layer.spec.description, layer.output.text, Format.grouped(layer.parameters)])
            // The split head has no layer of its own: it sits between the encoder and z.
            let next = index + 1 < summary.layers.count ? summary.layers[index + 1].place : nil
            if architecture.head == .split, case .encoder = layer.place, next.map({ if case .encoder = $0 { false } else { true } }) ?? true {
                table.append(["head", "split into μ and log σ²", "2 × \(architecture.latentSize)", "0"])
            }
        }
        if architecture.likelihood == .gaussianLearned {
            table.append(["logvar_x", "learned log σ² per value", architecture.input.text, Format.grouped(architecture.input.count)])
        }
        var totals = "\(Format.grouped(summary.parameterCount)) parameters (\(megabytes(summary.parameterCount * 4)) as float32)"
        if summary.bufferCount > 0 { totals += ", \(Format.grouped(summary.bufferCount)) buffer values (BatchNorm's running statistics)" }
        totals += "; a batch of 128 needs \(megabytes(summary.activationBytes(examples: 128))) of activations and their gradients"
        return (table, totals)
    }

    private static func megabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return value >= 10 ? "\(Format.grouped(Int(value.rounded()))) MB" : "\(Format.fixed(value, decimals: 2)) MB"
    }
}
