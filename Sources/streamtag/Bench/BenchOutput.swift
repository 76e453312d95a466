import Foundation

// Number formatting and summary figures shared by the benchmarks' tables and `--json` lines.

/// Rounds to three decimals (milliseconds of a second, thousandths of a core) for JSON.
func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Seconds as milliseconds for a table cell: 0.00123 → "1.23 ms", 0.25 → "250 ms".
func millisecondsText(_ seconds: Double) -> String {
    seconds >= 0.1 ? String(format: "%.0f ms", seconds * 1e3) : String(format: "%.2f ms", seconds * 1e3)
}

/// A setting as it was given, without a float's trailing ".0": 3.0 → "3", 0.5 → "0.5".
func wholeOrDecimalText(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

/// 12345.6 → "12,346".
func grouped(_ x: Double) -> String {
    let n = Int(x.rounded())
    let digits = String(abs(n))
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}


/// Summary figures of a list of numbers for `--json`: `count`, and when there is at least one
/// value, `min`, `median`, `mean` and `max` rounded to three decimals.
struct ValueSummary: Encodable {
    let count: Int
    let min: Double?
    let median: Double?
    let mean: Double?
    let max: Double?

    init(_ values: [Double]) {
        count = values.count
        let sorted = values.sorted()
        min = sorted.first.map(round3)
        // `streamtag.median`: the property of the same name hides the function here.
        median = values.isEmpty ? nil : round3(streamtag.median(values))
        mean = values.isEmpty ? nil : round3(values.reduce(0, +) / Double(values.count))
        max = sorted.last.map(round3)
    }
}
