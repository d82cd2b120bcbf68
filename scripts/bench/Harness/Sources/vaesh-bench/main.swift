// vaesh-bench MODE [key=value…]: one timed workload of VAEKit, printed as one JSON line.
//
// Modes (the model is the pytorch/examples VAE, 784-400-20, seeded, unless model=tf-cvae or keras):
//   epoch   epochs=1 batch=128 seed=S [evaluate=1] [limit=L]  training epochs on full MNIST, or on its
//           first L training images (the trainer's own seconds, which exclude the test
//           evaluation); with evaluate=1 also the test loss
//   elbo    every term on the 10,000 test images, one draw each, with common random numbers as the
//           shell's `elbo` draws them (draws=fresh: from one stream); a model trained `train=` epochs first
//   logpx   k=1000 limit=1000: the IWAE estimate on the first `limit` test images
//   steps   steps=200 batch=128: computeGradients and Adam apart, on one batch, for profiling
//   gemm    the MLP step's five big products, through OpenBLAS and split in two
//   convgemm the TF-CVAE step's per-example convolution GEMMs, each alone, beside a 512³ product
// Threads: OPENBLAS_NUM_THREADS (read by OpenBLAS and by VAEKit's own splitting).
import Foundation
import VAEKit
import VAEScript  // Dataset.mnist: the files, read through the formats module

var options: [String: String] = [:]
for argument in CommandLine.arguments.dropFirst(2) {
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    options[parts[0]] = parts.count > 1 ? parts[1] : "1"
}
let mode = CommandLine.arguments.dropFirst().first ?? "steps"
func option(_ name: String, _ fallback: Int) -> Int { options[name].flatMap { Int($0) } ?? fallback }

func seconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

func peakResidentMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func emit(_ fields: [String: Any]) {
    var all = fields
    all["mode"] = mode
    all["threads"] = BLASThreads.count
    all["peak_rss_mb"] = peakResidentMB()
    let data = try! JSONSerialization.data(withJSONObject: all, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func loadMNIST() -> Dataset {
    do { return try Dataset.mnist() } catch {
        FileHandle.standardError.write(Data("vaesh-bench: \(error)\n".utf8))
        exit(1)
    }
}

let seed = UInt64(option("seed", 1))
var random = RandomSource(seed: seed)

/// model=mlp (the pytorch/examples VAE, the default), tf-cvae (TensorFlow's CVAE tutorial) or
/// keras (the Keras VAE example), in PyTorch terms (REFERENCES.md).
func architecture(_ name: String) -> VAEArchitecture {
    let mnist = ExampleShape.image(channels: 1, height: 28, width: 28)
    switch name {
    case "tf-cvae":
        return VAEArchitecture(
            input: mnist,
            encoder: [.Conv2d(1, 32, 3, stride: 2), .relu, .Conv2d(32, 64, 3, stride: 2), .relu, .flatten, .Linear(2304, 4)],
            head: .split, latentSize: 2,
            decoder: [.Linear(2, 1568), .relu, .Unflatten(32, 7, 7), .ConvTranspose2d(32, 64, 3, stride: 2, padding: 1, outputPadding: 1),
                      .relu, .ConvTranspose2d(64, 32, 3, stride: 2, padding: 1, outputPadding: 1), .relu, .ConvTranspose2d(32, 1, 3, padding: 1)])
    case "keras":
        return VAEArchitecture(
            input: mnist,
            encoder: [.Conv2d(1, 32, 3, stride: 2, padding: .explicit(1)), .relu, .Conv2d(32, 64, 3, stride: 2, padding: .explicit(1)), .relu,
                      .flatten, .Linear(3136, 16), .relu],
            head: .twoLinear, latentSize: 2,
            decoder: [.Linear(2, 3136), .relu, .Unflatten(64, 7, 7), .ConvTranspose2d(64, 64, 3, stride: 2, padding: 1, outputPadding: 1),
                      .relu, .ConvTranspose2d(64, 32, 3, stride: 2, padding: 1, outputPadding: 1), .relu, .ConvTranspose2d(32, 1, 3, padding: 1)])
    default:
        return VAEConfiguration.pytorchExample.architecture
    }
}
let model = try! VAE<Float>(architecture(options["model"] ?? "mlp"), random: &random)
// The tutorials' learning rates: TensorFlow's CVAE trains with Adam 1e-4, the others with 1e-3.
let optimizer = Optimizer<Float>(.adamDefaults, learningRate: options["model"] == "tf-cvae" ? 1e-4 : 1e-3,
                                 parameterCount: model.parameters.count)
let trainer = Trainer(model: model, optimizer: optimizer, seed: seed)

func train(_ data: Dataset, epochs: Int, evaluate: Bool) -> [EpochReport] {
    var settings = TrainingSettings()
    settings.epochs = epochs
    settings.batchSize = option("batch", 128)
    var reports: [EpochReport] = []
    let limit = option("limit", 0)
    let train = limit > 0 ? data.train.limited(to: limit) : data.train
    _ = trainer.train(train, test: evaluate ? data.test : nil, settings: settings) { event in
        if case .epochEnd(let report) = event { reports.append(report) }
        return .proceed
    }
    return reports
}

/// Full MNIST's test split, after `train=` epochs of training the model (none by default).
func testSplitAfterTraining() -> DataSplit {
    let data = loadMNIST()
    _ = train(data, epochs: option("train", 0), evaluate: false)
    guard let test = data.test else { exit(1) }
    return test
}

/// One GEMM of a step, for the `gemm` and `convgemm` modes: C (m, n) = op(A) (m, k) · op(B) (k, n).
struct Shape {
    let name: String, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int

    /// A and B filled with U(−1, 1), and C.
    func operands(_ random: inout RandomSource) -> (Matrix<Float>, Matrix<Float>, Matrix<Float>) {
        let a = Matrix<Float>(rows: transposeA ? k : m, columns: transposeA ? m : k)
        let b = Matrix<Float>(rows: transposeB ? n : k, columns: transposeB ? k : n)
        random.fillUniform(a.buffer, low: -1, high: 1)
        random.fillUniform(b.buffer, low: -1, high: 1)
        return (a, b, Matrix<Float>(rows: m, columns: n))
    }
}

switch mode {
case "epoch":
    let data = loadMNIST()
    let reports = train(data, epochs: option("epochs", 1), evaluate: option("evaluate", 0) != 0)
    var fields: [String: Any] = ["seconds": reports.map(\.seconds), "train_loss": reports.map(\.train.loss)]
    if let test = reports.last?.test { fields["test_loss"] = test.loss.mean }
    emit(fields)
case "elbo":
    let test = testSplitAfterTraining()
    var evaluationRandom = RandomSource(seed: seed)
    var terms: ELBOTerms?
    // The shell's `elbo` keys its draws by (seed, example, draw): common random numbers.
    let common = Draws.common(seed: RandomSource.derivedSeed(seed, .evaluation, 1))  // the test split's, as the shell keys them
    // repeats=R runs it R times (for a profile); `seconds` is the first run, as the reference times its one.
    let times = (0..<max(1, option("repeats", 1))).map { _ in
        seconds {
            terms = options["draws"] == "fresh" ? model.evaluate(test, samples: 1, random: &evaluationRandom)
                                                : model.evaluate(test, samples: 1, draws: common)
        }
    }
    emit(["seconds": times[0], "all_seconds": times, "elbo": terms?.elbo.mean ?? .nan, "examples": test.count])
case "logpx":
    let test = testSplitAfterTraining()
    var evaluationRandom = RandomSource(seed: seed)
    var estimate: LogLikelihoodEstimate?
    let limit = option("limit", 1000), k = option("k", 1000)
    let time = seconds {
        estimate = model.logLikelihood(test, indices: Array(0..<limit), importanceSamples: k, random: &evaluationRandom)
    }
    emit(["seconds": time, "logpx": estimate?.logLikelihood.mean ?? .nan, "examples": limit, "k": k])
case "steps":
    let steps = option("steps", 200), batch = option("batch", 128)
    let x = Matrix<Float>(rows: batch, columns: model.inputSize)
    random.fillUniform(x.buffer, low: 0, high: 1)
    _ = model.computeGradients(x, rows: batch, weights: .loss(), random: &random)
    let gradients = seconds { for _ in 0..<steps { _ = model.computeGradients(x, rows: batch, weights: .loss(), random: &random) } }
    let adam = seconds { for _ in 0..<steps { optimizer.apply(to: model.parameters) } }
    let forward = seconds { for _ in 0..<steps { _ = model.objective(x, rows: batch, weights: .loss(), random: &random) } }
    emit(["gradients_ms": gradients * 1000 / Double(steps), "adam_ms": adam * 1000 / Double(steps),
          "forward_ms": forward * 1000 / Double(steps)])
case "gemm":
    // The five big products of a step, each through OpenBLAS as configured and split in two
    // halves over two threads (OpenBLAS at one thread each).
    let repeats = option("repeats", 200)
    let shapes = [
        Shape(name: "fc1 forward  X·W1ᵀ", transposeA: false, transposeB: true, m: 128, n: 400, k: 784),
        Shape(name: "fc1 dW  dHᵀ·X", transposeA: true, transposeB: false, m: 400, n: 784, k: 128),
        Shape(name: "fc4 forward  H·W4ᵀ", transposeA: false, transposeB: true, m: 128, n: 784, k: 400),
        Shape(name: "fc4 dW  dOutᵀ·H", transposeA: true, transposeB: false, m: 784, n: 400, k: 128),
        Shape(name: "fc4 dInput  dOut·W4", transposeA: false, transposeB: false, m: 128, n: 400, k: 784),
    ]
    var results: [String: Any] = [:]
    let threads = BLASThreads.count
    for shape in shapes {
        let (a, b, c) = shape.operands(&random)
        BLASThreads.set(threads)
        let whole = seconds { for _ in 0..<repeats { Matrix.multiply(a, transposed: shape.transposeA, b, transposed: shape.transposeB, into: c) } }
        // Split: rows of C when M ≥ N, else columns.
        BLASThreads.set(1)
        let lda = a.columns, ldb = b.columns, ldc = c.columns
        let split = seconds {
            for _ in 0..<repeats {
                DispatchQueue.concurrentPerform(iterations: 2) { half in
                    if shape.m >= shape.n {
                        let rows = shape.m / 2, start = half * rows, count = half == 0 ? rows : shape.m - rows
                        let aStart = shape.transposeA ? a.pointer + start : a.pointer + start * lda
                        Float.gemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: count, n: shape.n, k: shape.k,
                                   alpha: 1, a: aStart, lda: lda, b: b.pointer, ldb: ldb, beta: 0, c: c.pointer + start * ldc, ldc: ldc)
                    } else {
                        let columns = shape.n / 2, start = half * columns, count = half == 0 ? columns : shape.n - columns
                        let bStart = shape.transposeB ? b.pointer + start * ldb : b.pointer + start
                        Float.gemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: count, k: shape.k,
                                   alpha: 1, a: a.pointer, lda: lda, b: bStart, ldb: ldb, beta: 0, c: c.pointer + start, ldc: ldc)
                    }
                }
            }
        }
        BLASThreads.set(threads)
        let gflop = 2.0 * Double(shape.m * shape.n * shape.k) * Double(repeats) / 1e9
        results[shape.name] = ["blas_ms": whole * 1000 / Double(repeats), "split_ms": split * 1000 / Double(repeats),
                               "blas_gflops": gflop / whole, "split_gflops": gflop / split]
    }
    emit(results)
case "convgemm":
    // The per-example GEMMs of one TF-CVAE training step (forward; dW and dInput in backward), each
    // timed alone on one thread (OPENBLAS_NUM_THREADS=1), beside a 512³ product: the machine's
    // GEMM rate. Shapes as Conv2d.swift and ConvTranspose2d.swift call them (row-major, m×k · k×n).
    let repeats = option("repeats", 2000)
    func convolution(_ name: String, cin: Int, cout: Int, kernel: Int, positions p: Int, input: Bool) -> [Shape] {
        let ck = cin * kernel * kernel
        return [Shape(name: "\(name) forward", transposeA: false, transposeB: false, m: cout, n: p, k: ck),
                Shape(name: "\(name) dW", transposeA: false, transposeB: true, m: cout, n: ck, k: p)]
            + (input ? [Shape(name: "\(name) dInput", transposeA: true, transposeB: false, m: ck, n: p, k: cout)] : [])
    }
    func transposed(_ name: String, cin: Int, cout: Int, kernel: Int, positions p: Int) -> [Shape] {
        let ck = cout * kernel * kernel
        return [Shape(name: "\(name) forward", transposeA: true, transposeB: false, m: ck, n: p, k: cin),
                Shape(name: "\(name) dW", transposeA: false, transposeB: true, m: cin, n: ck, k: p),
                Shape(name: "\(name) dInput", transposeA: false, transposeB: false, m: cin, n: p, k: ck)]
    }
    let shapes = convolution("encoder.0 Conv2d(1, 32, 3, stride=2)", cin: 1, cout: 32, kernel: 3, positions: 169, input: false)
        + convolution("encoder.2 Conv2d(32, 64, 3, stride=2)", cin: 32, cout: 64, kernel: 3, positions: 36, input: true)
        + transposed("decoder.3 ConvTranspose2d(32, 64, …)", cin: 32, cout: 64, kernel: 3, positions: 49)
        + transposed("decoder.5 ConvTranspose2d(64, 32, …)", cin: 64, cout: 32, kernel: 3, positions: 196)
        + transposed("decoder.7 ConvTranspose2d(32, 1, 3, padding=1)", cin: 32, cout: 1, kernel: 3, positions: 784)
        + [Shape(name: "reference 512³", transposeA: false, transposeB: false, m: 512, n: 512, k: 512)]
    var results: [String: Any] = [:]
    var perExample = 0.0, flopsPerExample = 0.0
    for shape in shapes {
        let (a, b, c) = shape.operands(&random)
        let count = shape.name.hasPrefix("reference") ? max(1, repeats / 100) : repeats
        Matrix.multiply(a, transposed: shape.transposeA, b, transposed: shape.transposeB, into: c)
        let time = seconds { for _ in 0..<count { Matrix.multiply(a, transposed: shape.transposeA, b, transposed: shape.transposeB, into: c) } }
        let flops = 2.0 * Double(shape.m * shape.n * shape.k)
        if !shape.name.hasPrefix("reference") { perExample += time / Double(count); flopsPerExample += flops }
        results[shape.name] = ["us": time * 1e6 / Double(count), "gflops": flops * Double(count) / time / 1e9,
                               "m": shape.m, "n": shape.n, "k": shape.k]
    }
    results["per_example_us"] = perExample * 1e6
    results["per_example_mflop"] = flopsPerExample / 1e6
    emit(results)
default:
    FileHandle.standardError.write(Data("vaesh-bench: unknown mode \(mode)\n".utf8))
    exit(2)
}
