// Containers that are validated but not kept: ignored fields of input messages, whose text
// must still be strict JSON (depth, duplicate keys, UTF-8) for the message to be accepted.
extension JSONScanner {
    /// Validates and skips any value at `pos`; `depth` is that of the enclosing container.
    mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        switch current {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"): try skipObject(depth: depth + 1)
        case UInt8(ascii: "["): try skipArray(depth: depth + 1)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): _ = try scanLiteral()
        default: throw unexpected(.value)
        }
    }

    /// Skips an object at `pos` that sits at nesting level `depth`, refusing duplicate keys.
    mutating func skipObject(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw fail(.tooDeep(limit: Self.maxDepth)) }
        pos += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return }
        var keys = KeySet()
        while true {
            guard current == UInt8(ascii: "\"") else { throw unexpected(.key) }
            let keyStart = pos
            // Scan first, then read: `insertKey(try scanString(), …)` would capture `self`
            // (and its scratch) before the scan mutates it.
            let scanned = try scanString()
            try insertKey(scanned, into: &keys, keyStart: keyStart)
            skipWhitespace()
            try expect(UInt8(ascii: ":"), .colon)
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if current == UInt8(ascii: "}") { pos += 1; return }
            throw unexpected(.commaOrObjectEnd)
        }
    }

    /// Skips an array at `pos` that sits at nesting level `depth`.
    mutating func skipArray(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw fail(.tooDeep(limit: Self.maxDepth)) }
        pos += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return }
        while true {
            try skipValue(depth: depth)
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if current == UInt8(ascii: "]") { pos += 1; return }
            throw unexpected(.commaOrArrayEnd)
        }
    }
}
