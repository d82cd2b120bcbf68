/// What a checkpoint's tensors cannot tell, as the person opening it says it: `open`'s
/// `activation=`, `variance=`, `likelihood=`/`sigma=`, and the loaded data's shape. Anything left
/// nil is assumed, and every assumption is said (`CheckpointInfo.assumptions`).
public struct CheckpointHints: Sendable, Equatable {
    /// The nonlinearity after every hidden layer (a PyTorch activation layer, e.g. `.relu`).
    public var activation: LayerSpec?
    /// How the encoder's second head gives σ.
    public var variance: VarianceParameterization?
    /// p(x|z); a learned variance (`logvar_x`) is seen in the tensors.
    public var likelihood: Likelihood?
    /// The shape of one example of the loaded data: a model whose input has as many values reads
    /// it in this shape (a convolution needs C×H×W).
    public var input: ExampleShape?

    public init(activation: LayerSpec? = nil, variance: VarianceParameterization? = nil, likelihood: Likelihood? = nil,
                input: ExampleShape? = nil) {
        self.activation = activation
        self.variance = variance
        self.likelihood = likelihood
        self.input = input
    }

    /// True when the person said something the tensors cannot (the data's shape does not count).
    var describesTheModel: Bool { activation != nil || variance != nil || likelihood != nil }

    /// The activation layers `activation=` names, by the option's words.
    public static let activations: [(word: String, layer: LayerSpec)] = [
        ("relu", .relu), ("tanh", .tanh), ("softplus", .Softplus()), ("sigmoid", .sigmoid), ("elu", .ELU()),
        ("leaky-relu", .LeakyReLU()), ("gelu", .gelu),
    ]

    /// The option's word for an activation layer ("relu"), or its PyTorch text when it has none.
    static func word(for layer: LayerSpec) -> String {
        activations.first { $0.layer == layer }?.word ?? layer.description
    }
}
