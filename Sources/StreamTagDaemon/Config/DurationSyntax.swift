/// Durations as the configuration writes them: a number of seconds (`600`, `0.5`) or numbers
/// with units `ms`, `s`, `m`, `h`, several of them in a row (`500ms`, `30s`, `10m`, `1h30m`).
enum DurationSyntax {
    /// Shown after a value that is not a duration.
    static let hint = "(use 600, \"10m\", \"30s\", \"500ms\")"

    private static let nanosecondsPerUnit: [(unit: String, ns: Int64)] = [
        ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
    ]

    /// Parses `text`; the problem names the value and the accepted forms.
    static func parse(_ text: String) throws(ValueProblem) -> Duration {
        let trimmed = text.trimmingSpaces
        guard let ns = nanoseconds(trimmed) else {
            if trimmed.hasPrefix("-"), nanoseconds(String(trimmed.dropFirst())) != nil {
                throw ValueProblem("\(text.quotedForMessage) is negative; a duration is 0 or more")
            }
            throw ValueProblem("\(text.quotedForMessage) is not a duration \(hint)")
        }
        return .nanoseconds(ns)
    }

    /// The shortest text that parses back to `duration`: `10m`, `90s`, `500ms`, `0`.
    static func format(_ duration: Duration) -> String {
        let ns = nanoseconds(of: duration)
        if ns == 0 { return "0" }
        for (unit, size) in nanosecondsPerUnit where ns % size == 0 {
            return "\(ns / size)\(unit)"
        }
        // Finer than a millisecond: seconds with nine decimals, which `parse` reads back.
        let fraction = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }

    /// Whole nanoseconds in `duration` (sub-nanosecond parts are dropped).
    static func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Nanoseconds for a non-negative duration text, or nil.
    private static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        // A bare number is seconds (YAML numbers and plain environment values).
        if rest.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            return scaled(rest, by: 1_000_000_000)
        }
        var total: Int64 = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard !number.isEmpty,
                  let size = nanosecondsPerUnit.first(where: { $0.unit == unit })?.ns,
                  let part = scaled(number, by: size)
            else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }

    /// `number × unit` for a decimal like `1.5`, exactly, or nil on bad syntax or overflow.
    private static func scaled(_ number: Substring, by unit: Int64) -> Int64? {
        // `number` holds only digits and dots here.
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let wholeText = parts[0], fractionText = parts.count == 2 ? parts[1] : ""
        guard !wholeText.isEmpty || !fractionText.isEmpty,
              let whole = wholeText.isEmpty ? 0 : Int64(wholeText)
        else { return nil }
        var (result, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        // Digits beyond a nanosecond are dropped rather than rejected.
        var scale = unit
        for digit in fractionText {
            guard let d = digit.wholeNumberValue else { return nil }
            scale /= 10
            (result, overflow) = result.addingReportingOverflow(Int64(d) * scale)
            guard !overflow else { return nil }
        }
        return result
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}

/// Seconds in a duration written as the configuration writes it (`600`, `500ms`, `1h30m`), or
/// nil: for command-line options whose value also goes into a daemon's config, so both read it alike.
package func durationSeconds(_ text: String) -> Double? {
    (try? DurationSyntax.parse(text)).map { Double(DurationSyntax.nanoseconds(of: $0)) / 1e9 }
}
