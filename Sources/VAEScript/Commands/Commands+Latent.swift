import Foundation
import VAEFormats
import VAEKit

/// `latent`, `manifold`, `interpolate`: pictures of the latent space, the two every VAE tutorial
/// ends with (the test set's codes coloured by label, and the grid of decoded points across the
/// plane: Kingma & Welling's Figure 4) and the path between two examples.
///
/// The math (codes, spread, principal axes, quantiles, slerp) is in VAEKit's `LatentSpace.swift`;
/// these handlers choose, check and render.
extension CommandTable {
    static let latentCommands: [CommandSpec] = [
        CommandSpec(
            "latent", topic: .latent,
            arguments: [
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "which examples to encode"),
                .option("limit", .int, range: .atLeast(1), abstract: "only the first N examples of the split"),
                .option("dims", .list(.int), abstract: "two latent dimensions to plot, e.g. dims=0,1 (default: 0,1 when Z = 2, else the principal axes)"),
                .option("draw", .bool, default: false, abstract: "plot one draw z ~ q(z|x) per example instead of its mean"),
                .option("out", .path, abstract: "write a colour PNG here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "scatter the posterior means E_q[z|x] coloured by label, with the prior's 1σ and 2σ circles",
            discussion: """
            Encodes the split's examples to the means μ(x) = E_q(z|x)[z] and plots them, coloured \
            by label (one colour when the data have none; on a terminal without colour each point is \
            its label's digit), with the prior N(0, I)'s 1σ and 2σ \
            circles dashed. The KL term pulls the means into the prior's ball; a dimension that has \
            collapsed onto the prior keeps every mean at 0, a flat line in the picture. With Z = 2 \
            the axes are z[0] and z[1]; for Z > 2 they are the means' two principal axes (the \
            directions they vary most along, through the origin, so the circles keep their radii) \
            unless dims=I,J picks two dimensions; the title says which. draw=yes plots one draw \
            z = μ + σ·ε per example instead (fresh from the session seed). Sets spread_x and \
            spread_y (the standard deviation of the plotted means along each axis), spread_min \
            and spread_max (of μ_d over the examples, across the dimensions), spread_0, spread_1, \
            … per dimension, center_max (the largest |mean of μ_d|), and inside_1sigma and \
            inside_2sigma (the fraction of the plotted points inside each circle: 39.3% and 86.5% \
            for draws from the prior itself, so with draw=yes they test whether the aggregate \
            posterior fills the prior). With out=FILE.png it writes a colour PNG \
            with axes, ticks, a title and a legend.
            """,
            examples: ["latent", "latent dims=0,4", "latent split=train limit=5000 out=latent.png scale=2", "latent draw=yes"],
            handler: latentScatter
        ),

        CommandSpec(
            "manifold", topic: .latent,
            arguments: [
                .positional("n", .int, default: 10, range: .between(2, 64), abstract: "pictures along each side of the grid"),
                .option("dims", .list(.int), abstract: "the two latent dimensions across and down (default 0,1)"),
                .option("spacing", .choice(["quantile", "linear"]), default: "quantile",
                        abstract: "quantile: at N(0, 1)'s quantiles (Kingma & Welling); linear: evenly from −range to range"),
                .option("range", .double, range: ValueRange(lowerBound: 0, includesLowerBound: false, upperBound: 100),
                        abstract: "with spacing=linear: the largest |z|, in prior standard deviations (default 2)"),
                .option("index", .int, range: .atLeast(0), abstract: "hold the other dimensions at this example's μ instead of 0"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "where the index= example comes from"),
                .option("out", .path, abstract: "write a PNG with axes in z units here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "decode a grid of latent points across two dimensions: the learned manifold",
            discussion: """
            Decodes an n×n grid of latent points to the mean of p(x|z) and lays the pictures out \
            as the plane: dimension dims[0] grows left to right, dims[1] bottom to top. By default \
            the values are N(0, 1)'s quantiles at the probabilities (i + ½)/n, as Kingma & Welling \
            lay out their Figure 4, so every cell holds the same prior mass; spacing=linear spreads \
            them evenly from −range to range, as the Keras example's plot_latent_space does. The \
            other dimensions stay at 0 (the prior's mean), or at the μ of example index= of the \
            split. The PNG has the z values on its axes. Sets z_low and z_high (the grid's ends).
            """,
            examples: ["manifold", "manifold 20 out=manifold.png", "manifold spacing=linear range=3", "manifold dims=2,5 index=7"],
            handler: decodeManifold
        ),

        CommandSpec(
            "interpolate", topic: .latent,
            arguments: [
                .positional("from", .int, required: true, range: .atLeast(0), abstract: "the first example's index"),
                .positional("to", .int, required: true, range: .atLeast(0), abstract: "the second example's index"),
                .option("split", .choice(SplitName.allCases.map(\.rawValue)), default: "test", abstract: "where both examples come from"),
                .option("steps", .int, default: 8, range: .between(2, 64), abstract: "decoded points from one end to the other"),
                .option("path", .choice(["line", "slerp"]), default: "line", abstract: "line: the straight line; slerp: the great circle"),
                .option("out", .path, abstract: "write a PNG strip here instead of showing it"),
                pictureScaleArgument,
            ],
            abstract: "decode the path between two examples' posterior means",
            discussion: """
            Encodes examples from and to to their means μ_a and μ_b, and decodes steps evenly \
            spaced points of the path between them (t = 0 … 1) to the mean of p(x|z), shown \
            between the two originals. path=line is (1 − t)·μ_a + t·μ_b; path=slerp follows the \
            great circle (White 2016), whose points keep a norm between the ends', where the \
            straight line passes closer to the origin than typical codes lie. Sets distance \
            (‖μ_b − μ_a‖) and smallest_norm (the smallest ‖z‖ along the path), in latent units.
            """,
            examples: ["interpolate 0 1", "interpolate 3 17 steps=12 path=slerp", "interpolate 0 5 split=train out=path.png"],
            handler: interpolateExamples
        ),
    ]

    /// The most pixel values a manifold grid may decode: 64 MB of Float, far above a 64×64 grid
    /// of MNIST digits (12.8 M values) and well below what a laptop has.
    static let largestManifold = 1 << 24

    // MARK: - Handlers

    private static func latentScatter(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let scale = try context.pictureScale(out: out)
        let (dataset, trainer) = try context.requireDataAndModel()
        let model = trainer.model
        let name = try context.arguments.string("split")
        let split = try context.split(of: dataset, named: name)
        let limit = try context.arguments.optionalInt("limit")
        let drawn = try context.arguments.bool("draw")
        // Z = 2 is its own plane; for Z > 2 the principal axes unless dims= says otherwise.
        let dims = try chosenDimensions(context, latentSize: model.latentSize) ?? (model.latentSize == 2 ? (0, 1) : nil)
        let count = min(limit ?? split.count, split.count)
        let indices = Array(0..<count)
        guard count >= 2 else {
            throw context.failure(argument: "limit", "the scatter needs at least 2 examples, and there \(count == 1 ? "is 1" : "are none")")
        }
        let random: RandomSource? = drawn ? context.randomStream() : nil
        let found = context.withProgress { progress in
            model.latentCodes(split, indices: indices, draws: random, shouldStop: { context.isInterrupted })
        }
        guard let codes = found else { throw .interrupted(at: context.location) }
        let latent = model.latentSize
        let spread = LatentSpread(codes)

        // The plane: two dimensions, the principal axes, or for Z = 1 the one dimension against a spread.
        let plane: LatentPlane?
        let title: String, xTitle: String, yTitle: String
        let axisNames = latent == 1 ? ("z[0]", "") : dims.map { ("z[\($0.0)]", "z[\($0.1)]") } ?? ("pc1", "pc2")
        if latent == 1 {
            plane = nil
            (title, xTitle, yTitle) = ("Z = 1: Z[0] ACROSS, POINTS SPREAD UP AND DOWN", "Z[0]", "(NO AXIS)")
        } else if let dims {
            plane = LatentPlane.dimensions(dims.0, dims.1, of: codes)
            (title, xTitle, yTitle) = ("DIMENSIONS \(dims.0) AND \(dims.1) OF \(latent)", "Z[\(dims.0)]", "Z[\(dims.1)]")
        } else {
            let axes = LatentPlane.principalAxes(of: codes)
            plane = axes
            (title, xTitle, yTitle) = ("PRINCIPAL AXES OF THE MEANS, Z = \(latent)",
                                       "PC1 (\(percent(axes.explained.x)) OF VARIANCE)", "PC2 (\(percent(axes.explained.y)))")
        }
        let values = drawn ? (codes.draws ?? codes.means) : codes.means
        let plotted: (x: [Double], y: [Double])
        if let plane {
            plotted = plane.project(values, latentSize: latent)
        } else {
            // A deterministic spread in [−0.5, 0.5) by the golden ratio: no random numbers, no meaning.
            plotted = (values, (0..<count).map { (Double($0) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1) - 0.5 })
        }
        let means: (x: [Double], y: [Double]) = plane.map { $0.project(codes.means, latentSize: latent) } ?? (codes.means, plotted.y)
        let labels = split.labels.map { all in indices.map { Int(all[$0]) } }
        let what = drawn ? "ONE DRAW Z ~ Q(Z|X) PER EXAMPLE" : "POSTERIOR MEANS E[Z|X]"
        let scatter = ScatterPlot(xs: plotted.x, ys: plotted.y, labels: labels, title: "\(what): \(title)",
                                  xTitle: xTitle, yTitle: yTitle, circles: [1, 2])

        var report = Report(command: "latent")
        let points = "\(name) split of \(dataset.name): \(Format.grouped(count)) example\(count == 1 ? "" : "s"), "
            + (drawn ? "one draw z = μ + σ·ε of each" : "the posterior means μ(x) = E_q(z|x)[z]") + ", "
            + (latent == 1 ? "z[0] across (the model has one latent dimension; up and down only spreads the points)"
               : dims.map { "dimensions \($0.0) and \($0.1) of \(latent)" }
                ?? (latent == 2 ? "dimensions 0 and 1" : "projected onto the means' two principal axes (of \(latent) dimensions)"))
        // In characters without colour each point is its label's digit (the legend says so beyond 9).
        func scope(coloured: Bool) -> String {
            points + (labels == nil ? "; the data have no labels" + (coloured ? ": one colour" : "")
                      : coloured ? ", coloured by label" : ", each drawn as its label")
        }
        if let out {
            let image = try context.writePicture(scatter.image(), scale: scale, to: out)
            report.addText("wrote \(out) (\(image.width)×\(image.height) pixels, colour): \(scope(coloured: true))")
        } else {
            let text = scatter.text(colour: context.session.usesColor, columns: min(48, context.session.lineWidth - 8),
                                    lineWidth: context.session.lineWidth)
            report.addText(scope(coloured: context.session.usesColor) + ":")
            let image = scatter.image()
            report.addPicture(Picture(image: image, description: "\(scope(coloured: true)) (\(image.width)×\(image.height) pixels)", text: text))
        }
        // The numbers a script checks: how far the means spread, per axis and per dimension.
        let unit = "latent units"
        // Inside the circles: the points shown. For draws this tests the aggregate posterior
        // against the prior directly: if q(z) = E_x q(z|x) were N(0, I), the fractions would be
        // 1 − e^(−1/2) and 1 − e^(−2).
        let inside = { (radius: Double) in Double(zip(plotted.x, plotted.y).count { $0 * $0 + $1 * $1 <= radius * radius }) / Double(count) }
        let shown = drawn ? "draws" : "means"
        let standardDeviation = { (values: [Double]) -> Double in
            let mean = values.reduce(0, +) / Double(values.count)
            return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
        }
        let smallest = spread.standardDeviation.indices.min { spread.standardDeviation[$0] < spread.standardDeviation[$1] } ?? 0
        let largest = spread.standardDeviation.indices.max { spread.standardDeviation[$0] < spread.standardDeviation[$1] } ?? 0
        let offCenter = spread.center.indices.max { abs(spread.center[$0]) < abs(spread.center[$1]) } ?? 0
        report.add(Quantity("spread_x", label: "sd of the means along x, \(axisNames.0)", value: standardDeviation(means.x), unit: unit,
                            expectation: "the prior's is 1", decimals: 3))
        if latent > 1 {
            report.add(Quantity("spread_y", label: "sd of the means along y, \(axisNames.1)", value: standardDeviation(means.y), unit: unit, decimals: 3))
        }
        report.add(Quantity("spread_min", label: "smallest sd of μ_d over the examples (dimension \(smallest))",
                            value: spread.standardDeviation[smallest], unit: unit,
                            expectation: spread.standardDeviation[smallest] < 0.1 ? "< 0.1: that dimension has all but collapsed" : nil, decimals: 3))
        report.add(Quantity("spread_max", label: "largest sd of μ_d (dimension \(largest))", value: spread.standardDeviation[largest], unit: unit, decimals: 3))
        report.add(Quantity("center_max", label: "largest |mean of μ_d| (dimension \(offCenter))", value: abs(spread.center[offCenter]), unit: unit,
                            expectation: "0 when the means centre on the prior", decimals: 3))
        if latent > 1 {
            report.add(Quantity("inside_1sigma", label: "plotted \(shown) inside the 1σ circle", value: inside(1), unit: "fraction",
                                expectation: "0.393 for draws from the prior", decimals: 3))
            report.add(Quantity("inside_2sigma", label: "plotted \(shown) inside the 2σ circle", value: inside(2), unit: "fraction",
                                expectation: "0.865 for draws from the prior", decimals: 3))
        }
        for d in 0..<latent {
            report.add(Quantity("spread_\(d)", value: spread.standardDeviation[d], unit: unit).jsonOnly)
        }
        report.addField("split", .string(name))
        report.addField("examples", .int(count))
        report.addField("latent", .int(latent))
        report.addField("axes", .string(latent == 1 ? "dimension 0" : dims.map { "dimensions \($0.0),\($0.1)" } ?? "principal"))
        report.addField("plots", .string(drawn ? "draws" : "means"))
        report.addField("center", .array(spread.center.map { .number($0) }))
        report.addField("spread", .array(spread.standardDeviation.map { .number($0) }))
        report.addField("file", out.map { .string($0) } ?? .null)
        context.report(report)
    }

    private static func decodeManifold(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let scale = try context.pictureScale(out: out)
        let trainer = try context.requireTrainer()
        let model = trainer.model
        let latent = model.latentSize
        let n = try context.arguments.int("n")
        let spacing = try context.arguments.string("spacing")
        let range = try context.arguments.optionalDouble("range")
        if range != nil, spacing == "quantile" {
            throw context.failure(argument: "range", "range= sets the ends of a linear grid, and spacing=quantile has none: its ends are N(0, 1)'s quantiles",
                                  hint: "add spacing=linear, or leave out range=")
        }
        let dims = try chosenDimensions(context, latentSize: latent) ?? (0, latent > 1 ? 1 : 0)
        let shape = context.tileShape(model: model)
        let rows = latent == 1 ? 1 : n
        guard n * rows <= largestManifold / max(1, model.inputSize) else {
            throw context.failure(argument: "n", "a \(rows)×\(n) grid of \(Format.grouped(model.inputSize))-value pictures is "
                                  + "\(Format.grouped(n * rows * model.inputSize)) values, more than \(Format.grouped(largestManifold))",
                                  hint: "ask for a smaller n")
        }
        // The point the other dimensions stay at.
        var base = [Double](repeating: 0, count: latent)
        var baseText = "0 (the prior's mean)"
        if let index = try context.arguments.optionalInt("index") {
            guard latent > 2 else {
                throw context.failure(argument: "index", "index= sets the dimensions the grid does not vary, and a model with \(latent) latent dimension\(latent == 1 ? "" : "s") has none",
                                      hint: "leave out index=")
            }
            let dataset = try context.requireDataAndModel().0
            let name = try context.arguments.string("split")
            let split = try context.split(of: dataset, named: name)
            guard index < split.count else {
                throw context.failure(argument: "index", "index=\(index), but the \(name) split has \(Format.grouped(split.count)) examples (0…\(split.count - 1))")
            }
            base = model.latentCodes(split, indices: [index])?.mean(0) ?? base
            baseText = "the μ of \(name) example \(index)"
        } else if context.arguments.isGiven("split") {
            throw context.failure(argument: "split", "split= says where the index= example comes from, and no index= was given",
                                  hint: "add index=N, or leave out split=")
        }
        let values = spacing == "quantile" ? NormalQuantile.grid(count: n) : NormalQuantile.linear(count: n, range: range ?? 2)
        // Row 0 is the top of the picture: the largest value of dims.1.
        var tiles: [GreyImage?] = []
        var points: [[Double]] = []
        for row in 0..<rows {
            for column in 0..<n {
                var z = base
                z[dims.0] = values[column]
                if latent > 1 { z[dims.1] = values[n - 1 - row] }
                points.append(z)
            }
        }
        var done = 0
        while done < points.count {
            if context.isInterrupted { throw .interrupted(at: context.location) }
            let chunk = min(decodeChunk, points.count - done)
            let z = Matrix<Float>(rows: chunk, columns: latent)
            for r in 0..<chunk { for d in 0..<latent { z[r, d] = Float(points[done + r][d]) } }
            tiles += ImageGrid(model.decodeMean(z), tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
            done += chunk
        }
        let grid = ImageGrid(tileWidth: shape.width, tileHeight: shape.height, columns: n, tiles: tiles, padding: 0)
        let spacingText = spacing == "quantile" ? "N(0, 1)'s quantiles at (i + ½)/\(n)" : "evenly spaced"
        let across = "z[\(dims.0)] from \(Format.fixed(values[0], decimals: 2)) to \(Format.fixed(values[n - 1], decimals: 2)) left to right"
        let down = latent == 1 ? "" : ", z[\(dims.1)] the same from bottom to top"
        let description = "\(rows)×\(n) grid of decoded means of p(x|z): \(across)\(down) (\(spacingText))"
            + (latent <= 2 ? "" : "; the other \(latent - 2) dimension\(latent == 3 ? "" : "s") at \(baseText)")
        var report = Report(command: "manifold")
        let picture = ManifoldPicture(grid: grid, values: values, xTitle: "Z[\(dims.0)]", yTitle: latent == 1 ? nil : "Z[\(dims.1)]")
        if let out {
            let image = try context.writePicture(picture.image(), scale: scale, to: out)
            report.addText("wrote \(out) (\(image.width)×\(image.height) pixels): \(description)")
        } else {
            report.addText(description + ":")
            let image = grid.image()
            report.addPicture(Picture(image: image, description: "\(description) (\(image.width)×\(image.height) pixels)",
                                      text: picture.text(style: TerminalPicture.style(for: context.session), width: context.session.lineWidth)))
        }
        report.add(Quantity("z_low", label: "the grid's lowest z", value: values[0], unit: "latent units", decimals: 3))
        report.add(Quantity("z_high", label: "the grid's highest z", value: values[n - 1], unit: "latent units", decimals: 3))
        report.addField("n", .int(n))
        report.addField("dims", .array([.int(dims.0), .int(dims.1)]))
        report.addField("spacing", .string(spacing))
        report.addField("values", .array(values.map { .number($0) }))
        report.addField("file", out.map { .string($0) } ?? .null)
        context.report(report)
    }

    private static func interpolateExamples(_ context: CommandContext) throws(ScriptError) {
        let out = try context.pictureFile()
        let (dataset, trainer) = try context.requireDataAndModel()
        let model = trainer.model
        let name = try context.arguments.string("split")
        let split = try context.split(of: dataset, named: name)
        let from = try context.arguments.int("from"), to = try context.arguments.int("to")
        for (argument, index) in [("from", from), ("to", to)] where index >= split.count {
            throw context.failure(argument: argument, "\(argument)=\(index), but the \(name) split has \(Format.grouped(split.count)) examples (0…\(split.count - 1))")
        }
        let steps = try context.arguments.int("steps")
        let path = try context.arguments.string("path")
        guard let codes = model.latentCodes(split, indices: [from, to]) else { throw .interrupted(at: context.location) }
        let (a, b) = (codes.mean(0), codes.mean(1))
        let points = (0..<steps).map { step -> [Double] in
            let t = Double(step) / Double(steps - 1)
            return path == "slerp" ? LatentPath.slerp(a, b, t: t) : LatentPath.linear(a, b, t: t)
        }
        let z = Matrix<Float>(rows: steps, columns: model.latentSize)
        for (row, point) in points.enumerated() { for (d, value) in point.enumerated() { z[row, d] = Float(value) } }
        let x = Matrix<Float>(rows: 2, columns: model.inputSize)
        split.fillBatch([from, to], into: x, epoch: 0)
        let shape = (width: dataset.imageWidth, height: dataset.imageHeight)
        let originals = ImageGrid(x, tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
        let decoded = ImageGrid(model.decodeMean(z), tileWidth: shape.width, tileHeight: shape.height, columns: 1).tiles
        let grid = ImageGrid(tileWidth: shape.width, tileHeight: shape.height, columns: steps + 2, tiles: [originals[0]] + decoded + [originals[1]])
        let norm = { (v: [Double]) in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let distance = norm(zip(a, b).map { $1 - $0 })
        let smallest = points.map(norm).min() ?? 0
        let description = "\(name) examples \(from) (left) and \(to) (right), and between them \(steps) decoded means of p(x|z) along the "
            + (path == "slerp" ? "great circle (slerp)" : "straight line") + " from μ of \(from) to μ of \(to)"
        try context.show(grid, command: "interpolate", description: description, out: out) { report in
            report.add(Quantity("distance", label: "‖μ_b − μ_a‖", value: distance, unit: "latent units", decimals: 3))
            report.add(Quantity("smallest_norm", label: "smallest ‖z‖ along the path", value: smallest, unit: "latent units",
                                expectation: "ends: \(Format.fixed(norm(a), decimals: 3)) and \(Format.fixed(norm(b), decimals: 3))", decimals: 3))
            report.addField("from", .int(from))
            report.addField("to", .int(to))
            report.addField("split", .string(name))
            report.addField("path", .string(path))
        }
    }

    // MARK: - Shared

    /// dims=I,J checked against Z: two different dimensions in 0..<Z; nil when not given.
    private static func chosenDimensions(_ context: CommandContext, latentSize latent: Int) throws(ScriptError) -> (Int, Int)? {
        guard let dims = try context.arguments.optionalIntList("dims") else { return nil }
        let range = "0…\(latent - 1)"
        if latent == 1 {
            throw context.failure(argument: "dims", "the model has one latent dimension, so there are no two to choose",
                                  hint: "leave out dims=: \(context.spec.name) shows z[0] on its own")
        }
        guard dims.count == 2 else {
            throw context.failure(argument: "dims", "dims= takes two dimensions, not \(dims.count)", hint: "e.g. dims=0,1")
        }
        for value in dims where !(0..<latent).contains(value) {
            throw context.failure(argument: "dims", "dimension \(value) is out of range: the model has \(latent) latent dimensions (\(range))")
        }
        guard dims[0] != dims[1] else {
            throw context.failure(argument: "dims", "dims=\(dims[0]),\(dims[1]) names one dimension twice", hint: "choose two different dimensions")
        }
        return (dims[0], dims[1])
    }

    private static func percent(_ fraction: Double) -> String { "\(Int((100 * fraction).rounded()))%" }
}
