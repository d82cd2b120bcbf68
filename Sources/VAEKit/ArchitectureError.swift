/// Why an architecture cannot be built: which stack and layer, and what is wrong with the shapes
/// going in and out, e.g. "encoder.6 Linear(2304, 4) receives 1600 values: the convolutions above
/// leave 64×5×5".
///
/// Raised before anything is allocated. `place` lets the language point at the layer's text
/// (file:line:col); `problem` is the sentence without the place, `message` the whole line.
public struct ArchitectureError: EngineError, Equatable {
    /// Where in the model the problem is.
    public enum Place: Sendable, Hashable {
        /// Layer `index` (0-based) of the encoder's list.
        case encoder(Int)
        /// The latent head (fc21/fc22), or the latent size.
        case head
        /// Layer `index` (0-based) of the decoder's list.
        case decoder(Int)
        /// The model as a whole (its size, its likelihood, its names).
        case model

        /// "encoder.6", "decoder.0", "the latent head", "the model".
        public var text: String {
            switch self {
            case .encoder(let index): "encoder.\(index)"
            case .decoder(let index): "decoder.\(index)"
            case .head: "the latent head"
            case .model: "the model"
            }
        }
    }

    /// What sort of problem, for callers that react differently (tests, error tables).
    public enum Kind: Sendable, Hashable {
        /// Shapes that do not chain: sizes, channels, a kernel larger than its input, a stack's ends.
        case shape
        /// An argument out of its range: zero or negative sizes or strides, an eps ≤ 0, …
        case argument
        /// More parameters or activation memory than the engine agrees to allocate.
        case tooLarge
        /// Tensor names the chosen naming cannot give (the pytorch/examples names are for Linear layers).
        case naming
    }

    public var place: Place
    /// The layer's canonical text (`LayerSpec.description`), when the problem is one layer's.
    public var layer: String?
    /// What is wrong, as a predicate of the layer: "receives 1600 values: the convolutions above leave 64×5×5".
    public var problem: String
    public var hint: String?
    public var kind: Kind

    public init(place: Place, layer: String?, problem: String, hint: String? = nil, kind: Kind) {
        self.place = place
        self.layer = layer
        self.problem = problem
        self.hint = hint
        self.kind = kind
    }

    /// "encoder.6 Linear(2304, 4) receives 1600 values: …", or "the model would have …": the
    /// place and layer are the subject of `problem`, which is written as a predicate.
    public var message: String {
        switch (place, layer) {
        case (.encoder, let layer?), (.decoder, let layer?): "\(place.text) \(layer) \(problem)"
        default: "\(place.text) \(problem)"
        }
    }
}
