import Foundation

/// The expectations written inside a golden script, and the check of a run against them.
///
/// A golden script is a `.vae` file that tests one behaviour. Comments in it say what the run must
/// print (Wren's `// expect:` convention), on their own line or after a command:
///
/// ```
/// echo "{1 + 2}"            # expect: 3
/// assert 1 > 2
/// # expect error: assertion failed: 1 > 2
/// ```
///
/// - `# expect: TEXT` — the next line of stdout is exactly TEXT. Stdout must have no other lines.
/// - `# expect line containing: TEXT` — some later line of stdout contains TEXT (in order). A
///   script with these is checked line by line for them instead of exactly: for engine commands,
///   whose numbers depend on the CPU's BLAS kernels, the numbers are checked with `assert`.
/// - `# expect error: TEXT` — the next diagnostic on stderr has exactly this headline
///   (`case.vae:3:1: error: …`, or the JSON line under `json`), or exactly this message (the part
///   after `error: `). Stderr must have no other diagnostics. A TEXT ending in `…` matches any
///   message that starts with the rest.
/// - `# expect hint: TEXT` — if present, the `hint:` lines of stderr are exactly these, in order.
/// - `# expect outcome: finished N | quit N | aborted` — how the run ended; without it,
///   `finished E` where E is the number of `# expect error:` lines.
/// - `# options: keep-going json echo interactive seed=N width=N` — how to run the script
///   (`width=N` lays the output out for N columns, as `vaesh --width N`; the default is 80, as
///   for any output that is not a terminal).
///
/// Files and directories whose name starts with `_` are helpers (e.g. sourced by a test), not tests.
public struct GoldenScript: Sendable {
    public var expectedOutput: [String] = []
    public var expectedFragments: [String] = []
    public var expectedErrors: [String] = []
    public var expectedHints: [String] = []
    public var expectedOutcome: String?
    public var options: [String] = []

    public init(parsing text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let value = Self.value(after: "# expect line containing: ", in: line) {
                expectedFragments.append(value)
            } else if let value = Self.value(after: "# expect: ", in: line) {
                expectedOutput.append(value)
            } else if let value = Self.value(after: "# expect error: ", in: line) {
                expectedErrors.append(value)
            } else if let value = Self.value(after: "# expect hint: ", in: line) {
                expectedHints.append(value)
            } else if let value = Self.value(after: "# expect outcome: ", in: line) {
                expectedOutcome = value
            } else if let value = Self.value(after: "# options: ", in: line) {
                options += value.split(separator: " ").map(String.init)
            }
        }
    }

    /// The outcome the run must have, as `finished N`, `quit N` or `aborted`.
    public var outcome: String { expectedOutcome ?? "finished \(expectedErrors.count)" }

    /// The value of `seed=N` in the options, if any.
    public var seed: UInt64? {
        options.lazy.compactMap { $0.hasPrefix("seed=") ? UInt64($0.dropFirst(5)) : nil }.first
    }

    /// The value of `width=N` in the options, if any.
    public var width: Int? {
        options.lazy.compactMap { $0.hasPrefix("width=") ? Int($0.dropFirst(6)) : nil }.first
    }

    /// Every difference between the run and the expectations, as readable lines; empty when it matches.
    public func mismatches(standardOutput: String, standardError: String, outcome actualOutcome: String) -> [String] {
        var problems: [String] = []
        let outputLines = Self.lines(standardOutput)
        if !expectedFragments.isEmpty {
            var remaining = outputLines[...]
            for fragment in expectedFragments {
                guard let index = remaining.firstIndex(where: { $0.contains(fragment) }) else {
                    problems.append("no line of stdout (after the previous match) contains: \(fragment)\nstdout:\n" + standardOutput)
                    break
                }
                remaining = remaining[(index + 1)...]
            }
        } else if outputLines != expectedOutput {
            problems.append("stdout differs:\n" + Self.diff(expected: expectedOutput, actual: outputLines))
        }
        let errorLines = Self.lines(standardError)
        let headlines = errorLines.filter(Self.isHeadline)
        let errorsMatch = headlines.count == expectedErrors.count
            && zip(headlines, expectedErrors).allSatisfy { headline, expected in
                headline == expected || Self.message(of: headline) == expected
                    || (expected.hasSuffix("…") && Self.message(of: headline).hasPrefix(expected.dropLast()))
            }
        if !errorsMatch {
            problems.append("errors differ:\n" + Self.diff(expected: expectedErrors, actual: headlines)
                            + "\nfull stderr:\n" + standardError)
        }
        if !expectedHints.isEmpty {
            let hints = errorLines.filter { $0.hasPrefix("hint: ") }.map { String($0.dropFirst(6)) }
            if hints != expectedHints {
                problems.append("hints differ:\n" + Self.diff(expected: expectedHints, actual: hints))
            }
        }
        if actualOutcome != outcome {
            problems.append("outcome: expected \(outcome), got \(actualOutcome)")
        }
        return problems
    }

    // MARK: - Pieces

    static func value(after marker: String, in line: Substring) -> String? {
        // `# expect:` at the very end expects an empty line (editors strip the trailing blank).
        if line.hasSuffix(marker.dropLast()) { return "" }
        guard let range = line.range(of: marker) else { return nil }
        return String(line[range.upperBound...])
    }

    static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The first line of a diagnostic: `file:1:2: error: …`, `error: …`, or a JSON error object.
    static func isHeadline(_ line: String) -> Bool {
        line.hasPrefix("error: ") || line.contains(": error: ") || line.hasPrefix("{\"error\":")
    }

    static func message(of headline: String) -> String {
        if headline.hasPrefix("error: ") { return String(headline.dropFirst(7)) }
        guard let range = headline.range(of: ": error: ") else { return headline }
        return String(headline[range.upperBound...])
    }

    static func diff(expected: [String], actual: [String]) -> String {
        var text = ""
        for index in 0..<max(expected.count, actual.count) {
            let want = index < expected.count ? expected[index] : "(nothing)"
            let got = index < actual.count ? actual[index] : "(nothing)"
            text += (want == got ? "  " : "✗ ") + "expected: \(want)\n" + (want == got ? "" : "  actual:   \(got)\n")
        }
        return text
    }
}
