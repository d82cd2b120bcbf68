import VAEFormats

/// A number a command reports, with everything a reader needs: what it is, its unit, what to
/// expect of it and whether larger is better.
public struct Quantity: Sendable {
    public enum Preference: Sendable {
        case higherIsBetter, lowerIsBetter, neither

        var text: String? {
            switch self {
            case .higherIsBetter: "higher is better"
            case .lowerIsBetter: "lower is better"
            case .neither: nil
            }
        }
    }

    /// The JSON key and the variable it sets: `kl`. Its standard error goes to `kl_se`.
    public var key: String
    /// How humans read it: `KL(q‖p)`.
    public var label: String
    public var value: Double
    public var standardError: Double?
    /// `nats/example`, `s`, or empty for a count.
    public var unit: String
    public var preference: Preference
    /// What the value must satisfy, shown next to it: `≥ 0`.
    public var expectation: String?
    /// Decimals in human output (JSON always has every digit).
    public var decimals: Int
    /// False for numbers that describe the report rather than a result (rarely needed).
    public var setsVariable: Bool
    /// False when the human text already shows the number another way (a table): it then only
    /// goes to JSON and the variables.
    public var showsInText = true

    /// This quantity for JSON and the variables only.
    public var jsonOnly: Quantity {
        var copy = self
        copy.showsInText = false
        return copy
    }

    public init(_ key: String, label: String? = nil, value: Double, standardError: Double? = nil, unit: String = "",
                preference: Preference = .neither, expectation: String? = nil, decimals: Int = 2, setsVariable: Bool = true) {
        self.key = key
        self.label = label ?? key
        self.value = value
        self.standardError = standardError
        self.unit = unit
        self.preference = preference
        self.expectation = expectation
        self.decimals = decimals
        self.setsVariable = setsVariable
    }

    /// A whole-number count such as `examples` or `epoch`: no decimals, no unit.
    public static func count(_ key: String, label: String? = nil, _ value: Int) -> Quantity {
        Quantity(key, label: label, value: Double(value), decimals: 0)
    }
}

/// What one command reports, built once and rendered either for humans (aligned text) or, under
/// `--json`, as exactly one JSON object on one line: `{"command":"kl","kl":25.1,"kl_se":0.3,…}`.
///
/// `CommandContext.report(_:)` prints it and sets a variable for every quantity, so a handler
/// never prints numbers by hand and `assert kl >= 0` always sees what was shown.
public struct Report: Sendable {
    public enum Item: Sendable {
        case quantity(Quantity)
        /// Only in JSON (e.g. `"split":"test"`).
        case field(String, JSONValue)
        /// Only for humans.
        case text(String)
        /// Only for humans.
        case table(TextTable)
    }

    /// The `command` key of the JSON object.
    public var command: String
    public private(set) var items: [Item] = []
    /// What the quantities depend on: the variables they set go stale when it changes.
    public var dependency: Dependency = .modelAndData

    public init(command: String) {
        self.command = command
    }

    public mutating func add(_ quantity: Quantity) { items.append(.quantity(quantity)) }
    public mutating func addField(_ key: String, _ value: JSONValue) { items.append(.field(key, value)) }
    public mutating func addText(_ line: String) { items.append(.text(line)) }
    public mutating func addTable(_ table: TextTable) { items.append(.table(table)) }

    /// A report that is one piece of text: the text for humans, `{"command":…,"text":…}` in JSON.
    public static func message(command: String, text: String) -> Report {
        var report = Report(command: command)
        report.addText(text)
        report.addField("text", .string(text))
        return report
    }

    public var quantities: [Quantity] {
        items.compactMap { if case .quantity(let quantity) = $0 { quantity } else { nil } }
    }

    /// Human text ending with a newline (empty if there is nothing for humans). Consecutive
    /// quantities form one aligned table:
    /// `KL(q‖p) = 25.12 ± 0.31 nats/example  ≥ 0, lower is better`.
    public var humanText: String {
        var text = ""
        var pending: [Quantity] = []
        func flushQuantities() {
            guard !pending.isEmpty else { return }
            text += Report.renderQuantities(pending)
            pending.removeAll()
        }
        for item in items {
            switch item {
            case .quantity(let quantity):
                if quantity.showsInText { pending.append(quantity) }
            case .text(let line):
                flushQuantities()
                text += line.hasSuffix("\n") ? line : line + "\n"
            case .table(let table):
                flushQuantities()
                text += table.render()
            case .field:
                break
            }
        }
        flushQuantities()
        return text
    }

    /// One line of JSON, without the newline.
    public var json: String {
        var members: [(String, JSONValue)] = [("command", .string(command))]
        for item in items {
            switch item {
            case .quantity(let quantity):
                members.append((quantity.key, .number(quantity.value)))
                if let error = quantity.standardError { members.append((quantity.key + "_se", .number(error))) }
            case .field(let key, let value):
                members.append((key, value))
            case .text, .table:
                break
            }
        }
        return JSONValue.object(members).rendered
    }

    private static func renderQuantities(_ quantities: [Quantity]) -> String {
        let hasErrors = quantities.contains { $0.standardError != nil }
        var table = TextTable(alignments: hasErrors ? [.left, .left, .right, .left, .left, .left] : [.left, .left, .right, .left, .left])
        for quantity in quantities {
            var row = [quantity.label, "=", Format.fixed(quantity.value, decimals: quantity.decimals)]
            if hasErrors {
                row.append(quantity.standardError.map { "± " + Format.fixed($0, decimals: quantity.decimals) } ?? "")
            }
            row.append(quantity.unit)
            let notes = [quantity.expectation, quantity.preference.text].compactMap { $0 }
            row.append(notes.isEmpty ? "" : " " + notes.joined(separator: ", "))
            table.append(row)
        }
        return table.render(separator: " ")
    }
}
