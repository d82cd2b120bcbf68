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
        /// Only for humans; wrapped at blanks to the width of the output.
        case text(String)
        /// Only for humans: prose the user wrote (`echo`), wrapped at blanks like a paragraph,
        /// its continuation lines not indented.
        case paragraph(String)
        /// Only for humans: laid out already (a picture, a chart), never wrapped.
        case preformatted(String)
        /// Only for humans.
        case table(TextTable)
        /// Only for humans: in characters on a terminal, as pixels in a notebook (`OutputSink.show`).
        case picture(Picture)
    }

    /// What humans see, in order: text (quantities gathered into aligned tables) and pictures.
    public enum HumanPart: Sendable {
        case text(String)
        case picture(Picture)
    }

    /// The `command` key of the JSON object.
    public var command: String
    public private(set) var items: [Item] = []
    /// What the quantities depend on: the variables they set go stale when it changes.
    public var dependency: Dependency = .modelAndData
    /// What "±" means for these numbers, e.g. "± is one standard error over the 2,000 examples
    /// (1 draw of z each)": printed under the first block of quantities that shows one.
    public var standardErrorNote: String?

    public init(command: String) {
        self.command = command
    }

    public mutating func add(_ quantity: Quantity) { items.append(.quantity(quantity)) }
    public mutating func addField(_ key: String, _ value: JSONValue) { items.append(.field(key, value)) }
    public mutating func addText(_ line: String) { items.append(.text(line)) }
    public mutating func addParagraph(_ text: String) { items.append(.paragraph(text)) }
    public mutating func addPreformatted(_ text: String) { items.append(.preformatted(text)) }
    public mutating func addTable(_ table: TextTable) { items.append(.table(table)) }
    public mutating func addPicture(_ picture: Picture) { items.append(.picture(picture)) }

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

    /// Human text ending with a newline (empty if there is nothing for humans), laid out for
    /// `width` columns (text wrapped at blanks, tables shortened: see `TextTable`), pictures drawn
    /// in characters. Consecutive quantities form one aligned table:
    /// `KL(q‖p) = 25.12 ± 0.31 nats/example  ≥ 0, lower is better`.
    public func humanText(width: Int = TextLayout.unlimited) -> String {
        humanParts(width: width).map { part in
            switch part {
            case .text(let text): text
            case .picture(let picture): picture.text
            }
        }.joined()
    }

    /// The human text, laid out as `humanText(width:)` lays it out, cut at each picture; no text
    /// part is empty.
    public func humanParts(width: Int = TextLayout.unlimited) -> [HumanPart] {
        var parts: [HumanPart] = []
        var text = ""
        var pending: [Quantity] = []
        var notedStandardErrors = false
        func flushQuantities() {
            guard !pending.isEmpty else { return }
            text += Report.renderQuantities(pending, width: width)
            if !notedStandardErrors, let note = standardErrorNote, pending.contains(where: { ($0.standardError ?? 0) != 0 }) {
                text += TextLayout.wrapLines(note + "\n", width: width)
                notedStandardErrors = true
            }
            pending.removeAll()
        }
        for item in items {
            switch item {
            case .quantity(let quantity):
                if quantity.showsInText { pending.append(quantity) }
            case .text(let line):
                flushQuantities()
                text += TextLayout.wrapLines(line.hasSuffix("\n") ? line : line + "\n", width: width)
            case .paragraph(let prose):
                flushQuantities()
                text += TextLayout.wrapLines(prose.hasSuffix("\n") ? prose : prose + "\n", width: width, hangingIndent: 0)
            case .preformatted(let block):
                flushQuantities()
                text += block.hasSuffix("\n") ? block : block + "\n"
            case .table(let table):
                flushQuantities()
                text += table.render(width: width)
            case .picture(let picture):
                flushQuantities()
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                parts.append(.picture(picture))
            case .field:
                break
            }
        }
        flushQuantities()
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
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
            case .text, .paragraph, .preformatted, .table, .picture:
                break
            }
        }
        return JSONValue.object(members).rendered
    }

    /// The quantities as a table laid out for `width`: the notes (what to expect, which way is
    /// better) wrap in their column; when that would leave them narrower than 24 characters, each
    /// row's notes go on the line under it instead, so labels and numbers stay whole.
    private static func renderQuantities(_ quantities: [Quantity], width: Int) -> String {
        var table = quantityTable(quantities)
        table.wrappingColumns = [(table.rows.first?.count ?? 1) - 1]
        table.lastColumnMovesBelowUnder = 24
        return table.render(width: width)
    }

    /// `label = value ± se unit  expectation, preference`, one row per quantity.
    private static func quantityTable(_ quantities: [Quantity]) -> TextTable {
        // A standard error of exactly 0 (one example's closed-form KL) is an exact number: no ±.
        let hasErrors = quantities.contains { $0.standardError.map { $0 != 0 } ?? false }
        var table = TextTable(alignments: hasErrors ? [.left, .left, .right, .left, .left, .left] : [.left, .left, .right, .left, .left],
                              separator: " ")
        for quantity in quantities {
            var row = [quantity.label, "=", Format.fixed(quantity.value, decimals: quantity.decimals)]
            if hasErrors {
                row.append(quantity.standardError.flatMap { $0 == 0 ? nil : "± " + Format.standardError($0, decimals: quantity.decimals) } ?? "")
            }
            row.append(quantity.unit)
            let notes = [quantity.expectation, quantity.preference.text].compactMap { $0 }
            row.append(notes.isEmpty ? "" : " " + notes.joined(separator: ", "))
            table.append(row)
        }
        return table
    }
}
