import Foundation
import VAEFormats
import VAEKit

/// What `whatis` prints: the model of the logged number, the symbols, the matching conventions
/// closest first (or the nearest three), and one JSON object with every candidate.
///
/// Every line is wrapped to the terminal's width (80 columns off a terminal), so the formula, the
/// value with its unit and direction, and the meaning of each candidate stay readable.
struct IdentificationReport {
    var identification: Identification
    var draws: ObjectiveDraws
    var setting: ConventionSetting
    /// "test split of mnist-subset: 2,000 examples, 2 draws of z each".
    var scope: String
    var splitName: String
    var splitSize: Int
    /// The number as typed: `0.1347`, or `loss*128` for an expression.
    var typed: String
    var width: Int

    /// How many candidates to show when none matches.
    static let nearestShown = 3

    func report() -> Report {
        var report = Report(command: "whatis")
        let number = identification.number, matches = identification.matches
        let shown = matches.isEmpty ? Array(identification.candidates.prefix(Self.nearestShown)) : matches
        let value = shownNumber
        let typedNumber = Double(typed) == number.value ? typed : "\(value) (= \(typed))"
        add(&report, "whatis \(typedNumber), on the \(scope)")
        add(&report, modelLine)
        add(&report, symbolsLine(for: shown.map(\.convention)))
        report.addText("")
        if matches.isEmpty {
            let within = identification.tolerance.map { "within ±\(Format.general($0))" }
                ?? "within \(Format.general(Identification.threshold)) standard errors"
            add(&report, "no convention matches \(value) \(within); the nearest \(Self.nearestShown):")
        } else {
            add(&report, matches.count == 1 ? "1 convention matches \(value):" : "\(matches.count) conventions match \(value), closest first:")
        }
        for (rank, candidate) in shown.enumerated() {
            for line in entry(rank + 1, candidate, isMatch: !matches.isEmpty) { report.addText(line) }
        }
        if matches.count > 1 {
            add(&report, "the number cannot tell these apart at this precision, so each is listed")
        }
        if matches.isEmpty { for hint in hints() { add(&report, hint) } }
        addFields(to: &report)
        return report
    }

    /// The number as typed when it is a literal, else eight significant digits of its value.
    private var shownNumber: String {
        Double(typed) == identification.number.value ? typed : String(format: "%.8g", identification.number.value)
    }

    private func add(_ report: inout Report, _ text: String) {
        for line in wrap(text) { report.addText(line) }
    }

    // MARK: - Lines

    /// The model of the logged number and what a match means.
    private var modelLine: String {
        let number = identification.number, whole = number.batch >= splitSize
        let source = whole
            ? "an average over the whole \(splitName) split, one draw of z each (batch= sets B)"
            : "one batch of B = \(Format.grouped(number.batch)) \(splitName) examples, one draw of z each (batch= sets B)"
        let noise = (whole ? ["the noise of z"] : ["the batch's sampling", "the noise of z"]) + ["this estimate"]
            + (number.rounding > 0 ? ["the last digit (±\(Format.general(number.rounding)))"] : []) + ["float32 round-off"]
        let match = identification.tolerance.map { "a match is within ±\(Format.general($0)) (tolerance=)" }
            ?? "a match is within \(Format.general(Identification.threshold)) standard errors of "
            + noise.dropLast().joined(separator: ", ") + " and " + (noise.last ?? "")
        return "model of the number: \(source); \(match)"
    }

    /// The symbols the shown formulas use.
    private func symbolsLine(for conventions: [Convention]) -> String {
        let d = Format.grouped(setting.dimension), z = Format.grouped(setting.latentSize)
        func uses(_ part: ObjectivePart) -> Bool { conventions.contains { ($0.weights[part] ?? 0) != 0 } }
        var parts: [String] = []
        if uses(.reconstruction) {
            parts.append(setting.likelihood == .bernoulli
                         ? "BCE = binary cross-entropy from logits, summed over the \(d) pixels (exact)"
                         : "−log p(x|z) = the \(setting.likelihood.summary) likelihood's, summed over the \(d) pixels")
        }
        if uses(.probabilityBCE) {
            let gap = draws.mean([.probabilityBCE: 1, .reconstruction: -1])
            parts.append("BCEp = F.binary_cross_entropy on float32 σ(logits), each log clamped at −100 "
                         + "(here BCEp − BCE = \(String(format: "%.2g", gap)) nats per example)")
        }
        if uses(.squaredError) { parts.append("SSE = Σ (x̂ − x)² over the \(d) pixels") }
        if uses(.kl) { parts.append("KL = KL(q(z|x) ‖ p(z)) summed over the \(z) latent dimensions") }
        return "symbols: " + parts.joined(separator: "; ")
    }

    /// One candidate: its name, the formula with value, unit, direction and distance, its meaning.
    private func entry(_ rank: Int, _ candidate: ConventionMatch, isMatch: Bool) -> [String] {
        let convention = candidate.convention
        let heading = isMatch ? "\(shownNumber) is \(convention.name)" : convention.name
        let decimals = Self.decimals(for: candidate.standardError)
        let direction = convention.higherIsBetter.map { $0 ? ", higher is better" : ", lower is better" } ?? ""
        // Rounded to one decimal; a distance that rounds to zero has no sign.
        let distance = !candidate.distance.isFinite ? (candidate.distance > 0 ? "+inf" : "-inf")
            : abs(candidate.distance) < 0.05 ? "0.0" : Format.signed(candidate.distance, decimals: 1)
        let valueLine = "\(convention.formula) = \(Format.fixed(candidate.value, decimals: decimals)) ± "
            + "\(Format.fixed(candidate.standardError, decimals: decimals)) \(convention.unit)\(direction); the number is \(distance) standard errors from it"
        return wrap("\(rank). \(heading)", indent: "   ") + wrap("   " + valueLine, indent: "   ") + wrap("   " + convention.meaning, indent: "   ")
    }

    /// What the nearest miss suggests trying: a β, a batch, or log p(x).
    private func hints() -> [String] {
        var lines: [String] = []
        let value = identification.number.value
        let rec = setting.likelihood == .bernoulli ? "BCE" : "−log p(x|z)"
        // β up to D covers the mean-reduced slip (β = D); a larger one explains nothing.
        if setting.beta == nil, let beta = identification.impliedBeta, beta > 0, beta <= Double(setting.dimension) {
            lines.append("as the β-weighted loss \(rec) + β·KL per example it would need β = \(Format.general(beta)): beta= tests a β")
        }
        if let batch = identification.impliedBatch, batch >= 2 {
            lines.append("as the loss summed over a batch it would need B = \(Format.general(batch)) examples: batch= tests a batch size")
        }
        let loss = draws.mean([.reconstruction: 1, .kl: 1])
        if value > 0 && value < loss {
            lines.append("a number below the loss may be −log p(x), the 'NLL' papers report, which is lower than the loss by the gap: 'logpx' estimates it")
        }
        return lines
    }

    /// Two significant digits of the standard error decide the decimals (0 to 8).
    static func decimals(for standardError: Double) -> Int {
        guard standardError > 0, standardError.isFinite else { return 4 }
        return max(0, min(8, 1 - Int(Foundation.floor(Foundation.log10(standardError)))))
    }

    // MARK: - JSON and variables

    private func addFields(to report: inout Report) {
        let number = identification.number
        report.addField("number", .number(number.value))
        report.addField("rounding", .number(number.rounding))
        report.addField("batch", .int(number.batch))
        report.addField("split", .string(splitName))
        report.addField("split_size", .int(splitSize))
        report.addField("examples", .int(draws.examples))
        report.addField("samples", .int(draws.samples))
        report.addField("tolerance", identification.tolerance.map { .number($0) } ?? .null)
        report.addField("threshold", .number(Identification.threshold))
        report.addField("matches", .array(identification.matches.map { .string($0.convention.id) }))
        report.addField("candidates", .array(identification.candidates.map { candidate in
            let convention = candidate.convention
            return .object([
                ("id", .string(convention.id)), ("name", .string(convention.name)), ("formula", .string(convention.formula)),
                ("meaning", .string(convention.meaning)), ("unit", .string(convention.unit)),
                ("higher_is_better", convention.higherIsBetter.map { .bool($0) } ?? .null),
                ("value", .number(candidate.value)), ("se", .number(candidate.standardError)),
                ("distance", .number(candidate.distance)), ("match", .bool(candidate.isMatch)),
            ])
        }))
        report.addField("implied_beta", identification.impliedBeta.map { .number($0) } ?? .null)
        report.addField("implied_batch", identification.impliedBatch.map { .number($0) } ?? .null)
        let best = identification.matches.first
        report.add(Quantity("whatis", value: best?.value ?? .nan, standardError: best?.standardError ?? .nan,
                            unit: best?.convention.unit ?? "").jsonOnly)
        report.add(Quantity("whatis_distance", value: best?.distance ?? .nan).jsonOnly)
        report.add(Quantity.count("whatis_matches", identification.matches.count).jsonOnly)
    }

    /// `match_ID` for every convention there is: its rank among the matches, 0 when it does not
    /// match or was not computed (so a stale rank never survives a later run).
    var matchRanks: [(name: String, rank: Int)] {
        let ranks = Dictionary(uniqueKeysWithValues: identification.matches.enumerated().map { ($1.convention.id, $0 + 1) })
        return Convention.allIdentifiers.map { ("match_" + $0, ranks[$0] ?? 0) }
    }

    // MARK: - Wrapping

    private func wrap(_ text: String, indent: String = "  ") -> [String] {
        Self.wrap(text, width: width, indent: indent)
    }

    /// `text` broken at blanks into lines of at most `width` characters (a longer word stays
    /// whole), the lines after the first starting with `indent`.
    static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        let lead = String(text.prefix { $0 == " " })
        var lines: [String] = []
        var line = lead, isEmpty = true
        for word in text.dropFirst(lead.count).split(separator: " ") {
            if isEmpty {
                line += word
                isEmpty = false
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = indent + word
            }
        }
        lines.append(line)
        return lines
    }
}
