import Foundation
import StreamTagWire

extension ModelFile {
    /// What a model file's header says, checked completely: everything but the tensors' values.
    /// A reader checks this before it reads the data section (see `ModelFileReader`).
    public struct Header: Sendable {
        public let file: SafeTensors.Header
        public let name: String
        public let config: ModelConfig
        public let vocabulary: [String]
        public let tags: [String]
        public let lexicon: Lexicon?
        /// The tensors the config defines, with their dtype as stored.
        let tensors: [(name: String, dtype: TensorDType)]
    }

    /// Parses and checks a model file's bytes. The checks, in order: safetensors structure
    /// (`SafeTensors`), metadata (`format`, `name`, `config`, `vocab`, `tags`, `training`),
    /// the config's own limits, that the file holds exactly the tensors the config defines,
    /// each with its dtype and shape, and finally that every value is finite.
    public static func decode(_ bytes: [UInt8]) throws(ModelError) -> ModelBundle {
        let file = try SafeTensors(parsing: bytes)
        let header = try decodeHeader(SafeTensors.Header(tensors: file.tensors, metadata: file.metadata,
                                                         dataLength: bytes.count - file.dataStart))
        return try decodeTensors(header, file)
    }

    /// Everything `decode` checks before it looks at a tensor's values: metadata, config, and
    /// each tensor's presence, dtype and shape.
    public static func decodeHeader(_ file: SafeTensors.Header) throws(ModelError) -> Header {
        guard let metadata = file.metadata else {
            throw ModelError(.badMetadata, "no __metadata__ (a streamtag model needs format, name, config, vocab, tags)")
        }
        func field(_ key: String) throws(ModelError) -> String {
            guard let value = metadata[key] else { throw ModelError(.badMetadata, "__metadata__ has no \(key)") }
            return value
        }
        let format = try field("format")
        guard format == Self.format else {
            throw ModelError(.badMetadata, "format is \(JSONWriter.quoted(format)), expected \"\(Self.format)\"")
        }
        let name = try field("name")
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ModelError(.badMetadata, "name must be non-empty text without control characters")
        }
        let config = try decodeConfig(try field("config"))
        let vocabulary = try stringArray("vocab", try field("vocab"))
        let tags = try stringArray("tags", try field("tags"))
        if let training = metadata["training"] {
            guard case .object? = try? JSONValue(parsing: Array(training.utf8)) else {
                throw ModelError(.badMetadata, "training is not a JSON object")
            }
        }
        var lexicon: Lexicon? = nil
        if let text = metadata["lexicon"] {
            guard case .object(let members)? = try? JSONValue(parsing: Array(text.utf8)) else {
                throw ModelError(.badMetadata, "lexicon is not a JSON object")
            }
            var entries: [String: UInt8] = [:]
            entries.reserveCapacity(members.count)
            for (word, value) in members {
                guard let n = value.exactInteger, (0..<Lexicon.classes).contains(n) else {
                    throw ModelError(.badMetadata, "lexicon entry \(JSONWriter.quoted(word)) must be an integer 0...\(Lexicon.classes - 1)")
                }
                entries[word] = UInt8(n)
            }
            lexicon = Lexicon(entries: entries)
        }
        guard !vocabulary.isEmpty else { throw ModelError(.badMetadata, "vocab is empty (index 0 must be the unknown word)") }
        guard !tags.isEmpty else { throw ModelError(.badMetadata, "tags is empty") }
        try checkNames(vocabulary: vocabulary, tags: tags)

        // config.validate() bounds every dimension, so the layout's sizes cannot overflow.
        let layout = TensorLayout(config: config, vocabularySize: vocabulary.count, tagCount: tags.count)
        let present = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var tensors: [(name: String, dtype: TensorDType)] = []
        for (tensorName, shape) in layout.shapes {
            guard let info = present[tensorName] else {
                throw ModelError(.missingTensor, "tensor \(tensorName) is missing (config: \(configJSON(config)))")
            }
            guard let dtype = TensorDType(rawValue: info.dtype) else {
                throw ModelError(.badDType, "tensor \(tensorName) has dtype \(info.dtype); streamtag reads F32, F16 and BF16")
            }
            guard info.shape == shape else {
                throw ModelError(.badShape, shapeMismatch(tensorName, info.shape, shape, config: config))
            }
            tensors.append((tensorName, dtype))
        }
        let defined = Set(tensors.map(\.name))
        if let extra = file.tensors.first(where: { !defined.contains($0.name) }) {
            throw ModelError(.unexpectedTensor, "unexpected tensor \(extra.name): the config defines no such tensor")
        }
        return Header(file: file, name: name, config: config, vocabulary: vocabulary, tags: tags, lexicon: lexicon,
                      tensors: tensors)
    }

    /// The tensors' values of a file whose header `decodeHeader` accepted, and the final checks
    /// (non-finite values).
    public static func decodeTensors(_ header: Header, _ file: SafeTensors) throws(ModelError) -> ModelBundle {
        var tensors: [String: [Float]] = [:]
        for (tensorName, dtype) in header.tensors {
            guard let info = file.tensor(named: tensorName) else {
                throw ModelError(.missingTensor, "tensor \(tensorName) is missing")
            }
            tensors[tensorName] = dtype.decode(file.data(of: info))
        }
        let weights = try Weights(config: header.config, tensors: tensors)
        let metadata = header.file.metadata ?? [:]
        let bundle = ModelBundle(name: header.name, config: header.config, vocabulary: header.vocabulary, tags: header.tags,
                                 weights: weights, created: metadata["created"], training: metadata["training"],
                                 lexicon: header.lexicon)
        try bundle.validate()  // duplicate tags, non-finite values
        return bundle
    }

    /// Tag names must be non-empty and distinct (a tag is a name on the wire); vocabulary
    /// words after the unknown word must be distinct (a duplicate row could never be looked up).
    static func checkNames(vocabulary: [String], tags: [String]) throws(ModelError) {
        if let i = tags.firstIndex(of: "") { throw ModelError(.badMetadata, "tags[\(i)] is empty; a tag needs a name") }
        var seenTags: [String: Int] = [:]
        for (i, tag) in tags.enumerated() {
            if let first = seenTags[tag] {
                throw ModelError(.badMetadata, "tags has duplicates: tags[\(i)] \(JSONWriter.quoted(tag)) repeats tags[\(first)]")
            }
            seenTags[tag] = i
        }
        var seenWords: [String: Int] = [:]
        seenWords.reserveCapacity(vocabulary.count)
        for (i, word) in vocabulary.enumerated().dropFirst() {
            if let first = seenWords[word] {
                throw ModelError(.badMetadata, "vocab has duplicates: vocab[\(i)] \(JSONWriter.quoted(word)) repeats vocab[\(first)]; every word needs one row")
            }
            seenWords[word] = i
        }
    }

    /// The `config` entry: a JSON object decoded with ModelConfig's Codable (unknown keys are
    /// ignored), then checked with `validate()`. An unknown feature kind is `unsupported_feature`.
    static func decodeConfig(_ text: String) throws(ModelError) -> ModelConfig {
        // The strict parser first: it refuses duplicate keys and deep nesting, which Foundation's
        // decoder would quietly accept.
        let json: JSONValue
        do { json = try JSONValue(parsing: Array(text.utf8)) } catch {
            throw ModelError(.badConfig, "config is not valid JSON: \(error.message)")
        }
        guard let members = json.members else { throw ModelError(.badConfig, "config is \(json.kindName), expected an object") }
        // Integers out of Int's range or with a fraction make Foundation's decoder fail with a
        // message that does not name the key: name it here.
        func requireInteger(_ value: JSONValue?, _ key: String) throws(ModelError) {
            if case .number(let number)? = value {
                throw ModelError(.badConfig, "\(key) must be an integer, got \(number)")
            }
        }
        for key in ["layers", "embedding_dim", "hidden_dim", "lookahead"] { try requireInteger(members[key], "config.\(key)") }
        if case .array(let features)? = members["features"] {
            for (i, feature) in features.enumerated() {
                guard let fields = feature.members else {
                    throw ModelError(.badConfig, "config.features[\(i)] is \(feature.kindName), expected an object")
                }
                for key in ["length", "buckets"] { try requireInteger(fields[key], "config.features[\(i)].\(key)") }
            }
        }
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8))
        } catch let error as ModelError {
            throw ModelError(error.code, "config: \(error.message)")
        } catch let error as DecodingError {
            throw ModelError(.badConfig, describe(error))
        } catch {
            throw ModelError(.badConfig, "config: \(error)")
        }
        try config.validate()
        return config
    }

    /// `vocab` or `tags`: a JSON array of strings.
    static func stringArray(_ key: String, _ text: String) throws(ModelError) -> [String] {
        let json: JSONValue
        do { json = try JSONValue(parsing: Array(text.utf8)) } catch {
            throw ModelError(.badMetadata, "\(key) is not valid JSON: \(error.message)")
        }
        guard case .array(let items) = json else { throw ModelError(.badMetadata, "\(key) is \(json.kindName), expected an array of strings") }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw ModelError(.badMetadata, "\(key)[\(i)] is \(item.kindName), expected a string") }
            out.append(s)
        }
        return out
    }

    /// "embedding.weight has 900 rows but vocab has 1000 words", or a generic comparison.
    static func shapeMismatch(_ name: String, _ actual: [Int], _ expected: [Int], config: ModelConfig) -> String {
        guard actual.count == expected.count else {
            return "\(name) has shape \(actual) (\(actual.count) dimensions), expected \(expected)"
        }
        guard let d = actual.indices.first(where: { actual[$0] != expected[$0] }) else { return "\(name) has shape \(actual)" }
        let unit = expected.count == 1 ? "entries" : (d == 0 ? "rows" : "columns")
        let G = config.cell.gates, H = config.hiddenDim
        let reason: String
        switch (name, d) {
        case ("embedding.weight", 0): reason = "vocab has \(expected[0]) words"
        case (_, 0) where name.hasPrefix("features."): reason = "its feature has \(expected[0]) buckets"
        case (_, 1) where name.hasPrefix("features.") || name == "embedding.weight" || name == "rnn.weight_ih_l0":
            reason = "config.embedding_dim is \(config.embeddingDim)"
        case (_, 0) where name.hasPrefix("rnn."):
            reason = "\(config.cell.rawValue) with hidden_dim \(H) needs \(G)·\(H) = \(G * H)"
        case (_, 1) where name.hasPrefix("rnn."): reason = "config.hidden_dim is \(H)"
        case (_, 0) where name.hasPrefix("head.") || name.hasPrefix("lookahead_heads."):
            reason = "tags has \(expected[0]) names"
        case (_, 1): reason = "it reads \(expected[1] / max(H, 1)) states of hidden_dim \(H) = \(expected[1])"
        default: reason = "expected \(expected)"
        }
        return "\(name) has \(actual[d]) \(unit) but \(reason) (shape \(actual), expected \(expected))"
    }

    /// "config.features[0].kind: ..." from a DecodingError's coding path.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            "config" + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined() + ": "
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context))missing key \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context))\(context.debugDescription)"
        @unknown default: return "config: \(error)"
        }
    }
}
