import StreamTagWire

extension SafeTensors {
    /// One tensor to write: its raw little-endian bytes must be `shape` × dtype size long.
    public struct Entry: Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var data: [UInt8]

        public init(name: String, dtype: String, shape: [Int], data: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }
    }

    /// Serialises tensors (data written in the order given) and optional `__metadata__`.
    ///
    /// The header's keys are sorted (so equal content gives equal bytes, hence equal SHA-256)
    /// and it is padded with spaces so the data section starts at a multiple of 8 bytes, as the
    /// safetensors format allows. Tensors follow each other without gaps: the format forbids
    /// holes in the data section, so individual tensors are not padded.
    public static func encode(_ entries: [Entry], metadata: [String: String]?) -> [UInt8] {
        var fields: [(key: String, json: String)] = []
        if let metadata {
            let members = metadata.keys.sorted(by: utf8Less).map { key in
                JSONWriter.quoted(key) + ":" + JSONWriter.quoted(metadata[key] ?? "")
            }
            fields.append(("__metadata__", "{" + members.joined(separator: ",") + "}"))
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            let json = "{\"data_offsets\":[\(offset),\(offset + e.data.count)],\"dtype\":\(JSONWriter.quoted(e.dtype)),\"shape\":[\(shape)]}"
            fields.append((e.name, json))
            offset += e.data.count
        }
        fields.sort { utf8Less($0.key, $1.key) }
        var header = Array(("{" + fields.map { JSONWriter.quoted($0.key) + ":" + $0.json }.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for e in entries { out.append(contentsOf: e.data) }
        return out
    }

    /// Byte-wise order, as Python's `json.dumps(sort_keys=True)` and Rust's BTreeMap use.
    private static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
