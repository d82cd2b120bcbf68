/// The model as a picture maker: decode latent points, draw from the prior, reconstruct data.
///
/// These passes use fresh buffers of their own (not the training workspaces), run in evaluation
/// mode (BatchNorm on its running statistics), run no backward pass and draw no ε except in
/// `sample`. Shapes: N rows, Z = latent, D = input.
extension VAE {
    /// The first `rows` rows of `input` through `stack` in evaluation mode, in fresh buffers, on
    /// the calling thread (as these passes always ran: their pictures do not change with threads).
    func evaluationPass(_ stack: LayerStack, input: Matrix<T>, rows: Int) -> StackActivations<T> {
        let activations = StackActivations<T>(stack, capacity: rows, gradients: false)
        let scratch = ScratchSpace<T>(count: stack.scratchCount)
        withExtendedLifetime(scratch) {
            stack.forward(input, rows: 0..<rows, activations: activations, parameters: parameters, buffers: buffers,
                          mode: .evaluation, scratch: scratch.pointers(for: 1).first)
        }
        return activations
    }

    /// The decoder's output in pixel space for each row of `z` (N, Z): σ(logits) for a Bernoulli
    /// decoder, the mean for a Gaussian one. Returns (N, D).
    ///
    /// This is the mean of p(x|z), not a draw from it: a Bernoulli draw would be salt-and-pepper
    /// noise, which is why VAE samples are shown this way.
    public func decodeMean(_ z: Matrix<T>, rows: Int? = nil) -> Matrix<T> {
        let count = rows ?? z.rows
        precondition(z.columns == latentSize && count <= z.rows, "decodeMean: z is \(z.rows)×\(z.columns), model latent \(latentSize)")
        let result = Matrix<T>(rows: count, columns: inputSize)
        guard count > 0 else { return result }
        let activations = evaluationPass(decoder, input: z, rows: count)
        withExtendedLifetime(activations) { result.pointer.update(from: activations.output.pointer, count: count * inputSize) }
        architecture.likelihood.mean(result.pointer, count: count * inputSize)
        return result
    }

    /// The encoder's q(z|x) = N(μ, diag σ²) for the first `rows` rows of `x` (…, D): μ (rows, Z)
    /// and log σ² (rows, Z), the latter clamped to `logVarianceRange` as in training.
    public func encodeMean(_ x: Matrix<T>, rows: Int) -> (mean: Matrix<T>, logVariance: Matrix<T>) {
        precondition(x.columns == inputSize && rows <= x.rows, "encodeMean: x is \(x.rows)×\(x.columns), model input \(inputSize)")
        let latent = latentSize
        let mean = Matrix<T>(rows: rows, columns: latent), logVariance = Matrix<T>(rows: rows, columns: latent)
        guard rows > 0 else { return (mean, logVariance) }
        let activations = evaluationPass(encoder, input: x, rows: rows)
        withExtendedLifetime(activations) {
            let head = activations.output.pointer  // (rows, 2Z) = [μ | log σ²]
            for n in 0..<rows {
                for j in 0..<latent {
                    mean.pointer[n * latent + j] = head[n * 2 * latent + j]
                    logVariance.pointer[n * latent + j] = clampedLogVariance(fromHead: head[n * 2 * latent + latent + j])
                }
            }
        }
        return (mean, logVariance)
    }

    /// `count` draws z ~ p(z) = N(0, I), decoded to pixel space: (count, D).
    public func sample(count: Int, random: inout RandomSource) -> Matrix<T> {
        precondition(count >= 0, "sample: negative count")
        let z = Matrix<T>(rows: count, columns: latentSize)
        random.fillNormal(z.buffer)
        return decodeMean(z)
    }

    /// The first `rows` rows of `x` (…, D) through the encoder's mean and back through the
    /// decoder's mean, with no sampling noise: (rows, D).
    public func reconstruct(_ x: Matrix<T>, rows: Int) -> Matrix<T> {
        decodeMean(encodeMean(x, rows: rows).mean)
    }
}
