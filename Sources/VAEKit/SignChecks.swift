// What vaesh exists to show, as engine values: one optimiser step measured before and after on
// the same draws, and the four relations between the terms checked with the model's own numbers.
//
//   KL ≥ 0 · the objective train minimises = −ELBO · ELBO ≤ log p(x) · a step lowers the loss and
//   raises the ELBO by the same amount
//
// The commands `step` and `show-sign` only render these.

/// The terms of one batch just before and just after one optimiser step, with the same draws of z,
/// so the change is the step's alone.
public struct StepMeasurement: Sendable, Equatable {
    public var before: BatchTerms
    public var after: BatchTerms
    /// The learning rate the step used.
    public var learningRate: Double

    public var deltaLoss: Double { after.loss - before.loss }
    public var deltaELBO: Double { after.elbo - before.elbo }
    /// loss = −ELBO, so the two changes must cancel (to rounding).
    public var changesCancel: Bool { abs(deltaLoss + deltaELBO) <= 1e-9 * max(1, abs(deltaLoss)) }
    /// What a correct step does: the loss falls, the ELBO rises by as much.
    public var lowersLossRaisesELBO: Bool { deltaLoss < 0 && deltaELBO > 0 && changesCancel }
}

extension Trainer {
    /// Takes one step of this trainer's optimiser on the first rows of `batch` (rows, D),
    /// descending `objective`, and measures the terms on that batch before and after with the
    /// draws `random` gives. The step is kept: step a `copy()` to keep the original.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func measuredStep(on batch: Matrix<T>, objective: TrainingObjective = .loss, random: RandomSource) -> StepMeasurement {
        var settings = TrainingSettings()
        settings.objective = objective
        var draws = random
        let before = model.computeGradients(batch, rows: batch.rows, weights: settings.weights(atStep: 0), random: &draws)
        optimizer.apply(to: model.parameters)
        draws = random
        // Measuring is not training: the running statistics keep the step's own update only.
        let after = model.computeGradients(batch, rows: batch.rows, weights: settings.weights(atStep: 0), random: &draws,
                                           updateRunningStatistics: false)
        model.parameters.zeroGradients()
        return StepMeasurement(before: before, after: after, learningRate: optimizer.learningRate)
    }

    /// One step of a fresh optimiser of this trainer's kind on a copy of the model, at
    /// `learningRate` halved until the loss falls (at most `maximumHalvings` times); this trainer
    /// is untouched. A fresh optimiser's first step points downhill (Adam's is lr·sign(g)), but on
    /// a trained model lr may overshoot, hence the halving; with a gradient of the wrong sign no
    /// step size helps, and the measurement shows it.
    public func stepOnACopy(on batch: Matrix<T>, learningRate: Double, random: RandomSource,
                            maximumHalvings: Int = 12) -> (step: StepMeasurement, halvings: Int) {
        var rate = learningRate, halvings = 0
        func attempt() -> StepMeasurement {
            let fresh = Optimizer<T>(optimizer.kind, learningRate: rate, parameterCount: model.parameters.count)
            return Trainer(model: model.copy(), optimizer: fresh, seed: 0).measuredStep(on: batch, random: random)
        }
        var step = attempt()
        while step.deltaLoss >= 0 && halvings < maximumHalvings {
            rate /= 2
            halvings += 1
            step = attempt()
        }
        return (step, halvings)
    }
}

extension DataSplit {
    /// `size` examples of this split (all when it has fewer) in the order of a random
    /// permutation, as a batch (rows, D) at epoch 0.
    public func randomBatch<T: VAEScalar>(size: Int, random: inout RandomSource, as: T.Type = T.self) -> Matrix<T> {
        let rows = min(size, count)
        let batch = Matrix<T>(rows: rows, columns: dimension)
        fillBatch(random.permutation(count).prefix(rows), into: batch, epoch: 0)
        return batch
    }
}

/// The terms on a set of examples and the four relations between them, each checked.
public struct SignChecks: Sendable, Equatable {
    /// Every term, with the per-example values.
    public var terms: ELBOTerms
    /// The objective `train` minimises (the loss, β = 1, averaged over the examples) computed by
    /// the training code itself on the same examples and draws (BatchNorm in evaluation mode, as
    /// for the terms).
    public var trainingLoss: Double
    /// log p̂(x) by importance sampling on the same examples.
    public var importance: LogLikelihoodEstimate
    /// log p̂(x) − ELBO, paired per example (the ELBO of `terms`, with its closed-form KL).
    public var gap: Estimate
    /// One step on a copy of the model.
    public var step: StepMeasurement
    /// How many times the step's learning rate was halved until the loss fell.
    public var halvings: Int

    /// Examples whose closed-form KL came out below 0 (none, unless something is wrong).
    public var negativeKLExamples: Int { terms.perExample?.kl.filter { $0 < 0 }.count ?? 0 }
    /// KL ≥ 0, on average and for every example.
    public var klIsNonNegative: Bool { terms.kl.mean >= 0 && negativeKLExamples == 0 }
    /// The objective train minimises equals −ELBO (to rounding).
    public var lossIsMinusELBO: Bool { abs(trainingLoss - (-terms.elbo.mean)) <= 1e-9 * max(1, abs(terms.elbo.mean)) }
    /// The examples the terms were computed on.
    public var examples: Int { terms.perExample?.kl.count ?? 1 }
    /// How many standard errors below 0 the paired gap may fall (`gapAllowance(examples:)`); nil
    /// for one example, which has no standard error.
    public var gapAllowance: Double? { Self.gapAllowance(examples: examples) }
    /// ELBO ≤ log p̂(x) within noise: the paired gap is above −`gapAllowance` standard errors (with
    /// one example, no standard error: the gap itself must be ≥ 0).
    public var elboIsBelowLogLikelihood: Bool {
        guard let allowance = gapAllowance, let standardError = gap.standardError else { return gap.mean >= 0 }
        return gap.mean >= -allowance * standardError
    }

    /// The one-sided Student's t quantile for n − 1 degrees of freedom at 0.135%, the tail a normal
    /// has beyond 3σ: a gap that is really ≥ 0 falls below −t standard errors that rarely, also when
    /// the standard error is itself estimated from a few examples (with 3 examples, 3σ would be
    /// crossed 5% of the time; t is 9.2). 3.08 for 100 examples, 3.01 for 1,000; nil below 2.
    public static func gapAllowance(examples n: Int) -> Double? {
        guard n >= 2 else { return nil }
        let degrees = n - 1
        // scipy.stats.t.ppf(0.99865, ν) for ν = 1…30, to 3 decimals.
        let table: [Double] = [235.784, 19.206, 9.219, 6.620, 5.507, 4.904, 4.530, 4.277, 4.094, 3.957,
                               3.850, 3.764, 3.694, 3.636, 3.586, 3.544, 3.507, 3.475, 3.447, 3.422,
                               3.400, 3.380, 3.361, 3.345, 3.330, 3.316, 3.303, 3.291, 3.280, 3.270]
        if degrees <= table.count { return table[degrees - 1] }
        // Beyond 30, the Cornish–Fisher expansion about z = 3 (within 0.001 of scipy's there).
        let z = 3.0, v = Double(degrees)
        return z + (z * z * z + z) / (4 * v) + (5 * z * z * z * z * z + 16 * z * z * z + 3 * z) / (96 * v * v)
    }
    /// The step lowered the loss and raised the ELBO by as much.
    public var stepLowersLossRaisesELBO: Bool { step.lowersLossRaisesELBO }
    /// How many of the four checks hold.
    public var passed: Int {
        [klIsNonNegative, lossIsMinusELBO, elboIsBelowLogLikelihood, stepLowersLossRaisesELBO].filter { $0 }.count
    }
}

extension Trainer {
    /// The sign checks on examples `indices` of `source`: the terms with S = `samples` draws from
    /// `draws`, the training objective on the same draws, log p̂(x) with K = `importanceSamples`
    /// from `draws` too, and one step on a copy of the model on `stepBatch` (`stepNoise`,
    /// learning rate halved until the loss falls). This trainer is not changed. Nil when
    /// `shouldStop` answers true between chunks. `progress` hears the fraction of log p̂(x)'s
    /// draws done, which is nearly all of the time it takes.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func signChecks(_ source: any ExampleSource, indices: [Int], samples: Int, importanceSamples: Int,
                           stepBatch: Matrix<T>, learningRate: Double, draws: Draws, stepNoise: RandomSource,
                           shouldStop: () -> Bool = { false }, progress: (Double) -> Void = { _ in }) -> SignChecks? {
        guard let terms = model.evaluate(source, indices: indices, samples: samples, draws: draws,
                                         keepPerExample: true, shouldStop: shouldStop),
              let perExample = terms.perExample else { return nil }
        let examples = Matrix<T>(rows: indices.count, columns: source.dimension)
        source.fillBatch(indices, into: examples, epoch: 0)
        // The training code's objective, with BatchNorm in the evaluation mode the terms were
        // computed in (in training mode it would normalise by these examples' own statistics).
        let trainingLoss = model.objective(examples, rows: indices.count, samples: samples, weights: .loss(),
                                           reduction: .mean, draws: draws, examples: indices, mode: .evaluation)
        guard let importance = model.logLikelihood(source, indices: indices, importanceSamples: importanceSamples,
                                                   draws: draws, shouldStop: shouldStop, progress: progress) else { return nil }
        let gap = Estimate(values: zip(importance.perExample, perExample.elbo).map { $0 - $1 })
        let (step, halvings) = stepOnACopy(on: stepBatch, learningRate: learningRate, random: stepNoise)
        return SignChecks(terms: terms, trainingLoss: trainingLoss, importance: importance, gap: gap,
                          step: step, halvings: halvings)
    }
}
