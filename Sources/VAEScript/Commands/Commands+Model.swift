import VAEFormats
import VAEKit

/// `model`, `save`, `open`, `info`: the model and its checkpoints.
extension CommandTable {
    static let modelCommands: [CommandSpec] = [
        CommandSpec(
            "model", topic: .model,
            arguments: [
                .option("hidden", .list(.int), default: .intList([400]), range: .between(1, 100_000), abstract: "encoder hidden widths, first to last"),
                .option("latent", .int, default: 20, range: .between(1, 10_000), abstract: "latent dimensions Z"),
                .option("decoder", .layers, range: .between(1, 100_000), abstract: "decoder hidden widths (default: the encoder's, mirrored), or its layers in PyTorch's names"),
                .option("encoder", .layers, abstract: "the encoder's layers in PyTorch's names, e.g. \"Conv2d(1,32,3,stride=2,padding=1) ReLU Flatten Linear(6272,4)\""),
                .option("head", .choice(["auto", "split", "two-linear"]), default: "auto",
                        abstract: "with encoder=: split the encoder's last 2Z outputs into [μ | log σ²], or add two Linear(H, Z) (fc21, fc22); auto: split when the encoder ends with Linear(…, 2Z)"),
                .option("init", .choice(Initialization.allCases.map(\.rawValue)), default: "pytorch",
                        abstract: "pytorch: U(±1/√fan_in) weights and biases; keras: glorot_uniform weights, zero biases"),
                .option("activation", .choice(Activation.allCases.map(\.rawValue)), default: "relu", abstract: "nonlinearity between hidden layers"),
                .option("likelihood", .choice(["bernoulli", "gaussian", "gaussian-learned"]), default: "bernoulli",
                        abstract: "p(x|z): Bernoulli on logits, Gaussian with fixed sigma, or Gaussian with a learned per-pixel variance"),
                .option("sigma", .double, default: 0.1, range: .greaterThan(0), abstract: "σ of the fixed Gaussian likelihood"),
                .option("optimizer", .choice(["adam", "sgd"]), default: "adam", abstract: "the optimiser train and step use"),
            ],
            abstract: "build a fresh model; the defaults are the PyTorch example's 784-400-20",
            discussion: """
            Builds a VAE sized to the loaded data (784 inputs when nothing is loaded), initialised \
            like PyTorch's nn.Linear from the session seed, with a fresh optimiser (Adam, PyTorch's \
            defaults). The defaults reproduce the pytorch/examples VAE: one hidden layer of 400, \
            20 latent dimensions, ReLU and a Bernoulli likelihood on logits. Replaces the current \
            model.

            With encoder= and decoder= it builds any stack of layers, written as an nn.Sequential \
            lists them: PyTorch's class names and argument order, e.g. Conv2d(1,32,3,stride=2) or \
            ConvTranspose2d(64,32,3,stride=2,padding=1,output_padding=1). Layers are separated by \
            blanks (or commas, as in nn.Sequential), 'nn.' may precede a name, and ReLU is ReLU(). \
            The layers are Linear, Conv2d, ConvTranspose2d, Flatten, Unflatten (Unflatten(C,H,W) for \
            Unflatten(1,(C,H,W))), BatchNorm1d, BatchNorm2d, ReLU, LeakyReLU, ELU, Tanh, Softplus, \
            Sigmoid and GELU. The encoder reads each example as the loaded data's C×H×W (1×28×28 \
            when nothing is loaded); the decoder reads z and must end with the data's shape, as \
            logits for a Bernoulli likelihood (no final Sigmoid). Shapes are checked before anything \
            is built, and an error points at the layer that does not fit, with the shapes in and out; \
            the current model is kept. 'info' draws the stack; save and open keep it.
            """,
            examples: ["model", "model hidden=512,256 latent=10 activation=softplus", "model likelihood=gaussian sigma=0.1",
                       "model latent=2 encoder=\"Conv2d(1,32,3,stride=2) ReLU Conv2d(32,64,3,stride=2) ReLU Flatten Linear(2304,4)\" decoder=\"Linear(2,1568) ReLU Unflatten(32,7,7) ConvTranspose2d(32,64,3,stride=2,padding=1,output_padding=1) ReLU ConvTranspose2d(64,32,3,stride=2,padding=1,output_padding=1) ReLU ConvTranspose2d(32,1,3,padding=1)\""],
            handler: buildModel
        ),

        CommandSpec(
            "save", topic: .model,
            arguments: [.positional("file", .path, required: true, abstract: "where to write: FILE.pt or FILE.pth for PyTorch, any other name for safetensors")],
            abstract: "write the model to a PyTorch (.pt, .pth) or safetensors file",
            discussion: """
            Writes every parameter as float32 under the names `info` lists: the pytorch/examples \
            names (fc1, fc21, fc22, fc3, fc4) for the MLP, nn.Sequential's (encoder.0.weight, \
            decoder.3.bias, …) for a model written as layers; with the architecture, likelihood, seed and training progress in the \
            file's metadata, so that vaesh reopens it exactly. A name ending in .pt or .pth gets \
            a PyTorch zip checkpoint, which torch.load(path, weights_only=True) reads as an \
            OrderedDict and model.load_state_dict takes strictly (the metadata is a zip entry \
            PyTorch skips); any other name gets safetensors, which PyTorch reads with \
            safetensors.torch.load_file. The write is atomic: a temporary file is renamed over \
            the target, so an interrupted or failed save leaves any earlier file untouched.
            """,
            examples: ["save vae.pt", "save vae.safetensors", "save runs/epoch10.pth"],
            handler: saveModel
        ),

        CommandSpec(
            "open", topic: .model, arguments: openArguments,
            abstract: "read a model from a PyTorch checkpoint (.pt, .pth) or a safetensors file",
            discussion: openDiscussion,
            examples: ["open vae.pt", "open pyro_vae.pt activation=softplus variance=logstd", "open checkpoint.pth",
                       "open conv_vae.pt into=model"],
            handler: openModel
        ),

        CommandSpec(
            "info", topic: .model,
            abstract: "data, model, optimiser and settings at a glance",
            discussion: """
            Shows the loaded data (which set, split sizes, preprocessing), the model (architecture, \
            likelihood, parameter count, where it came from, epochs trained), the optimiser and \
            the main settings. When the pixels are grey levels and the likelihood is Bernoulli it \
            says that the numbers are then no normalised likelihood, and how to binarise.
            """,
            examples: ["info"],
            handler: showInfo
        ),
    ]

    // MARK: - Handlers

    private static func buildModel(_ context: CommandContext) throws(ScriptError) {
        let session = context.session
        let likelihood: Likelihood = switch try context.arguments.string("likelihood") {
        case "gaussian": .gaussian(sigma: try context.arguments.double("sigma"))
        case "gaussian-learned": .gaussianLearned
        default: .bernoulli
        }
        if try stackArgumentsGiven(context) { return try buildStackModel(context, likelihood: likelihood) }
        let configuration = VAEConfiguration(
            inputSize: session.workbench.dataset?.dimension ?? 784,
            encoderHidden: try context.arguments.intList("hidden"),
            latentSize: try context.arguments.int("latent"),
            decoderHidden: try context.arguments.optionalIntList("decoder"),
            activation: Activation(rawValue: try context.arguments.string("activation")) ?? .relu,
            likelihood: likelihood)
        let seed = context.settings.seed
        var random = RandomSource(seed: seed, stream: .initialisation)
        let initialization = Initialization(rawValue: try context.arguments.string("init")) ?? .pytorch
        let model = try context.engine { () throws -> VAE<Float> in
            guard initialization != .pytorch else { return try VAE<Float>(configuration, random: &random) }
            try configuration.validate()
            return try VAE<Float>(configuration.architecture, initialization: initialization, random: &random)
        }
        let built = try installBuilt(model, described: describe(configuration), context)
        var report = built.report
        let optimizer = built.optimizer
        report.addText("initialised \(initializationText(initialization)), seed \(seed); optimiser \(optimizer.kind.name), lr \(Format.exact(optimizer.learningRate))")
        report.addField("architecture", .string(configuration.summary))
        context.report(report)
    }

    private static func saveModel(_ context: CommandContext) throws(ScriptError) {
        let trainer = try context.requireTrainer()
        let path = try context.arguments.path("file")
        try context.engine { () throws in
            try Checkpoint.save(trainer.model, to: path, seed: context.settings.seed,
                                epochs: trainer.epochsCompleted, steps: trainer.optimizer.step)
        }
        let format: TensorFileFormat = Checkpoint.isPyTorchPath(path) ? .pytorch : .safetensors
        var report = Report(command: "save")
        report.addText("saved \(trainer.model.architecture.summary) (\(Format.grouped(trainer.model.parameters.count)) parameters, \(Format.count(trainer.epochsCompleted, "epoch"))) to \(path) (\(format == .pytorch ? "PyTorch checkpoint" : "safetensors"))")
        report.addField("file", .string(path))
        report.addField("format", .string(format.rawValue))
        context.report(report)
    }

    private static func showInfo(_ context: CommandContext) throws(ScriptError) {
        let workbench = context.session.workbench
        var report = Report(command: "info")
        var table = TextTable(alignments: [.left, .left])
        if let dataset = workbench.dataset {
            table.append(["data", "\(dataset.name): \(dataset.origin)"])
            table.append(["", dataset.splits.map { "\($0.name) \(Format.grouped($0.count))" }.joined(separator: ", ")
                          + "; \(dataset.shapeText); \(dataset.binarization)"])
            report.addField("dataset", .string(dataset.name))
            for split in dataset.splits { report.addField(split.name, .int(split.count)) }
        } else {
            table.append(["data", "none: run 'load mnist'"])
        }
        if let trainer = workbench.trainer {
            let architecture = trainer.model.architecture
            table.append(["model", "\(architecture.summary): \(describe(architecture))"])
            table.append(["", "\(Format.grouped(trainer.model.parameters.count)) parameters; \(workbench.modelOrigin)"])
            for assumption in workbench.modelAssumptions { table.append(["", "assumed \(assumption)"]) }
            table.append(["training", "\(Format.count(trainer.epochsCompleted, "epoch")), \(Format.count(trainer.optimizer.step, "step")) in this session"])
            table.append(["optimiser", "\(trainer.optimizer.kind.name), lr \(Format.exact(trainer.optimizer.learningRate))"])
            if workbench.undoPoint != nil, let last = workbench.current { table.append(["undo", "returns to before '\(last.command)'"]) }
            report.addField("architecture", .string(architecture.summary))
            report.addField("parameters", .int(trainer.model.parameters.count))
            report.addField("epoch", .int(trainer.epochsCompleted))
        } else {
            table.append(["model", "none: run 'model' or 'open FILE'"])
        }
        let settings = context.settings
        table.append(["settings", "seed \(settings.seed), samples \(settings.samples), k \(settings.k), batch \(settings.batch), lr \(Format.exact(settings.lr))"])
        table.append(["BLAS", "OpenBLAS, \(BLASThreads.count) threads"])
        report.addTable(table)
        if let trainer = workbench.trainer, let stack = architectureTable(trainer.model.architecture) {
            report.addText("the model's layers, as torchsummary lists them (shapes are one example's, C×H×W):")
            report.addTable(stack.table)
            report.addText(stack.totals)
            report.addField("encoder", .string(LayerText.canonical(trainer.model.architecture.encoder)))
            report.addField("decoder", .string(LayerText.canonical(trainer.model.architecture.decoder)))
            report.addField("head", .string(trainer.model.architecture.head.rawValue))
        }
        // The default model is Bernoulli too, so say it before one is built.
        if let dataset = workbench.dataset, let note = greyLevelNote(workbench.model?.architecture.likelihood ?? .bernoulli, dataset) {
            report.addText(note)
        }
        context.report(report)
    }
}
