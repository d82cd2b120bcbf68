/// "Did you mean": the closest candidate by edit distance, if it is close enough to be a typo, or
/// else the one candidate the word is a part of.
enum Suggestions {
    /// The best candidate for `word`, or nil. A candidate qualifies when its edit distance
    /// (insertions, deletions, substitutions and swaps of neighbours all cost 1) is at most a third
    /// of the longer word's length (at least 1, at most 3), or when `word` (2+ characters) starts it:
    /// `lrr` → `lr`, `trian` → `train`, `hist` → `history`. Ties go to the earlier candidate.
    ///
    /// The distance is at least the difference in length, so a word more than 3 characters
    /// longer or shorter than a candidate never needs the O(n·m) table: a 1 MB word costs one pass.
    static func closest(to word: String, in candidates: [String]) -> String? {
        closestSpelling(to: word, in: candidates) ?? namingPart(word, in: candidates)
    }

    /// The one candidate that has `word` as a part of its name (`sign` → `show-sign`, `units` →
    /// `active-units`): what someone who remembers one word of a command types. Nil when no
    /// candidate or several do.
    static func namingPart(_ word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        guard lowered.count >= 3 else { return nil }
        let matches = candidates.filter { candidate in
            candidate.lowercased().split(whereSeparator: { $0 == "-" || $0 == " " || $0 == "_" }).contains { $0 == lowered }
        }
        return matches.count == 1 ? matches[0] : nil
    }

    private static func closestSpelling(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let length = word.count
        let loweredLength = lowered.count
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let loweredCandidate = candidate.lowercased()
            let allowed = min(3, max(1, max(length, candidate.count) / 3))
            let isPrefix = length >= 2 && loweredCandidate.hasPrefix(lowered)
            let score: Int
            if abs(loweredLength - loweredCandidate.count) > allowed {
                guard isPrefix else { continue }
                score = allowed
            } else {
                let distance = editDistance(lowered, loweredCandidate)
                guard distance <= allowed || isPrefix else { continue }
                score = isPrefix ? min(distance, allowed) : distance
            }
            if best == nil || score < best?.distance ?? .max {
                best = (candidate, score)
            }
        }
        return best?.candidate
    }

    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits of a substring).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
