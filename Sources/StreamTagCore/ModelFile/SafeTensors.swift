import StreamTagWire

/// A parsed safetensors file: 8-byte little-endian header length N, N bytes of JSON header,
/// then the data section holding every tensor's raw bytes.
///
/// Parsing checks everything the format itself promises, whatever the tensors mean: the header
/// is a JSON object of well-formed entries, dtypes are known, shape × dtype size equals each
/// tensor's byte length, and the tensors tile the data section exactly (no overlap, no hole, no
/// trailing bytes). It never traps on bad input: sizes are checked for overflow, nothing is
/// force-unwrapped. What the tensors must be for a model is `ModelFile`'s business.
public struct SafeTensors: Sendable {
    /// One header entry. `offsets` are relative to the start of the data section.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        /// Safetensors dtype name as written (`F32`, `BF16`, `I64`, ...).
        public let dtype: String
        public let shape: [Int]
        public let offsets: Range<Int>
        /// Product of `shape` (1 for a scalar).
        public let elementCount: Int
    }

    /// Tensors in data order (ascending offsets).
    public let tensors: [TensorInfo]
    /// The `__metadata__` entry, or nil when the file has none.
    public let metadata: [String: String]?
    /// Where the data section starts in the bytes held (8 + N for a whole file, 0 when built
    /// from a parsed header and the data section alone).
    public let dataStart: Int
    private let bytes: [UInt8]
    private let index: [String: Int]

    /// Largest header accepted, as in the reference implementation: a bad length cannot make
    /// the reader allocate or scan gigabytes before failing.
    public static let maxHeaderBytes = 100_000_000

    /// What the header says, checked against the length of the data section it describes:
    /// everything the format promises except the tensors' bytes themselves.
    public struct Header: Sendable {
        /// Tensors in data order (ascending offsets).
        public let tensors: [TensorInfo]
        /// The `__metadata__` entry, or nil when the file has none.
        public let metadata: [String: String]?
        /// Length of the data section the tensors tile exactly.
        public let dataLength: Int
    }

    /// Parses and checks a whole file.
    public init(parsing bytes: [UInt8]) throws(ModelError) {
        let n = try Self.headerLength(prefix: bytes.prefix(8), fileSize: bytes.count)
        let headerEnd = 8 + n
        let header = try Self.parseHeader(bytes[8..<headerEnd], dataLength: bytes.count - headerEnd)
        self.init(header: header, bytes: bytes, dataStart: headerEnd)
    }

    /// A file whose header was parsed already (`parseHeader`) and whose data section is `data`
    /// (exactly `header.dataLength` bytes): what a reader that checks the header before reading
    /// the tensors builds.
    public init(header: Header, data: [UInt8]) throws(ModelError) {
        guard data.count == header.dataLength else {
            throw ModelError(.truncated, "the data section is \(data.count) bytes, the header describes \(header.dataLength)")
        }
        self.init(header: header, bytes: data, dataStart: 0)
    }

    private init(header: Header, bytes: [UInt8], dataStart: Int) {
        tensors = header.tensors
        metadata = header.metadata
        self.bytes = bytes
        self.dataStart = dataStart
        index = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// The header length N from the file's first 8 bytes, checked against the limit and the
    /// file's size before anything else is read: a bad length cannot make a reader allocate or
    /// read more than the file holds.
    public static func headerLength(prefix: some Collection<UInt8>, fileSize: Int) throws(ModelError) -> Int {
        guard prefix.count >= 8, fileSize >= 8 else {
            throw ModelError(.truncated, "file is \(min(fileSize, prefix.count)) bytes, shorter than the 8-byte header length")
        }
        var n: UInt64 = 0
        for byte in prefix.prefix(8).reversed() { n = n << 8 | UInt64(byte) }
        guard n <= UInt64(fileSize - 8) else {
            throw ModelError(.truncated, "header length \(n) runs past the end of the file (\(fileSize) bytes)")
        }
        guard n <= UInt64(Self.maxHeaderBytes) else {
            throw ModelError(.badHeader, "header length \(n) exceeds the limit of \(Self.maxHeaderBytes) bytes")
        }
        return Int(n)
    }

    /// Parses and checks the JSON header (the N bytes after the length) of a file whose data
    /// section is `dataLength` bytes: structure, dtypes, shapes, and that the tensors tile the
    /// data section exactly.
    public static func parseHeader(_ header: ArraySlice<UInt8>, dataLength: Int) throws(ModelError) -> Header {
        guard header.first == UInt8(ascii: "{") else {
            throw ModelError(.badHeader, "header does not start with '{' (not a safetensors file?)")
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: Array(header)) } catch {
            throw ModelError(.badJSON, "header is not valid JSON: \(error.message)")
        }
        guard let entries = json.members else { throw ModelError(.badHeader, "header is not a JSON object") }

        var metadata: [String: String]?
        var tensors: [TensorInfo] = []
        // Sorted names: the first problem reported does not depend on dictionary order.
        for name in entries.keys.sorted() {
            guard let entry = entries[name] else { continue }
            if name == "__metadata__" {
                metadata = try Self.metadata(entry)
            } else {
                tensors.append(try Self.tensor(name, entry, dataLength: dataLength))
            }
        }
        tensors.sort { ($0.offsets.lowerBound, $0.offsets.upperBound, $0.name) < ($1.offsets.lowerBound, $1.offsets.upperBound, $1.name) }
        try Self.checkTiling(tensors, dataLength: dataLength)
        return Header(tensors: tensors, metadata: metadata, dataLength: dataLength)
    }

    /// The entry for a tensor name, if the file has it.
    public func tensor(named name: String) -> TensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// A tensor's raw little-endian bytes.
    public func data(of tensor: TensorInfo) -> ArraySlice<UInt8> {
        bytes[(dataStart + tensor.offsets.lowerBound)..<(dataStart + tensor.offsets.upperBound)]
    }

    private static func metadata(_ entry: JSONValue) throws(ModelError) -> [String: String] {
        guard case .object(let members) = entry else {
            throw ModelError(.badMetadata, "__metadata__ is \(entry.kindName), expected an object of strings")
        }
        var out: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let s) = value else {
                throw ModelError(.badMetadata, "__metadata__.\(key) is \(value.kindName), expected a string")
            }
            out[key] = s
        }
        return out
    }

    private static func tensor(_ name: String, _ entry: JSONValue, dataLength: Int) throws(ModelError) -> TensorInfo {
        guard let fields = entry.members else {
            throw ModelError(.badHeader, "tensor \(name) is \(entry.kindName), expected an object with dtype, shape, data_offsets")
        }
        for key in fields.keys.sorted() where !["dtype", "shape", "data_offsets"].contains(key) {
            throw ModelError(.badHeader, "tensor \(name) has an unknown field \(JSONWriter.quoted(key))")
        }
        guard case .string(let dtype)? = fields["dtype"] else {
            throw ModelError(.badHeader, "tensor \(name): dtype is missing or not a string")
        }
        guard case .array(let dims)? = fields["shape"] else {
            throw ModelError(.badHeader, "tensor \(name): shape is missing or not an array")
        }
        guard case .array(let offsetValues)? = fields["data_offsets"], offsetValues.count == 2 else {
            throw ModelError(.badHeader, "tensor \(name): data_offsets is missing or not an array of two integers")
        }
        guard let size = TensorDType.safetensorsSizes[dtype] else {
            throw ModelError(.badDType, "tensor \(name) has unknown dtype \(JSONWriter.quoted(dtype))")
        }

        guard let begin = offsetValues[0].exactInteger, let end = offsetValues[1].exactInteger, begin >= 0, end >= 0 else {
            throw ModelError(.badOffsets, "tensor \(name): data_offsets must be two non-negative integers")
        }
        guard begin <= end else { throw ModelError(.badOffsets, "tensor \(name): data_offsets begin \(begin) > end \(end)") }
        guard end <= dataLength else {
            throw ModelError(.badOffsets, "tensor \(name): data_offsets end \(end) is past the data section (\(dataLength) bytes)")
        }

        var shape: [Int] = []
        var count = 1
        var overflow = false
        for dim in dims {
            guard let d = dim.exactInteger, d >= 0 else {
                throw ModelError(.badShape, "tensor \(name): shape holds \(Self.describe(dim)); dims must be non-negative integers")
            }
            shape.append(d)
            let (product, o) = count.multipliedReportingOverflow(by: d)
            count = product
            overflow = overflow || o
        }
        let (byteCount, o) = count.multipliedReportingOverflow(by: size)
        guard !overflow, !o, byteCount == end - begin else {
            let product = overflow || o ? "too many" : "\(byteCount)"
            throw ModelError(.badShape, "tensor \(name): shape \(shape) of \(dtype) needs \(product) bytes, data_offsets hold \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, offsets: begin..<end, elementCount: count)
    }

    /// The tensors (sorted by offset) must cover bytes 0..<dataLength exactly once.
    private static func checkTiling(_ tensors: [TensorInfo], dataLength: Int) throws(ModelError) {
        var covered = 0
        var previous: TensorInfo?
        for t in tensors {
            if t.offsets.lowerBound > covered {
                throw ModelError(.badOffsets, "bytes \(covered)..<\(t.offsets.lowerBound) of the data section are not covered by any tensor")
            }
            if t.offsets.lowerBound < covered, let p = previous {
                throw ModelError(.badOffsets, "tensors \(p.name) and \(t.name) overlap (\(p.offsets) and \(t.offsets))")
            }
            covered = t.offsets.upperBound
            previous = t
        }
        if covered < dataLength {
            throw ModelError(.badOffsets, "bytes \(covered)..<\(dataLength) of the data section are not covered by any tensor")
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .integer(let n): "\(n)"
        case .number(let d): d.isFinite ? "\(d)" : "a number too large for a dimension"
        default: value.kindName
        }
    }
}
