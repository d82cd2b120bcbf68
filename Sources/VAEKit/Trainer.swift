/// How to train: the recipe of the pytorch/examples VAE by default (batch 128, one draw, the
/// loss summed over the batch, β = 1, no warm-up).
public struct TrainingSettings: Sendable, Equatable {
    public var epochs: Int = 1
    public var batchSize: Int = 128
    /// S: draws of z per example in each step.
    public var samples: Int = 1
    /// β of the β-VAE loss −E_q[log p(x|z)] + β·KL.
    public var beta: Double = 1
    /// Linear KL warm-up: the KL weight rises from 0 to β over this many steps of this run (0: off).
    public var warmupSteps: Int = 0
    /// What the optimiser descends: the loss, or (by mistake) the ELBO.
    public var objective: TrainingObjective = .loss
    public var reduction: Reduction = .sum
    public var shuffle: Bool = true

    public init() {}

    /// The KL weight at step `step` (0-based) of a run: β·min(1, (step + 1)/warmupSteps).
    public func klWeight(atStep step: Int) -> Double {
        warmupSteps <= 0 ? beta : beta * min(1, Double(step + 1) / Double(warmupSteps))
    }

    /// The objective's weights at a step of a run.
    public func weights(atStep step: Int) -> ObjectiveWeights {
        switch objective {
        case .loss: .loss(beta: klWeight(atStep: step))
        case .elbo: ObjectiveWeights(reconstruction: -1, kl: -klWeight(atStep: step))
        }
    }
}

/// Which way the optimiser is pointed.
public enum TrainingObjective: String, Sendable, Codable, CaseIterable {
    /// Minimise loss = −ELBO: correct.
    case loss
    /// Minimise the ELBO: the flipped sign. Reconstruction falls and the KL grows.
    case elbo
}

/// What the trainer reports to its caller.
public enum TrainingEvent: Sendable {
    case batchEnd(BatchReport)
    case epochEnd(EpochReport)
}

/// After each batch.
public struct BatchReport: Sendable {
    /// 1-based epoch of the model's whole training history.
    public var epoch: Int
    /// 1-based batch within the epoch, and the epoch's batch count.
    public var batch: Int
    public var batchesPerEpoch: Int
    /// This batch's terms, before the update.
    public var terms: BatchTerms
    /// Average of every batch so far this epoch (weighted by examples).
    public var epochAverage: BatchTerms
    /// The KL weight used for this step.
    public var klWeight: Double
    /// Seconds since this epoch started.
    public var seconds: Double
}

/// After each epoch.
public struct EpochReport: Sendable {
    public var epoch: Int
    /// The average of each term over the epoch's batches, as the parameters moved (as PyTorch's
    /// example reports its training loss).
    public var train: BatchTerms
    /// Every term on the test data at the end of the epoch (one draw per example), if given.
    public var test: ELBOTerms?
    /// Seconds of training (without the test evaluation).
    public var seconds: Double
    public var examples: Int
}

/// What the caller tells the trainer after an event.
public enum TrainingControl: Sendable {
    case proceed
    case stop
}

/// How a call to `train` ended.
public enum TrainingOutcome: Sendable, Equatable {
    /// Every epoch ran.
    case completed
    /// The callback said stop; the model and optimiser are as after the last whole step.
    case stopped(epoch: Int, batch: Int)
    /// A term became NaN or ±∞. The step that caused it was rolled back (when there was one), so
    /// the model holds the parameters of the last good step.
    case diverged(epoch: Int, batch: Int, restored: Bool)
}

/// Trains a model with an optimiser; keeps the epoch count, the step count and the random stream
/// between calls, so a stopped run can continue where it stopped.
public final class Trainer<T: VAEScalar>: @unchecked Sendable {
    public let model: VAE<T>
    public let optimizer: Optimizer<T>
    /// Draws ε and shuffles; advanced by every step.
    public var random: RandomSource
    /// Epochs completed over the model's history.
    public private(set) var epochsCompleted = 0
    /// Per-epoch reports of every call so far (for curves).
    public private(set) var history: [EpochReport] = []
    /// The seed of the test evaluations after each epoch (copies keep it).
    private var evaluationSeed: UInt64

    /// A trainer whose shuffles and ε come from the training stream of `seed`, and whose test
    /// evaluations after each epoch from its evaluation stream (`RandomStreamKind`): independent
    /// of the stream the weights were initialised from.
    public init(model: VAE<T>, optimizer: Optimizer<T>, seed: UInt64) {
        self.model = model
        self.optimizer = optimizer
        random = RandomSource(seed: seed, stream: .training)
        evaluationSeed = RandomSource.derivedSeed(seed, .evaluation)
    }

    /// An independent copy: model, optimiser, random stream and history.
    public func copy() -> Trainer<T> {
        let result = Trainer(model: model.copy(), optimizer: optimizer.copy(), seed: 0)
        result.random = random
        result.evaluationSeed = evaluationSeed
        result.epochsCompleted = epochsCompleted
        result.history = history
        return result
    }

    /// The same model, random stream and history with another optimiser (whose state starts fresh).
    public func replacingOptimizer(_ replacement: Optimizer<T>) -> Trainer<T> {
        let result = Trainer(model: model, optimizer: replacement, seed: 0)
        result.random = random
        result.evaluationSeed = evaluationSeed
        result.epochsCompleted = epochsCompleted
        result.history = history
        return result
    }

    /// Runs `settings.epochs` epochs over `train`, reporting to `events` after every batch and
    /// epoch. The callback may stop the run; it then ends at that batch boundary.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func train(_ train: any ExampleSource, test: (any ExampleSource)? = nil, settings: TrainingSettings,
                      events: (TrainingEvent) -> TrainingControl) -> TrainingOutcome {
        precondition(settings.batchSize >= 1 && settings.samples >= 1 && settings.epochs >= 0, "train: invalid settings")
        precondition(train.dimension == model.inputSize, "train: data and model sizes differ")
        let examples = train.exampleCount
        guard examples > 0 else { return .completed }
        let batchSize = min(settings.batchSize, examples)
        let batchesPerEpoch = (examples + batchSize - 1) / batchSize
        let batch = Matrix<T>(rows: batchSize, columns: model.inputSize)
        var stepOfRun = 0
        // BatchNorm's running statistics as they were before the step in progress: a step that
        // diverges is undone whole, its update to them included.
        let savedBuffers = model.buffers.count > 0 ? model.buffers.values.copy() : nil

        for _ in 0..<settings.epochs {
            let epoch = epochsCompleted + 1
            let order = settings.shuffle ? random.permutation(examples) : Array(0..<examples)
            let started = ContinuousClock.now
            var sumReconstruction = 0.0, sumKL = 0.0, seen = 0
            for batchIndex in 0..<batchesPerEpoch {
                let start = batchIndex * batchSize
                let rows = min(batchSize, examples - start)
                train.fillBatch(order[start..<start + rows], into: batch, epoch: epoch)
                savedBuffers?.assign(from: model.buffers.values)
                let klWeight = settings.klWeight(atStep: stepOfRun)
                let terms = model.computeGradients(batch, rows: rows, samples: settings.samples,
                                                   weights: settings.weights(atStep: stepOfRun),
                                                   reduction: settings.reduction, random: &random)
                if !terms.reconstruction.isFinite || !terms.kl.isFinite {
                    // These parameters are the result of the last update: undo it.
                    let restored = optimizer.rollBack(model.parameters)
                    if let savedBuffers { model.buffers.values.assign(from: savedBuffers) }
                    return .diverged(epoch: epoch, batch: batchIndex + 1, restored: restored)
                }
                optimizer.apply(to: model.parameters)
                stepOfRun += 1
                sumReconstruction += terms.reconstruction * Double(rows)
                sumKL += terms.kl * Double(rows)
                seen += rows
                let average = BatchTerms(reconstruction: sumReconstruction / Double(seen), kl: sumKL / Double(seen), examples: seen)
                let report = BatchReport(epoch: epoch, batch: batchIndex + 1, batchesPerEpoch: batchesPerEpoch,
                                         terms: terms, epochAverage: average, klWeight: klWeight,
                                         seconds: Self.seconds(since: started))
                if case .stop = events(.batchEnd(report)) {
                    return .stopped(epoch: epoch, batch: batchIndex + 1)
                }
            }
            let seconds = Self.seconds(since: started)
            epochsCompleted += 1
            // Common random numbers per epoch: one draw of z per test example, keyed by the epoch.
            let draws = Draws.common(seed: RandomSource.derivedSeed(evaluationSeed, .evaluation, UInt64(epochsCompleted)))
            let testTerms = test.flatMap { model.evaluate($0, samples: 1, draws: draws) }
            let report = EpochReport(
                epoch: epoch,
                train: BatchTerms(reconstruction: sumReconstruction / Double(seen), kl: sumKL / Double(seen), examples: seen),
                test: testTerms, seconds: seconds, examples: seen)
            history.append(report)
            if case .stop = events(.epochEnd(report)) {
                return .stopped(epoch: epoch, batch: batchesPerEpoch)
            }
        }
        return .completed
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
