import VAEFormats
import VAEKit

/// `open`: a model from a checkpoint, with what its tensors cannot tell given as options (its spec
/// sits with the other model commands, in `Commands+Model.swift`).
extension CommandTable {
    static let openArguments: [ArgumentSpec] = [
        .positional("file", .path, required: true, abstract: "a PyTorch checkpoint or safetensors file, saved by vaesh or by PyTorch"),
        .option("activation", .choice(CheckpointHints.activations.map(\.word)),
                abstract: "the nonlinearity after each hidden layer (default: assumed relu, and said)"),
        .option("variance", .choice(VarianceParameterization.allCases.map(\.rawValue)),
                abstract: "how the second head gives σ: log σ², log σ, σ, or σ = softplus(head) (default: assumed logvar, and said)"),
        .option("likelihood", .choice(["bernoulli", "gaussian", "gaussian-learned"]),
                abstract: "p(x|z) (default: assumed bernoulli, and said; gaussian-learned when the file holds logvar_x)"),
        .option("sigma", .double, range: .greaterThan(0), abstract: "σ of likelihood=gaussian"),
        .option("into", .choice(["model"]), abstract: "map the tensors onto the current model (from 'model …') by order and shape"),
    ]

    static let openDiscussion = """
        Reads a model saved by 'save', or one saved in PyTorch with \
        torch.save(model.state_dict(), path) or safetensors.torch.save_file. The kind of file \
        is told from its first bytes, not its name. A PyTorch checkpoint is read the way \
        torch.load(path, weights_only=True) reads it, never running code from it; the state \
        dict may sit in a checkpoint dict ('state_dict', 'model_state_dict', 'model', 'net', \
        …, as Lightning and most training scripts save it) and its names may carry the \
        'module.' prefix of DataParallel, which are taken off and printed. A file without \
        vaesh metadata is recognised by its structure, not its names: a prefix all names share \
        is taken off, nn.Sequential indices are ordered as numbers, the heads are found by their \
        usual names (fc21/fc22, fc_mu/fc_var/fc_logvar, mu/logvar/log_var, z_mean/z_log_var) or \
        as one 2Z-wide head split in half, and the Linear layers are put in the one order whose \
        shapes chain from the input down to the heads and from Z back up; BatchNorm layers keep \
        their running statistics. What the tensors cannot tell is given with activation=, \
        variance=, likelihood= and sigma=; whatever is not given is assumed, printed with the \
        option that changes it, and listed under --json. A file whose structure is ambiguous, \
        has tensors left over, or holds convolutions (whose strides and paddings weights cannot \
        tell) is refused with its tensors, what was understood, and the line that resolves it: \
        describe the model with 'model …', then 'open FILE into=model' maps the tensors onto it \
        by order and shape, as load_state_dict maps them by name. Every tensor is checked for \
        presence and shape. The optimiser starts fresh. When data is loaded, the model must fit \
        it (the same pixels per example). A failed open leaves the current model in place.
        """

    static func openModel(_ context: CommandContext) throws(ScriptError) {
        let session = context.session
        let path = try context.arguments.path("file")
        let hints = try openHints(context)
        let described = try context.arguments.optionalString("into") == nil ? nil : try context.requireTrainer().model.architecture
        let (model, info, source) = try context.engine { () throws -> (model: VAE<Float>, info: CheckpointInfo, source: CheckpointSource) in
            try Checkpoint.read(path: path, as: Float.self, architecture: described, hints: hints)
        }
        // A model that cannot read the loaded data would leave every later command failing:
        // refuse it, and keep the current model, as for any failed open. A model for images reads
        // them as C×H×W: 2×8 is not 4×4, though the counts agree.
        if let dataset = session.workbench.dataset, model.architecture.input.isImage, model.architecture.input != dataset.shape {
            throw context.failure(
                argument: "file",
                "\(path) holds a model for examples of \(model.architecture.input.text), but the loaded data's are \(dataset.shape.text)",
                hint: "load data of the model's shape first, or open a checkpoint made for this data")
        }
        if let dataset = session.workbench.dataset, dataset.dimension != model.inputSize {
            throw context.failure(
                argument: "file",
                "\(path) holds a \(info.architecture.summary) model for \(model.inputSize) pixels per example, but the loaded data has \(dataset.dimension)",
                hint: "load data of the model's size first (MNIST has 784 pixels), or open a checkpoint made for this data")
        }
        let optimizer = Optimizer<Float>(.adamDefaults, learningRate: context.settings.lr, parameterCount: model.parameters.count)
        let trainer = Trainer(model: model, optimizer: optimizer, seed: info.seed ?? context.settings.seed)
        let format = source.format == .pytorch ? "PyTorch checkpoint" : "safetensors"
        let layout = info.origin == "vaesh" ? "saved by vaesh" : described == nil ? "no vaesh metadata, recognised by structure" : "mapped onto the model described"
        session.workbench.installModel(trainer, origin: "opened \(path) (\(format), \(layout))",
                                       assumptions: info.assumptions, command: context.invocation.sourceText)
        session.refreshPrompt()
        var report = Report(command: "open")
        report.dependency = .architecture
        report.addText("opened \(path): \(info.architecture.summary), \(describe(info.architecture)); \(Format.grouped(model.parameters.count)) parameters")
        report.add(Quantity.count("parameters", model.parameters.count).jsonOnly)
        if let epochs = info.epochs { report.addText("trained for \(Format.count(epochs, "epoch")) (\(Format.count(info.steps ?? 0, "step"))) when saved") }
        for step in source.unwrapping { report.addText("PyTorch checkpoint: \(step)") }
        for note in source.notes { report.addText("note: \(note)") }
        for line in info.understood { report.addText("understood: \(line)") }
        for assumption in info.assumptions { report.addText("assumed: \(assumption)") }
        if !model.parametersAreFinite { report.addText("warning: some parameters are NaN or infinite") }
        report.addField("file", .string(path))
        report.addField("format", .string(source.format.rawValue))
        report.addField("unwrapped", .array(source.unwrapping.map { .string($0.description) }))
        report.addField("notes", .array(source.notes.map { .string($0) }))
        report.addField("understood", .array(info.understood.map { .string($0) }))
        report.addField("assumptions", .array(info.assumptions.map { .string($0) }))
        report.addField("architecture", .string(info.architecture.summary))
        report.addField("variance", .string(info.architecture.variance.rawValue))
        report.addField("likelihood", .string(info.architecture.likelihood.summary))
        context.report(report)
    }

    /// What the person said about the file: `activation=`, `variance=`, `likelihood=`/`sigma=`,
    /// and the loaded data's image shape.
    private static func openHints(_ context: CommandContext) throws(ScriptError) -> CheckpointHints {
        var hints = CheckpointHints()
        if let word = try context.arguments.optionalString("activation") {
            hints.activation = CheckpointHints.activations.first { $0.word == word }?.layer
        }
        if let word = try context.arguments.optionalString("variance") { hints.variance = VarianceParameterization(rawValue: word) }
        let sigma = try context.arguments.optionalDouble("sigma")
        switch try context.arguments.optionalString("likelihood") {
        case "gaussian":
            guard let sigma else {
                throw context.failure(argument: "likelihood", "likelihood=gaussian needs its σ", hint: "give sigma=…, e.g. sigma=0.1, or likelihood=gaussian-learned for a learned one")
            }
            hints.likelihood = .gaussian(sigma: sigma)
        case "gaussian-learned": hints.likelihood = .gaussianLearned
        case "bernoulli": hints.likelihood = .bernoulli
        default: break
        }
        if sigma != nil, hints.likelihood.map({ if case .gaussian = $0 { false } else { true } }) ?? true {
            throw context.failure(argument: "sigma", "sigma= is the σ of likelihood=gaussian", hint: "add likelihood=gaussian, or leave sigma= out")
        }
        if let dataset = context.session.workbench.dataset { hints.input = dataset.shape }
        return hints
    }
}
