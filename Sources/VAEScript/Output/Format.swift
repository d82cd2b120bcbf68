import Foundation

/// How numbers are printed, in one place so that every command prints them alike.
public enum Format {
    /// Six significant digits (`%g`); integers without a decimal point; `nan`, `inf`, `-inf`.
    public static func general(_ value: Double) -> String {
        if let special = nonFinite(value) { return special }
        if let integer = integerText(value) { return integer }
        return String(format: "%g", value)
    }

    /// The shortest text that reads back as exactly `value`: `0.1`, `1e-05`, `25.123456789`.
    public static func exact(_ value: Double) -> String {
        if let special = nonFinite(value) { return special }
        if let integer = integerText(value) { return integer }
        return "\(value)"
    }

    /// A fixed number of decimals: `fixed(25.1234, decimals: 2)` is `25.12`.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        if let special = nonFinite(value) { return special }
        // A diverged model's loss (1e30 after `step lr=1e6`) would be 31 digits wide and break every
        // table it is in: from a billion on, scientific notation, as `train` prints it.
        if abs(value) >= 1e9 { return String(format: "%.3e", value) }
        return String(format: "%.\(max(0, min(decimals, 17)))f", value)
    }

    private static func nonFinite(_ value: Double) -> String? {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return nil
    }

    private static func integerText(_ value: Double) -> String? {
        guard value == value.rounded(), abs(value) < 1e15 else { return nil }
        return String(Int(value))
    }

    /// "1 epoch", "0 epochs", "10,000 steps": a count and its noun, singular for exactly one.
    public static func count(_ value: Int, _ noun: String) -> String {
        "\(grouped(value)) \(noun)\(value == 1 ? "" : "s")"
    }

    /// 60000 → "60,000".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    /// A standard error with `decimals`, or with as many more (up to 6) as its first significant
    /// digit needs: a small but real error reads `0.004`, not `0.00`, which would claim none.
    public static func standardError(_ value: Double, decimals: Int) -> String {
        guard value.isFinite, value > 0 else { return fixed(value, decimals: decimals) }
        let needed = Int((-Foundation.log10(value)).rounded(.up))
        return fixed(value, decimals: max(decimals, min(6, needed)))
    }

    /// "+1.234" / "-1.234" with three decimals.
    public static func signed(_ value: Double, decimals: Int = 3) -> String {
        (value > 0 ? "+" : "") + fixed(value, decimals: decimals)
    }
}
