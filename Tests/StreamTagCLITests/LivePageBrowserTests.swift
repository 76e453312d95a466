import Foundation
import StreamTagTestSupport
import Testing

/// The live page in a real browser: `streamtag serve` with the WebSocket gateway, headless
/// Chromium loads `/?text=…&auto=1` (the page sends the text itself, one message per word, then
/// `end`), and the final tags in the DOM must be the tags `streamtag tag` gives the same text.
/// Needs Debian's `chromium` (`make deps` installs it).
@Suite(.serialized) struct LivePageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium)"))
    func pageShowsTheTagsOfStreamtagTag() throws {
        let text = "I booked a flight to Boston for next Tuesday , but the airline cancelled it ."
        let offline = try CLI.run(["tag"], stdin: text + "\n")
        #expect(offline.status == 0, "\(offline.stderr)")
        let expected = offline.stdout.split(separator: "\n").map { line in
            let cols = line.split(separator: "\t")
            return "\(cols[0])/\(cols[1])"
        }
        #expect(expected.count == 16)

        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ServeTests.Server(stateDir: dir, extra: ["--set", "websocket.listen=127.0.0.1:0"])
        defer { _ = server.terminate() }
        #expect(server.waitForLog("websocket gateway listening"))
        let line = try #require(server.log.split(separator: "\n").first { $0.contains("websocket gateway listening") })
        let address = ServeTests.Server.field("address", in: line)
        let query = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let url = "http://\(address)/?auto=1&stream=browser-test&text=\(query)"

        let dom = try Self.dumpDOM(url)
        #expect(dom.contains(#"data-done="1""#), "the page did not see the end event: \(dom.suffix(2000))")
        let shown = Self.finalTags(in: dom)
        #expect(shown == expected)
    }

    /// `chromium --headless --dump-dom`, given time for the page's WebSocket round trips.
    static func dumpDOM(_ url: String) throws -> String {
        let profile = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--user-data-dir=\(profile)", "--virtual-time-budget=10000", "--dump-dom", url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `token/TAG` of every final token span, in position order.
    static func finalTags(in dom: String) -> [String] {
        let span = try! NSRegularExpression(pattern: #"<span class="tok final"[^>]*>.*?<span class="w">([^<]*)</span>"#)
        let attr = try! NSRegularExpression(pattern: #"data-(i|tag)="([^"]*)""#)
        var found: [(Int, String)] = []
        let ns = dom as NSString
        for match in span.matches(in: dom, range: NSRange(location: 0, length: ns.length)) {
            let whole = ns.substring(with: match.range)
            let word = ns.substring(with: match.range(at: 1))
            var i = -1, tag = ""
            for a in attr.matches(in: whole, range: NSRange(location: 0, length: (whole as NSString).length)) {
                let name = (whole as NSString).substring(with: a.range(at: 1)), value = (whole as NSString).substring(with: a.range(at: 2))
                if name == "i" { i = Int(value) ?? -1 } else { tag = value }
            }
            found.append((i, "\(unescape(word))/\(tag)"))
        }
        return found.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func unescape(_ html: String) -> String {
        html.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
