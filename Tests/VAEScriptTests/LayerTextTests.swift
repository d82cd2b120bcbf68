import Testing
import VAEKit
@testable import VAEScript

/// The architecture language (`LayerText`): what it reads, and the one located line for what it
/// does not. Columns count from the first character of the text.
@Suite("Layer text")
struct LayerTextTests {
    static func located(_ text: String) -> [LocatedCharacter] {
        text.enumerated().map { LocatedCharacter($0.element, at: SourceLocation(line: 1, column: $0.offset + 1)) }
    }

    static func parse(_ text: String) throws(ScriptError) -> [LayerCall] {
        try LayerText.parse(located(text), end: SourceLocation(line: 1, column: 1))
    }

    @Test("PyTorch's calls, nn.Sequential's commas and bare names read as the same layers")
    func separatorsAndSpellings() throws {
        let expected: [LayerSpec] = [.Conv2d(1, 32, 3, stride: 2), .relu, .flatten, .Linear(2304, 4)]
        for text in ["Conv2d(1,32,3,stride=2) ReLU Flatten Linear(2304,4)",
                     "nn.Conv2d(1, 32, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(2304, 4),",
                     "torch.nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3, stride=2)\n ReLU(inplace=True)\tFlatten(1, -1) Linear(2304, 4, True)",
                     "Conv2d(1,32,(3,3),stride=[2,2]) ReLU Flatten() Linear(2304,4,bias=True)"] {
            #expect(try Self.parse(text).map(\.spec) == expected, "\(text)")
        }
        let calls = try Self.parse("Conv2d(1,32,3,stride=2)  ReLU")
        #expect(calls.map(\.text) == ["Conv2d(1,32,3,stride=2)", "ReLU"])
        #expect(calls.map(\.location.column) == [1, 26])
    }

    @Test("the canonical text of every kind of layer reads back as the same layer")
    func canonicalTextRoundTrips() throws {
        let specs: [LayerSpec] = [
            .Conv2d(3, 8, SpatialPair(3, 5), stride: 1, padding: .same, dilation: 1, bias: false),
            .ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1), .Unflatten(32, 7, 7),
            .batchNorm2d(BatchNormSpec(8, eps: 1e-3, momentum: 0.2, affine: false)), .batchNorm1d(BatchNormSpec(16)),
            .LeakyReLU(negativeSlope: 0.2), .ELU(alpha: 0.5), .Softplus(beta: 2, threshold: 10), .gelu, .tanh, .sigmoid,
            .Linear(10, 3, bias: false), .flatten, .relu,
        ]
        #expect(try Self.parse(LayerText.canonical(specs)).map(\.spec) == specs)
    }

    @Test("each refusal is one line at the character it is about", arguments: [
        ("Linaer(2,3)", "unknown layer 'Linaer'; did you mean 'Linear'?", 1),
        ("ReLU relu", "unknown layer 'relu'; did you mean 'ReLU'?", 6),
        ("Flatten Dense(4)", "unknown layer 'Dense': that is Keras's name", 9),
        ("Conv2d(1,2)", "Conv2d() missing required argument 'kernel_size'", 1),
        ("Linear(2,3,True,4)", "Linear() takes 3 positional arguments but 4 were given", 17),
        ("Linear(2,'x')", "Linear() argument 'out_features' must be an integer, not 'x'", 10),
        ("Conv2d(1,2,3,strides=2)", "Conv2d() got an unexpected keyword argument 'strides'; did you mean 'stride'?", 14),
        ("Conv2d(1,2,3,groups=2)", "Conv2d(groups=2) is not supported: grouped convolutions are not built", 14),
        ("Linear(2,3", "'(' after Linear is never closed", 7),
        ("Linear(2 3)", "expected ',' or ')' in the arguments of Linear, found '3'", 10),
        ("Linear(2,3) )", "expected a layer name such as Linear or Conv2d, found ')'", 13),
        ("Linear(2,None)", "None is not supported here", 10),
        ("Linear(2,1e999)", "expected a value, found '1e999'", 10),
        ("Conv2d(1,2,(3,4)", "'(' after Conv2d is never closed", 7),
        ("Conv2d(1,2,3,padding='same)", "the string is never closed", 22),
        ("nn.", "expected a layer name after 'nn.', found the end of the text", 4),
        ("   ", "no layers: write them as PyTorch names them, e.g. \"Linear(784,400) ReLU\"", 1),
        // FuzzArchitecture's stack overflow: a value of 3,600 '(' recursed once per level.
        ("Conv2d(1,2," + String(repeating: "(", count: 100_000), "a value nested too deeply: at most 100 levels", 112),
    ])
    func refusals(_ text: String, _ message: String, _ column: Int) {
        do throws(ScriptError) {
            let calls = try Self.parse(text)
            Issue.record("accepted \(text) as \(calls.map(\.text))")
        } catch {
            #expect(Self.withoutHint(error) == .commandFailed(message: message, hint: nil, at: SourceLocation(line: 1, column: column)))
        }
    }

    /// The hints (signatures, the list of layers) are checked by the golden scripts; here, the line.
    static func withoutHint(_ error: ScriptError) -> ScriptError {
        if case .commandFailed(let message, _, let at) = error { return .commandFailed(message: message, hint: nil, at: at) }
        return error
    }
}
