import Foundation

/// One line that shows how far a long command has got, redrawn in place.
///
/// Only on a terminal and never under `--json`: a pipe or a file gets the results alone. On a
/// terminal that understands escape sequences the line is cleared with `ESC [2K`; under
/// `TERM=dumb` it is overwritten with `\r` and blanks, so no escape sequence is ever sent there.
/// The line always fits the width: the bar shrinks first, then the optional fields go, the
/// last first. Work that ends within `delay` never shows a line, so quick commands do not flicker.
final class ProgressLine {
    private let session: Session
    private let enabled: Bool
    private let delay: Duration
    private let started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    /// Characters on screen now (0: nothing to clear).
    private var shown = 0

    init(session: Session, delay: Duration = .milliseconds(500)) {
        self.session = session
        self.delay = delay
        enabled = session.options.isTerminal && !session.settings.json
    }

    /// Seconds since the work started.
    var elapsed: Double { (ContinuousClock.now - started).seconds }

    /// Shows `fraction` (0…1) of the work done: `label ███░░░ 40%  ETA 12s  details…`. The ETA is
    /// the time so far scaled by what is left. Redrawn at most ten times a second.
    func update(_ label: String, fraction: Double, details: [String] = []) {
        guard enabled, ContinuousClock.now - started >= delay else { return }
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100), fraction < 1 { return }
        lastDraw = now
        let done = min(max(fraction, 0), 1)
        let remaining = done > 0 ? elapsed * (1 - done) / done : nil
        let eta = remaining.map { "ETA " + Self.duration($0) } ?? "ETA …"
        draw(label: label, fraction: done, counts: "\(Int((done * 100).rounded(.down)))%", eta: eta, details: details)
    }

    /// Shows a bar with its own counts (`23/469`) and ETA, for callers that know better (training).
    func draw(label: String, fraction: Double, counts: String, eta: String, details: [String]) {
        guard enabled else { return }
        let width = session.lineWidth - 1  // the last column would wrap on some terminals
        let fixed = [label, counts, eta]
        func line(bar: Int, details: [String]) -> String {
            let filled = Int((Double(bar) * min(max(fraction, 0), 1)).rounded(.down))
            let barText = String(repeating: "█", count: filled) + String(repeating: "░", count: bar - filled)
            return ([fixed[0], barText, fixed[1], fixed[2]] + details).joined(separator: "  ")
        }
        var kept = details
        var bar = 24
        var text = line(bar: bar, details: kept)
        while text.count > width {
            if bar > 8 {
                bar = max(8, bar - (text.count - width))
            } else if !kept.isEmpty {
                kept.removeLast()
            } else {
                break
            }
            text = line(bar: bar, details: kept)
        }
        if text.count > width { text = String(text.prefix(width)) }
        write(text)
    }

    /// Removes the line, leaving the cursor at the start of an empty line.
    func clear() {
        guard shown > 0 else { return }
        write("")
        shown = 0
    }

    private func write(_ text: String) {
        if session.usesEscapes {
            session.output.write("\r\u{1B}[2K" + text)
        } else {
            // No escapes: overwrite what was there with blanks, then go back.
            let blanks = String(repeating: " ", count: max(0, shown - text.count))
            session.output.write("\r" + text + blanks + (blanks.isEmpty ? "" : "\r" + text))
        }
        shown = text.count
    }

    /// `12s`, `3m 05s`, `1h 02m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "…" }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h \(String(format: "%02d", total % 3600 / 60))m"
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
