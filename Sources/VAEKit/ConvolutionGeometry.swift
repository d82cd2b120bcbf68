/// Where a convolution kernel lands on an image: the image's size, the kernel's, the stride, the
/// padding and the dilation, and so the grid of positions the kernel visits.
///
/// A Conv2d slides its kernel over its input; a ConvTranspose2d is that convolution run
/// backwards, so its geometry is the one of the convolution whose input is the transpose's
/// *output*: `positions` is then the transpose's input size. Both layers reach BLAS through the
/// two functions here:
///
///   im2col: image (C, H, W) → columns (C·kh·kw, Ho·Wo), one column per kernel position
///   col2im: columns (C·kh·kw, Ho·Wo) → image (C, H, W), summing where positions overlap
///
/// so that a convolution is one GEMM with the weight (Cout, C·kh·kw), and col2im is im2col's
/// adjoint (the backward of one is the other).
struct ConvolutionGeometry: Sendable, Hashable {
    /// C, H, W: the image the kernel slides over.
    let channels: Int, height: Int, width: Int
    let kernelHeight: Int, kernelWidth: Int
    let strideHeight: Int, strideWidth: Int
    /// Zeros above and to the left; those below and to the right follow from the output size.
    let padTop: Int, padLeft: Int
    let dilationHeight: Int, dilationWidth: Int
    /// Ho, Wo: kernel positions down and across.
    let outputHeight: Int, outputWidth: Int

    /// C·kh·kw: rows of the column matrix.
    var columnRows: Int { channels * kernelHeight * kernelWidth }
    /// Ho·Wo: columns of the column matrix.
    var positions: Int { outputHeight * outputWidth }
    /// C·H·W.
    var imageCount: Int { channels * height * width }

    /// A 1×1 kernel at stride 1 with no padding: the column matrix *is* the image, and no copy is needed.
    var isIdentity: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padTop == 0 && padLeft == 0
            && outputHeight == height && outputWidth == width
    }

    /// The range of output positions `o` along one axis whose input index o·stride − pad + k·dilation
    /// lies inside 0..<size.
    @inline(__always)
    private static func validRange(size: Int, outputs: Int, stride: Int, pad: Int, offset: Int) -> Range<Int> {
        // i = o·s − pad + offset ≥ 0  ⇔  o ≥ ⌈(pad − offset)/s⌉;   i ≤ size − 1  ⇔  o ≤ ⌊(size − 1 + pad − offset)/s⌋
        let low = pad - offset, high = size - 1 + pad - offset
        let first = low <= 0 ? 0 : (low + stride - 1) / stride
        let last = high < 0 ? -1 : high / stride
        return first..<max(first, min(outputs, last + 1))
    }

    /// Calls `body` once per kernel tap (c, ki, kj) with: the tap's row of the column matrix
    /// (its first element's index), the image pixel under position (0, 0) relative to which
    /// position (oi, oj) reads pixel `pixel + oi·stride·W + oj·stride`, and the positions (rows
    /// and columns of positions) whose pixel lies inside the image.
    @inline(__always)
    private func forEachTap(_ body: (_ row: Int, _ pixel: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        for c in 0..<channels {
            for ki in 0..<kernelHeight {
                let rows = Self.validRange(size: height, outputs: outputHeight, stride: strideHeight, pad: padTop, offset: ki * dilationHeight)
                for kj in 0..<kernelWidth {
                    let columns = Self.validRange(size: width, outputs: outputWidth, stride: strideWidth, pad: padLeft, offset: kj * dilationWidth)
                    body(((c * kernelHeight + ki) * kernelWidth + kj) * positions,
                         c * height * width + (ki * dilationHeight - padTop) * width + kj * dilationWidth - padLeft, rows, columns)
                }
            }
        }
    }

    /// columns (C·kh·kw, Ho·Wo) ← the patches of `image` (C, H, W); zeros where the kernel lies
    /// over padding. Row (c·kh + i)·kw + j holds input pixel (c, o·s − pad + i·d, …) for every position o.
    func im2col<T: VAEScalar>(_ image: UnsafePointer<T>, into columns: UnsafeMutablePointer<T>) {
        let outputWidth = outputWidth, rowStride = strideHeight * width, strideWidth = strideWidth
        forEachTap { row, pixel, rows, columnRange in
            for oi in 0..<outputHeight {
                let target = columns + row + oi * outputWidth
                guard rows.contains(oi), !columnRange.isEmpty else {
                    target.update(repeating: 0, count: outputWidth)
                    continue
                }
                let source = image + pixel + oi * rowStride
                if columnRange.lowerBound > 0 { target.update(repeating: 0, count: columnRange.lowerBound) }
                if strideWidth == 1 {
                    (target + columnRange.lowerBound).update(from: source + columnRange.lowerBound, count: columnRange.count)
                } else if strideWidth == 2 {
                    Self.strideTwo(.gather, source + 2 * columnRange.lowerBound, target + columnRange.lowerBound, count: columnRange.count)
                } else {
                    for oj in columnRange { target[oj] = source[oj * strideWidth] }
                }
                if columnRange.upperBound < outputWidth {
                    (target + columnRange.upperBound).update(repeating: 0, count: outputWidth - columnRange.upperBound)
                }
            }
        }
    }

    /// image (C, H, W) ← the sum, over kernel positions, of each column put back where im2col took
    /// it from (the image is overwritten, not added to). The adjoint of `im2col`.
    func col2im<T: VAEScalar>(_ columns: UnsafePointer<T>, into image: UnsafeMutablePointer<T>) {
        image.update(repeating: 0, count: imageCount)
        let outputWidth = outputWidth, rowStride = strideHeight * width, strideWidth = strideWidth
        forEachTap { row, pixel, rows, columnRange in
            if columnRange.isEmpty { return }
            for oi in rows {
                let source = columns + row + oi * outputWidth
                let target = image + pixel + oi * rowStride
                if strideWidth == 1 {
                    for oj in columnRange { target[oj] += source[oj] }
                } else if strideWidth == 2 {
                    Self.strideTwo(.scatterAdd, source + columnRange.lowerBound, target + 2 * columnRange.lowerBound, count: columnRange.count)
                } else {
                    for oj in columnRange { target[oj * strideWidth] += source[oj] }
                }
            }
        }
    }

    // MARK: - Stride 2, four lanes at a time

    // Why: at stride 2 (the downsampling convolutions and upsampling transposes of every conv
    // VAE) the copies above ran one scalar at a time, and im2col and col2im took 26% of a TF-CVAE
    // training step's samples (perf, `vaesh-bench epoch model=tf-cvae`), nearly all at stride 2.
    // Eight values are read or written at once and the even four picked out or added to: 23%
    // after (the rows are short, 6 to 14 positions, so what is left is mostly per-row work).
    // Every value is moved, or summed into its pixel, exactly as the scalar loop does (the odd
    // lanes are written back unchanged), so results are bit-identical. A block is used only while
    // its eighth value lies before the row's last even one, so nothing outside the row's valid
    // span is read or written.

    /// What `strideTwo` does along a row: `gather` is im2col's target[j] ← source[2j], `scatterAdd`
    /// col2im's target[2j] += source[j] (the odd values of target left as they are), for j in 0..<count.
    enum StrideTwoMove { case gather, scatterAdd }

    @inline(__always)
    static func strideTwo<T: VAEScalar>(_ move: StrideTwoMove, _ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>, count: Int) {
        var j = 0
        if T.self == Float.self {
            let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target), size = MemoryLayout<Float>.stride
            while j + 4 < count {
                switch move {
                case .gather:
                    let pair = from.loadUnaligned(fromByteOffset: 2 * j * size, as: SIMD8<Float>.self)
                    to.storeBytes(of: pair.evenHalf, toByteOffset: j * size, as: SIMD4<Float>.self)
                case .scatterAdd:
                    var pair = UnsafeRawPointer(to).loadUnaligned(fromByteOffset: 2 * j * size, as: SIMD8<Float>.self)
                    pair.evenHalf += from.loadUnaligned(fromByteOffset: j * size, as: SIMD4<Float>.self)
                    to.storeBytes(of: pair, toByteOffset: 2 * j * size, as: SIMD8<Float>.self)
                }
                j += 4
            }
        }
        while j < count {
            switch move {
            case .gather: target[j] = source[2 * j]
            case .scatterAdd: target[2 * j] += source[j]
            }
            j += 1
        }
    }

    /// The input pixel under kernel tap (ki, kj) at position (oi, oj), or nil over padding: the
    /// definition the naive references below are written with.
    @inline(__always)
    func inputIndex(oi: Int, oj: Int, ki: Int, kj: Int) -> (Int, Int)? {
        let i = oi * strideHeight - padTop + ki * dilationHeight, j = oj * strideWidth - padLeft + kj * dilationWidth
        return i >= 0 && i < height && j >= 0 && j < width ? (i, j) : nil
    }
}

// MARK: - Building a geometry from a layer's arguments

/// What is wrong with one layer, before the architecture says which layer it is.
struct LayerProblem: Error, Equatable {
    var text: String
    var hint: String?
    var kind: ArchitectureError.Kind = .shape
}

extension ConvolutionGeometry {
    /// The geometry of `spec` as a Conv2d on a C×H×W input, or what is wrong.
    static func conv2d(_ spec: ConvolutionSpec, input: (channels: Int, height: Int, width: Int)) throws(LayerProblem) -> ConvolutionGeometry {
        try checkArguments(spec, transposed: false)
        let (top, bottom, left, right): (Int, Int, Int, Int)
        switch spec.padding {
        case .explicit(let pair): (top, bottom, left, right) = (pair.height, pair.height, pair.width, pair.width)
        case .valid: (top, bottom, left, right) = (0, 0, 0, 0)
        case .same:
            // PyTorch: total = dilation·(kernel − 1), the smaller half first.
            let totalHeight = spec.dilation.height * (spec.kernelSize.height - 1)
            let totalWidth = spec.dilation.width * (spec.kernelSize.width - 1)
            (top, bottom, left, right) = (totalHeight / 2, totalHeight - totalHeight / 2, totalWidth / 2, totalWidth - totalWidth / 2)
        }
        let spanHeight = spec.dilation.height * (spec.kernelSize.height - 1) + 1
        let spanWidth = spec.dilation.width * (spec.kernelSize.width - 1) + 1
        let paddedHeight = input.height + top + bottom, paddedWidth = input.width + left + right
        if spanHeight > paddedHeight || spanWidth > paddedWidth {
            let kernel = "\(spec.kernelSize.height)×\(spec.kernelSize.width) kernel"
            let span = spec.dilation == 1 ? "" : " (spanning \(spanHeight)×\(spanWidth) with dilation \(spec.dilation.text))"
            let padding = top + bottom + left + right == 0 ? "" : " (\(paddedHeight)×\(paddedWidth) with its padding)"
            throw LayerProblem(text: "has a \(kernel)\(span) larger than its \(input.height)×\(input.width) input\(padding)",
                               hint: "remove a layer that shrinks the image, or pad it")
        }
        return ConvolutionGeometry(
            channels: input.channels, height: input.height, width: input.width,
            kernelHeight: spec.kernelSize.height, kernelWidth: spec.kernelSize.width,
            strideHeight: spec.stride.height, strideWidth: spec.stride.width, padTop: top, padLeft: left,
            dilationHeight: spec.dilation.height, dilationWidth: spec.dilation.width,
            outputHeight: (paddedHeight - spanHeight) / spec.stride.height + 1,
            outputWidth: (paddedWidth - spanWidth) / spec.stride.width + 1)
    }

    /// The geometry of `spec` as a ConvTranspose2d on a Cin×H×W input: the convolution whose input
    /// is the transpose's output (Cout, Ho, Wo) and whose positions are the transpose's input, or
    /// what is wrong. Ho = (H − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1.
    static func convTranspose2d(_ spec: ConvolutionSpec, input: (channels: Int, height: Int, width: Int)) throws(LayerProblem) -> ConvolutionGeometry {
        try checkArguments(spec, transposed: true)
        guard case .explicit(let padding) = spec.padding else {
            throw LayerProblem(text: "has padding=\(spec.padding.text); ConvTranspose2d takes only numbers", kind: .argument)
        }
        func size(_ input: Int, _ stride: Int, _ pad: Int, _ dilation: Int, _ kernel: Int, _ extra: Int) -> Int? {
            guard let scaled = checkedProduct([input - 1, stride]), let span = checkedProduct([dilation, kernel - 1]),
                  let total = checkedSum([scaled, -2 * pad, span, extra, 1]) else { return nil }
            return total
        }
        guard let height = size(input.height, spec.stride.height, padding.height, spec.dilation.height, spec.kernelSize.height, spec.outputPadding.height),
              let width = size(input.width, spec.stride.width, padding.width, spec.dilation.width, spec.kernelSize.width, spec.outputPadding.width) else {
            throw LayerProblem(text: "gives an output too large to compute", kind: .tooLarge)
        }
        guard height >= 1 && width >= 1 else {
            throw LayerProblem(text: "would give a \(height)×\(width) output: padding \(padding.text) removes more than its \(input.height)×\(input.width) input gives",
                               hint: "use less padding")
        }
        return ConvolutionGeometry(
            channels: spec.outChannels, height: height, width: width,
            kernelHeight: spec.kernelSize.height, kernelWidth: spec.kernelSize.width,
            strideHeight: spec.stride.height, strideWidth: spec.stride.width, padTop: padding.height, padLeft: padding.width,
            dilationHeight: spec.dilation.height, dilationWidth: spec.dilation.width,
            outputHeight: input.height, outputWidth: input.width)
    }

    /// Positive channels, kernel, stride and dilation; padding and output padding ≥ 0; PyTorch's
    /// rules for 'same' and output_padding.
    private static func checkArguments(_ spec: ConvolutionSpec, transposed: Bool) throws(LayerProblem) {
        func positive(_ name: String, _ value: Int) throws(LayerProblem) {
            if value < 1 { throw LayerProblem(text: "has \(name)=\(value); it must be at least 1", kind: .argument) }
            try VAEArchitecture.checkSize(name, value)
        }
        func positive(_ name: String, _ pair: SpatialPair) throws(LayerProblem) {
            if pair.height < 1 || pair.width < 1 { throw LayerProblem(text: "has \(name)=\(pair.text); it must be at least 1", kind: .argument) }
            try VAEArchitecture.checkSize(name, max(pair.height, pair.width))
        }
        try positive("in_channels", spec.inChannels)
        try positive("out_channels", spec.outChannels)
        try positive("kernel_size", spec.kernelSize)
        try positive("stride", spec.stride)
        try positive("dilation", spec.dilation)
        if case .explicit(let padding) = spec.padding, padding.height < 0 || padding.width < 0 {
            throw LayerProblem(text: "has padding=\(padding.text); it must be 0 or more", kind: .argument)
        }
        if case .explicit(let padding) = spec.padding { try VAEArchitecture.checkSize("padding", max(padding.height, padding.width)) }
        if spec.padding == .same && spec.stride != 1 {
            throw LayerProblem(text: "has padding='same' with stride=\(spec.stride.text); PyTorch allows 'same' only with stride 1",
                               hint: "give the padding as a number", kind: .argument)
        }
        if !transposed && spec.outputPadding != 0 {
            throw LayerProblem(text: "has output_padding, which only ConvTranspose2d takes", kind: .argument)
        }
        let extra = spec.outputPadding
        if extra.height < 0 || extra.width < 0 {
            throw LayerProblem(text: "has output_padding=\(extra.text); it must be 0 or more", kind: .argument)
        }
        try VAEArchitecture.checkSize("output_padding", max(extra.height, extra.width))
        if extra.height >= max(spec.stride.height, spec.dilation.height) || extra.width >= max(spec.stride.width, spec.dilation.width) {
            throw LayerProblem(text: "has output_padding=\(extra.text); as in PyTorch it must be smaller than the stride (\(spec.stride.text)) or the dilation (\(spec.dilation.text))",
                               kind: .argument)
        }
    }
}
