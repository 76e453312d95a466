import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a raw loopback socket (keep-alive, Content-Length bodies),
/// so that tests and the scrape timing go through real TCP without Foundation's URL stack.
final class HTTPTestClient {
    struct Response {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, timeout: Double = 10) throws {
        fd = try Self.connectLoopback(port: port)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A TCP socket connected to 127.0.0.1:`port`.
    static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        return fd
    }

    deinit { Glibc.close(fd) }

    /// Sends one request and reads its response.
    func request(_ method: String = "GET", _ path: String, keepAlive: Bool = true) throws -> Response {
        let text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(keepAlive ? "" : "Connection: close\r\n")\r\n"
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
        // Head.
        var headEnd: Int? = nil
        while true {
            if let end = Self.find([13, 10, 13, 10], in: pending) { headEnd = end; break }
            try fill()
        }
        let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
        pending.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line in \(head)") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        while pending.count < length { try fill() }
        let body = Array(pending[..<length])
        pending.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: errno \(errno)") }
        pending.append(contentsOf: chunk[..<n])
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    /// One request on a fresh connection.
    static func get(port: Int, _ path: String, method: String = "GET") throws -> Response {
        try HTTPTestClient(port: port).request(method, path, keepAlive: false)
    }
}

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

/// The helpers check themselves: a parser that accepted anything would make every metrics
/// assertion meaningless.
@Suite struct MetricsSupportTests {
    @Test func expositionParserAcceptsTheFormatAndRejectsBrokenText() throws {
        let good = """
            # HELP a_total Things.
            # TYPE a_total counter
            a_total{code="x",other="q\\"uote"} 3
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 0.75
            h_count 2
            # TYPE g gauge
            g 1.5e3

            """
        let e = try Exposition(good)
        #expect(e.value("a_total", ["code": "x", "other": "q\"uote"]) == 3)
        #expect(e.value("h_bucket", ["le": "+Inf"]) == 2)
        #expect(e.value("h_count") == 2)
        #expect(e.value("g") == 1500)
        #expect(e.types["h"] == "histogram")
        for bad in ["x 1\n", "# TYPE x counter\nx\n", "# TYPE x counter\nx{a=1} 2\n", "# TYPE x counter\nx one\n",
                    "# TYPE x gauge\nx_count 1\n", "# TYPE x counter\n# TYPE x counter\n"] {
            #expect(throws: Exposition.Failure.self, "\(bad)") { try Exposition(bad) }
        }
    }
}
