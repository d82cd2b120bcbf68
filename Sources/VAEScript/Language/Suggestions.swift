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
    /// Nor is a distance past `allowed` ever needed exactly (a prefix then scores `allowed`), so
    /// the table stops as soon as a whole row is past it.
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
        let query = Query(word)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            guard let score = query.score(candidate) else { continue }
            if best == nil || score < best?.distance ?? .max {
                best = (candidate, score)
            }
        }
        return best?.candidate
    }

    /// The rule above, given what was measured of the two words: the candidate's score, or nil
    /// when it does not qualify. `distance` is asked only when needed, with the most it matters up to.
    private static func score(length: Int, candidateLength: Int, loweredLengths: (Int, Int), isPrefix: Bool,
                              distance: (_ limit: Int) -> Int) -> Int? {
        let allowed = min(3, max(1, max(length, candidateLength) / 3))
        if abs(loweredLengths.0 - loweredLengths.1) > allowed {
            return isPrefix ? allowed : nil
        }
        let distance = distance(allowed)
        guard distance <= allowed || isPrefix else { return nil }
        return isPrefix ? min(distance, allowed) : distance
    }

    /// A word measured once for comparing it with many candidates. Words and candidates are most
    /// often plain ASCII (no `\r`, which pairs with `\n` into one character): then a character is a
    /// byte, lowercasing is per byte, and the measures are taken on the bytes in place.
    private struct Query {
        let word: String
        let lowered: String
        let length: Int
        let loweredLength: Int
        /// The lowered word's bytes when it is plain ASCII.
        let asciiLowered: [UInt8]?

        init(_ word: String) {
            self.word = word
            lowered = word.lowercased()
            length = word.count
            loweredLength = lowered.count
            var bytes = word
            asciiLowered = bytes.withUTF8(isPlainASCII) ? Array(lowered.utf8) : nil
        }

        func score(_ candidate: String) -> Int? {
            if let asciiLowered {
                var candidate = candidate
                let score = candidate.withUTF8 { bytes -> Int?? in
                    guard isPlainASCII(bytes) else { return .none }
                    return asciiLowered.withUnsafeBufferPointer { asciiScore(lowered: $0, candidate: bytes) }
                }
                if let score { return score }
            }
            let loweredCandidate = candidate.lowercased()
            return Suggestions.score(length: length, candidateLength: candidate.count,
                                     loweredLengths: (loweredLength, loweredCandidate.count),
                                     isPrefix: length >= 2 && loweredCandidate.hasPrefix(lowered),
                                     distance: { editDistance(lowered, loweredCandidate, limit: $0) })
        }

        private func asciiScore(lowered: UnsafeBufferPointer<UInt8>, candidate: UnsafeBufferPointer<UInt8>) -> Int? {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: candidate.count) { buffer in
                for index in candidate.indices {
                    let byte = candidate[index]
                    buffer.initializeElement(at: index, to: byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte)
                }
                let loweredCandidate = UnsafeBufferPointer(buffer)
                let isPrefix = lowered.count >= 2 && lowered.count <= candidate.count
                    && lowered.indices.allSatisfy { lowered[$0] == loweredCandidate[$0] }
                return Suggestions.score(length: lowered.count, candidateLength: candidate.count,
                                         loweredLengths: (lowered.count, candidate.count), isPrefix: isPrefix,
                                         distance: { alignmentDistance(lowered, loweredCandidate, limit: $0) })
            }
        }
    }

    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits of a substring),
    /// or some number above `limit` when the distance is.
    static func editDistance(_ a: String, _ b: String, limit: Int = .max) -> Int {
        var a = a, b = b
        if let distance = a.withUTF8({ a in
            b.withUTF8 { b in isPlainASCII(a) && isPlainASCII(b) ? alignmentDistance(a, b, limit: limit) : nil }
        }) {
            return distance
        }
        return Array(a).withUnsafeBufferPointer { a in
            Array(b).withUnsafeBufferPointer { b in alignmentDistance(a, b, limit: limit) }
        }
    }

    /// No `\r` and nothing above 0x7F: then every byte is a character, as Swift counts them.
    private static func isPlainASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\r") }
    }

    /// The table, three rows of it at a time, on the stack. No entry of a row is below the smallest
    /// of the row before (a swap costs 1, as the substitution two rows up would), so once a whole
    /// row is past `limit`, so is the answer.
    private static func alignmentDistance<A: RandomAccessCollection, B: RandomAccessCollection>(_ a: A, _ b: B, limit: Int) -> Int
    where A.Index == Int, B.Index == Int, A.Element: Equatable, A.Element == B.Element {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let (m, n) = (a.count, b.count)
        let width = n + 1
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * width) { rows in
            // Where each row starts in `rows`; they take turns.
            var (previousPrevious, previous, current) = (0, width, 2 * width)
            for j in 0..<width {
                rows[previousPrevious + j] = 0
                rows[previous + j] = j
            }
            for i in 1...m {
                rows[current] = i
                var rowMinimum = i
                let x = a[a.startIndex + i - 1]
                for j in 1...n {
                    let y = b[b.startIndex + j - 1]
                    var entry = min(rows[previous + j] + 1, rows[current + j - 1] + 1, rows[previous + j - 1] + (x == y ? 0 : 1))
                    if i > 1, j > 1, x == b[b.startIndex + j - 2], a[a.startIndex + i - 2] == y {
                        entry = min(entry, rows[previousPrevious + j - 2] + 1)
                    }
                    rows[current + j] = entry
                    rowMinimum = min(rowMinimum, entry)
                }
                if rowMinimum > limit { return rowMinimum }
                (previousPrevious, previous, current) = (previous, current, previousPrevious)
            }
            return rows[previous + n]
        }
    }
}
