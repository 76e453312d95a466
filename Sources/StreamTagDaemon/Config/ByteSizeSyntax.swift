/// Sizes in bytes as the configuration writes them: an integer (`65536`) or a number with a
/// unit, binary (`KiB`, `MiB`, `GiB`, `TiB`) or decimal (`KB`, `MB`, `GB`, `TB`), e.g. `64KiB`,
/// `1GiB`, `512MB`, `1.5GiB`. Units ignore case; `B` alone means bytes.
enum ByteSizeSyntax {
    /// Shown after a value that is not a size.
    static let hint = "(use 65536, \"64KiB\", \"1GiB\", \"512MB\")"

    private static let units: [String: Int] = [
        "b": 1,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
        "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
    ]

    /// Parses `text` into bytes; the problem names the value and the accepted forms.
    static func parse(_ text: String) throws(ValueProblem) -> Int {
        let trimmed = text.trimmingSpaces
        if trimmed.hasPrefix("-"), (try? parse(String(trimmed.dropFirst()))) != nil {
            throw ValueProblem("\(text.quotedForMessage) is negative; a size is 0 or more")
        }
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "_") }
        let unitText = trimmed.dropFirst(number.count).trimmingSpacesPrefix.lowercased()
        let digits = number.filter { $0 != "_" }
        guard let unit = unitText.isEmpty ? 1 : units[unitText], !digits.isEmpty,
              let bytes = exactBytes(digits, unit: unit)
        else {
            throw ValueProblem("\(text.quotedForMessage) is not a size \(hint)")
        }
        return bytes
    }

    /// The shortest exact text for `bytes`: `64KiB`, `1GiB`, or the plain number.
    static func format(_ bytes: Int) -> String {
        if bytes == 0 { return "0" }
        for (unit, size) in [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return String(bytes)
    }

    /// `digits × unit` when it is a whole number of bytes that fits an Int, else nil.
    private static func exactBytes(_ digits: String, unit: Int) -> Int? {
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, let whole = Int(parts[0]) else { return nil }
        var (result, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        guard parts.count == 2 else { return result }
        // A fraction must come out as whole bytes ("1.5KiB" yes, "1.3B" no).
        let fraction = parts[1]
        guard !fraction.isEmpty, fraction.count <= 18, let numerator = Int(fraction) else { return nil }
        var denominator = 1
        for _ in 0..<fraction.count { denominator *= 10 }
        let (scaled, overflow2) = numerator.multipliedReportingOverflow(by: unit)
        guard !overflow2, scaled % denominator == 0 else { return nil }
        (result, overflow) = result.addingReportingOverflow(scaled / denominator)
        return overflow ? nil : result
    }
}

extension StringProtocol {
    /// The text without leading spaces.
    var trimmingSpacesPrefix: SubSequence { drop { $0 == " " } }
}
