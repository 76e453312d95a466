/// One pass over an input body: validates the whole text as strict JSON and, on the way, reads
/// the four known fields of the top-level object into a fixed shape. Field-rule violations are
/// recorded (not thrown) so that the rest of the text is still validated: invalid JSON anywhere
/// must win over a field problem (see `InputParser`).
///
/// One reader lives in each `InputParser` and is reused for every message, so its buffers keep
/// their capacity and nothing is moved or copied per message.
///
/// `@unchecked Sendable`: the only non-Sendable part is the body pointer, which is set by
/// `start(bytes:)` and cleared by `finish()` within a single `InputParser.parse` call.
struct BodyReader: @unchecked Sendable {
    /// Where a token's unescaped bytes are: in the body (no escapes) or in `arena`.
    struct TokenSpan {
        var start: Int
        var count: Int
        var inArena: Bool
    }

    private var scanner = JSONScanner(bytes: UnsafeBufferPointer(start: nil, count: 0))
    /// Unescaped bytes of the tokens that had escapes.
    private var arena: [UInt8] = []
    private var spans: [TokenSpan] = []
    /// Unknown top-level keys, only to refuse their duplicates.
    private var otherKeys = KeySet()

    private(set) var seq: UInt64?
    private(set) var seqProblem: SeqProblem?
    private(set) var tokensProblem: TokensProblem?
    private(set) var fieldProblem: String?
    private(set) var reset = false
    private(set) var end = false

    private enum Key: UInt8 {
        case seq = 1, tokens = 2, reset = 4, end = 8
    }

    /// Known keys seen so far, as a bit set of `Key` raw values.
    private var seen: UInt8 = 0

    /// Prepares to read `bytes`, forgetting the previous message (buffers keep their capacity).
    mutating func start(bytes: UnsafeBufferPointer<UInt8>) {
        scanner.bytes = bytes
        scanner.pos = 0
        arena.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        otherKeys.removeAll()
        seq = nil
        seqProblem = nil
        tokensProblem = nil
        fieldProblem = nil
        reset = false
        end = false
        seen = 0
    }

    /// Drops the body pointer once the message is done.
    mutating func finish() {
        scanner.bytes = UnsafeBufferPointer(start: nil, count: 0)
    }

    /// The accepted tokens as Strings (call only when no problem was recorded).
    func makeTokens() -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(spans.count)
        let body = scanner.bytes
        arena.withUnsafeBufferPointer { arena in
            for span in spans {
                let source = span.inArena ? arena : body
                let bytes = UnsafeBufferPointer(rebasing: source[span.start..<span.start + span.count])
                tokens.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        return tokens
    }

    // MARK: Top level

    /// Reads the whole body: one object, optional whitespace around it, nothing else.
    mutating func readObject() throws(JSONSyntaxError) {
        if scanner.bytes.isEmpty { throw scanner.fail(.empty) }
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else { throw scanner.unexpected(.object) }
        scanner.pos += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.pos += 1
        } else {
            try readMembers()
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.fail(.trailingData) }
    }

    private mutating func readMembers() throws(JSONSyntaxError) {
        while true {
            guard scanner.current == UInt8(ascii: "\"") else { throw scanner.unexpected(.key) }
            let keyStart = scanner.pos
            let keyString = try scanner.scanString()
            let key = classify(keyString)
            if let key {
                guard seen & key.rawValue == 0 else { throw scanner.fail(.duplicateKey("\(key)"), at: keyStart) }
                seen |= key.rawValue
            } else {
                try scanner.insertKey(keyString, into: &otherKeys, keyStart: keyStart)
            }
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), .colon)
            scanner.skipWhitespace()
            switch key {
            case .seq: try readSeq()
            case .tokens: try readTokens()
            case .reset: reset = try readBool(named: "reset")
            case .end: end = try readBool(named: "end")
            case nil: try scanner.skipValue(depth: 1)
            }
            scanner.skipWhitespace()
            switch scanner.current {
            case UInt8(ascii: ","):
                scanner.pos += 1
                scanner.skipWhitespace()
            case UInt8(ascii: "}"):
                scanner.pos += 1
                return
            default:
                throw scanner.unexpected(.commaOrObjectEnd)
            }
        }
    }

    private func classify(_ key: JSONScanner.ScannedString) -> Key? {
        // Length first: most keys are rejected (or matched) without comparing bytes.
        let length = key.escaped ? scanner.scratch.count : key.end - key.start
        switch length {
        case 3:
            if scanner.contents(key, equal: "seq") { return .seq }
            if scanner.contents(key, equal: "end") { return .end }
        case 5:
            if scanner.contents(key, equal: "reset") { return .reset }
        case 6:
            if scanner.contents(key, equal: "tokens") { return .tokens }
        default:
            break
        }
        return nil
    }

    // MARK: Fields

    private mutating func readSeq() throws(JSONSyntaxError) {
        let first = scanner.current
        guard first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 else {
            try scanner.skipValue(depth: 1)
            seqProblem = .wrongKind(jsonKindName(startingWith: first))
            return
        }
        let number = try scanner.scanNumber()
        // A number glued to more characters (`0x10`, `7abc`, `1_000`) is not a seq at all: the
        // body is bad_json, and its error must not claim the seq it started with.
        let next = scanner.current
        if next &- UInt8(ascii: "0") < 10 || (next | 0x20) &- UInt8(ascii: "a") < 26 || next == UInt8(ascii: "_") || next == UInt8(ascii: ".") {
            return
        }
        let digits = UnsafeBufferPointer(rebasing: scanner.bytes[number.start..<number.end])
        guard number.isPlainUnsigned else {
            seqProblem = .notPlain(preview(digits))
            return
        }
        // 2^53−1 has 16 digits, so anything longer is too large and anything shorter fits UInt64.
        guard digits.count <= 16 else {
            seqProblem = .tooLarge(preview(digits))
            return
        }
        var value: UInt64 = 0
        for d in digits { value = value * 10 + UInt64(d &- UInt8(ascii: "0")) }
        guard value <= InputParser.maxSeq else {
            seqProblem = .tooLarge(preview(digits))
            return
        }
        seq = value
    }

    private mutating func readTokens() throws(JSONSyntaxError) {
        guard scanner.current == UInt8(ascii: "[") else {
            let kind = jsonKindName(startingWith: scanner.current)
            try scanner.skipValue(depth: 1)
            tokensProblem = .notArray(kind)
            return
        }
        // The array is at depth 2; its items may only be strings, but anything else is still
        // validated (and its nesting counted) so that invalid JSON is reported as such.
        scanner.pos += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "]") { scanner.pos += 1; return }
        var index = 0
        while true {
            if scanner.current == UInt8(ascii: "\"") {
                let token = try scanner.scanString()
                if tokensProblem == nil && index < InputParser.maxTokens { record(token, index: index) }
            } else {
                let kind = jsonKindName(startingWith: scanner.current)
                try scanner.skipValue(depth: 2)
                if tokensProblem == nil { tokensProblem = .notString(index: index, kind: kind) }
            }
            index += 1
            scanner.skipWhitespace()
            if scanner.current == UInt8(ascii: ",") {
                scanner.pos += 1
                scanner.skipWhitespace()
            } else if scanner.current == UInt8(ascii: "]") {
                scanner.pos += 1
                break
            } else {
                throw scanner.unexpected(.commaOrArrayEnd)
            }
        }
        if index > InputParser.maxTokens { tokensProblem = .tooMany(index) }
    }

    /// Checks one token's length and notes where its bytes are.
    private mutating func record(_ token: JSONScanner.ScannedString, index: Int) {
        let count = token.escaped ? scanner.scratch.count : token.end - token.start
        if count == 0 {
            tokensProblem = .empty(index: index)
        } else if count > InputParser.maxTokenBytes {
            tokensProblem = .tooLong(index: index, bytes: count)
        } else if token.escaped {
            spans.append(TokenSpan(start: arena.count, count: count, inArena: true))
            arena.append(contentsOf: scanner.scratch)
        } else {
            spans.append(TokenSpan(start: token.start, count: count, inArena: false))
        }
    }

    private mutating func readBool(named name: String) throws(JSONSyntaxError) -> Bool {
        let first = scanner.current
        if first == UInt8(ascii: "t") || first == UInt8(ascii: "f") {
            return try scanner.scanLiteral() == .true
        }
        try scanner.skipValue(depth: 1)
        if fieldProblem == nil { fieldProblem = "\(name) must be a boolean, found \(jsonKindName(startingWith: first))" }
        return false
    }
}
