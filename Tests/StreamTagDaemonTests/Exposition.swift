import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Prometheus text exposition format (0.0.4), parsed strictly: every line is `# HELP`,
/// `# TYPE` or a sample `name{label="value",...} value`, and every sample belongs to a family
/// with a TYPE line.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]
    var helps: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count == 4 else { throw Failure(description: "bad comment: \(line)") }
                if parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw Failure(description: "bad type: \(line)")
                    }
                    guard types.updateValue(String(parts[3]), forKey: String(parts[2])) == nil else {
                        throw Failure(description: "second TYPE for \(parts[2])")
                    }
                } else {
                    helps[String(parts[2])] = String(parts[3])
                }
                continue
            }
            guard !line.hasPrefix("#") else { continue }
            samples.append(try Self.sample(String(line)))
        }
        for s in samples {
            let family = types[s.name] != nil ? s.name
                : ["_bucket", "_sum", "_count"].lazy.compactMap { s.name.hasSuffix($0) ? String(s.name.dropLast($0.count)) : nil }.first ?? s.name
            guard let type = types[family] else { throw Failure(description: "no TYPE for \(s.name)") }
            if family != s.name && type != "histogram" && type != "summary" {
                throw Failure(description: "\(s.name) under a \(type)")
            }
        }
    }

    private static func sample(_ line: String) throws -> Sample {
        let chars = Array(line.unicodeScalars)
        var i = 0
        func isNameChar(_ c: Unicode.Scalar, first: Bool) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" || (!first && ("0"..."9").contains(c))
        }
        var name = ""
        while i < chars.count, isNameChar(chars[i], first: name.isEmpty) { name.unicodeScalars.append(chars[i]); i += 1 }
        guard !name.isEmpty else { throw Failure(description: "no metric name: \(line)") }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while i < chars.count, chars[i] != "}" {
                var key = ""
                while i < chars.count, chars[i] != "=" { key.unicodeScalars.append(chars[i]); i += 1 }
                guard i + 1 < chars.count, chars[i + 1] == "\"" else { throw Failure(description: "bad label: \(line)") }
                i += 2
                var value = ""
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        value.unicodeScalars.append(chars[i] == "n" ? "\n" : chars[i])
                    } else {
                        value.unicodeScalars.append(chars[i])
                    }
                    i += 1
                }
                guard i < chars.count else { throw Failure(description: "unclosed label value: \(line)") }
                i += 1
                guard labels.updateValue(value, forKey: key) == nil else { throw Failure(description: "label twice: \(line)") }
                if i < chars.count, chars[i] == "," { i += 1 }
            }
            guard i < chars.count else { throw Failure(description: "unclosed labels: \(line)") }
            i += 1
        }
        guard i < chars.count, chars[i] == " " else { throw Failure(description: "no value: \(line)") }
        let rest = String(String.UnicodeScalarView(chars[(i + 1)...])).split(separator: " ")
        guard (1...2).contains(rest.count) else { throw Failure(description: "bad value: \(line)") }
        let text = String(rest[0])
        let value: Double? = text == "+Inf" ? .infinity : text == "-Inf" ? -.infinity : Double(text)
        guard let value else { throw Failure(description: "bad value \(text): \(line)") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The value of the sample with exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Every sample of a name.
    func all(_ name: String) -> [Sample] { samples.filter { $0.name == name } }
}
