/// How a fresh model's weights and biases are drawn.
public enum Initialization: String, Sendable, Codable, CaseIterable {
    /// PyTorch's defaults for Linear, Conv2d and ConvTranspose2d: weight and bias U(±1/√fan_in)
    /// (kaiming_uniform with a = √5, and its bias rule). fan_in is in·kh·kw for a Conv2d and, as
    /// PyTorch computes it from the weight's second dimension, out·kh·kw for a ConvTranspose2d.
    case pytorch
    /// Keras's defaults (the TensorFlow and Keras tutorials): weight glorot_uniform,
    /// U(±√(6/(fan_in + fan_out))), and zero biases.
    case keras

    /// Fills a layer's weight and, when it has one, its bias, drawing weight before bias (the
    /// order PyTorch initialises them in).
    func fill<T>(_ parameters: ParameterStore<T>, weightOffset: Int, weightCount: Int, biasOffset: Int?, biasCount: Int,
                 fanIn: Int, fanOut: Int, random: inout RandomSource) {
        let weight = UnsafeMutableBufferPointer(start: parameters.values.pointer + weightOffset, count: weightCount)
        let bias = biasOffset.map { UnsafeMutableBufferPointer(start: parameters.values.pointer + $0, count: biasCount) }
        switch self {
        case .pytorch:
            let bound = 1 / Double(fanIn).squareRoot()
            random.fillUniform(weight, low: -bound, high: bound)
            if let bias { random.fillUniform(bias, low: -bound, high: bound) }
        case .keras:
            let bound = (6 / Double(fanIn + fanOut)).squareRoot()
            random.fillUniform(weight, low: -bound, high: bound)
            bias?.update(repeating: 0)
        }
    }
}
