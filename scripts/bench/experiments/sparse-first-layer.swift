// An experiment, not part of vaesh: could `elbo` skip the zeros of MNIST's pixels in the first
// layer? The 10,000 test images are 80.7% exact zeros, and the first Linear(784, 400) is 48% of
// `elbo`'s products. This times that layer on the real test images, on one thread, two ways,
// round after round: OpenBLAS's dense product (as the engine computes it, 500 rows a pass, the
// bias seeded into the output) and a kernel that visits only each image's nonzero pixels
// (64 outputs at a time in eight 8-lane accumulators, a multiply and an add per pixel and lane, over the weight transposed to [784][400]).
// It prints the median of each, their ratio, and how far apart the two results are.
// Run it through ./sparse-first-layer, which builds it twice: for x86-64 as vaesh is built, and
// with -mavx2 -mfma (a binary that needs those instructions).
import CBLAS
import Foundation

let examples = 10_000, inputs = 784, outputs = 400, pass = 500, rounds = 7
let pixels = try Data(contentsOf: URL(fileURLWithPath: CommandLine.arguments[1]))  // t10k images, header removed
precondition(pixels.count == examples * inputs, "expected 10,000 images of 784 bytes")
let x = pixels.map { Float($0) / 255 }  // [examples][inputs]
var generator = SystemRandomNumberGenerator()
let bound = 1 / Float(inputs).squareRoot()  // PyTorch's Linear initialisation range
let weight = (0..<(outputs * inputs)).map { _ in Float.random(in: -bound...bound, using: &generator) }  // [outputs][inputs]
let bias = (0..<outputs).map { _ in Float.random(in: -bound...bound, using: &generator) }
var weightByInput = [Float](repeating: 0, count: inputs * outputs)  // [inputs][outputs]
for o in 0..<outputs { for i in 0..<inputs { weightByInput[i * outputs + o] = weight[o * inputs + i] } }

func dense(into h: UnsafeMutablePointer<Float>) {
    for start in stride(from: 0, to: examples, by: pass) {
        for r in 0..<pass { (h + (start + r) * outputs).update(from: bias, count: outputs) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(pass), Int32(outputs), Int32(inputs), 1,
                    x.withUnsafeBufferPointer { $0.baseAddress! } + start * inputs, Int32(inputs),
                    weight.withUnsafeBufferPointer { $0.baseAddress! }, Int32(inputs), 1, h + start * outputs, Int32(outputs))
    }
}

typealias Lanes = SIMD8<Float>
@inline(__always) func load(_ p: UnsafeRawPointer, _ lane: Int) -> Lanes { p.loadUnaligned(fromByteOffset: lane * 32, as: Lanes.self) }

func sparse(into h: UnsafeMutablePointer<Float>) {
    let index = UnsafeMutablePointer<Int32>.allocate(capacity: pass * inputs), value = UnsafeMutablePointer<Float>.allocate(capacity: pass * inputs)
    let first = UnsafeMutablePointer<Int>.allocate(capacity: pass + 1)
    defer { index.deallocate(); value.deallocate(); first.deallocate() }
    x.withUnsafeBufferPointer { x in weightByInput.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
        let w = UnsafeRawPointer(w.baseAddress!)
        for start in stride(from: 0, to: examples, by: pass) {
            var count = 0
            for r in 0..<pass {  // the nonzero pixels of each image, in order
                first[r] = count
                let row = x.baseAddress! + (start + r) * inputs
                for i in 0..<inputs where row[i] != 0 { index[count] = Int32(i); value[count] = row[i]; count += 1 }
            }
            first[pass] = count
            var column = 0
            while column + 64 <= outputs {
                for r in 0..<pass {
                    let seed = UnsafeRawPointer(b.baseAddress! + column)
                    var a0 = load(seed, 0), a1 = load(seed, 1), a2 = load(seed, 2), a3 = load(seed, 3)
                    var a4 = load(seed, 4), a5 = load(seed, 5), a6 = load(seed, 6), a7 = load(seed, 7)
                    for e in first[r]..<first[r + 1] {
                        let v = Lanes(repeating: value[e]), p = w + (Int(index[e]) * outputs + column) * 4
                        a0 += v * load(p, 0); a1 += v * load(p, 1)
                        a2 += v * load(p, 2); a3 += v * load(p, 3)
                        a4 += v * load(p, 4); a5 += v * load(p, 5)
                        a6 += v * load(p, 6); a7 += v * load(p, 7)
                    }
                    let o = UnsafeMutableRawPointer(h + (start + r) * outputs + column)
                    o.storeBytes(of: a0, toByteOffset: 0, as: Lanes.self); o.storeBytes(of: a1, toByteOffset: 32, as: Lanes.self)
                    o.storeBytes(of: a2, toByteOffset: 64, as: Lanes.self); o.storeBytes(of: a3, toByteOffset: 96, as: Lanes.self)
                    o.storeBytes(of: a4, toByteOffset: 128, as: Lanes.self); o.storeBytes(of: a5, toByteOffset: 160, as: Lanes.self)
                    o.storeBytes(of: a6, toByteOffset: 192, as: Lanes.self); o.storeBytes(of: a7, toByteOffset: 224, as: Lanes.self)
                }
                column += 64
            }
            for r in 0..<pass {  // the last 400 mod 64 = 16 outputs, 8 at a time
                for c in stride(from: column, to: outputs, by: 8) {
                    var a = load(UnsafeRawPointer(b.baseAddress! + c), 0)
                    for e in first[r]..<first[r + 1] { a += Lanes(repeating: value[e]) * load(w + (Int(index[e]) * outputs + c) * 4, 0) }
                    UnsafeMutableRawPointer(h + (start + r) * outputs + c).storeBytes(of: a, as: Lanes.self)
                }
            }
        }
    }}}
}

func seconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

openblas_set_num_threads(1)
let denseOut = UnsafeMutablePointer<Float>.allocate(capacity: examples * outputs)
let sparseOut = UnsafeMutablePointer<Float>.allocate(capacity: examples * outputs)
var denseTimes: [Double] = [], sparseTimes: [Double] = []
for _ in 0..<rounds {
    denseTimes.append(seconds { dense(into: denseOut) })
    sparseTimes.append(seconds { sparse(into: sparseOut) })
}
var largest: Float = 0, identical = 0
for i in 0..<(examples * outputs) {
    largest = max(largest, abs(denseOut[i] - sparseOut[i]))
    if denseOut[i] == sparseOut[i] { identical += 1 }
}
let zeros = x.lazy.filter { $0 == 0 }.count
let d = denseTimes.sorted()[rounds / 2], s = sparseTimes.sorted()[rounds / 2]
print(String(format: "zeros %.1f%%; dense (OpenBLAS) %.1f ms, sparse %.1f ms (medians of %d): sparse/dense %.2f; outputs identical %.1f%%, largest difference %.1e",
             100 * Double(zeros) / Double(x.count), d * 1000, s * 1000, rounds, s / d, 100 * Double(identical) / Double(examples * outputs), largest))
