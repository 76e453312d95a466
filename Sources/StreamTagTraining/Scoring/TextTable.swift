import Foundation

/// Internal: a fixed-width text table; the first `textColumns` columns (names) are
/// left-aligned, the others (numbers) right-aligned, columns two spaces apart.
struct TextTable {
    var header: [String]
    var textColumns: Int
    var rows: [[String]] = []

    init(_ header: [String], textColumns: Int = 1) {
        self.header = header
        self.textColumns = textColumns
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == header.count, "row width must match the header")
        rows.append(row)
    }

    /// The table, one line per row (plus the header and a rule), each line ending in `\n`.
    func render() -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (k, cell) in row.enumerated() { widths[k] = max(widths[k], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (k, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[k] - cell.count)
                if k > 0 { out += "  " }
                out += k < textColumns ? cell + pad : pad + cell
            }
            // Trailing spaces only appear when the last column is empty; trim them anyway.
            while out.last == " " { out.removeLast() }
            return out + "\n"
        }
        var out = line(header)
        out += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
        for row in rows { out += line(row) }
        return out
    }

    /// A fraction as a percentage with two decimals, the way conlleval prints it ("85.71").
    static func percent(_ value: Double) -> String {
        String(format: "%.2f", value * 100)
    }
}

/// Internal: precision/recall/F1 from counts, with 0 wherever a denominator is 0 (so a tag
/// never predicted has precision 0, as in conlleval and scikit-learn's default).
enum PRF {
    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    static func f1(_ precision: Double, _ recall: Double) -> Double {
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    /// Sorted-keys JSON of a report; pretty-printed unless `pretty` is false.
    static func json(_ value: some Encodable, pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        // Only finite doubles and strings are encoded, so encoding cannot fail.
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
