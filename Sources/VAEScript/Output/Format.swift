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

    /// "+1.234" / "-1.234" with three decimals.
    public static func signed(_ value: Double, decimals: Int = 3) -> String {
        (value > 0 ? "+" : "") + fixed(value, decimals: decimals)
    }
}
