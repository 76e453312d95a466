import Crypto
import Foundation
import StreamTagWire

/// Reads and writes model files: one safetensors file whose tensors carry PyTorch's names and
/// whose `__metadata__` holds the name, config, vocabulary and tags (`docs/model-format.md`).
///
/// `decode` checks everything (structure, dtypes, offsets, metadata, every shape against the
/// config, finite values) and reports the first problem as a `ModelError` naming the tensor or
/// key; it never traps, whatever the bytes.
public enum ModelFile {
    /// Value of the `format` metadata key this version reads and writes.
    public static let format = "streamtag/1"

    /// Hex SHA-256 of bytes (lowercase, 64 digits).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The file's bytes for a bundle: tensors in `TensorLayout.shapes` order as `dtype`
    /// (F32 by default; F16/BF16 round to nearest even), header keys sorted, so equal bundles
    /// give byte-identical files and therefore equal model ids.
    public static func encode(_ bundle: ModelBundle, dtype: TensorDType = .f32) -> [UInt8] {
        let shapes = Dictionary(bundle.layout.shapes.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let entries = bundle.weights.namedTensors(config: bundle.config).map { name, values in
            // A bundle whose tensor does not fit its layout is written as it is (flat), so that
            // loading it fails with a shape error naming the tensor rather than encode trapping.
            let shape = shapes[name].flatMap { $0.reduce(1, *) == values.count ? $0 : nil } ?? [values.count]
            return SafeTensors.Entry(name: name, dtype: dtype.rawValue, shape: shape, data: dtype.encode(values))
        }
        return SafeTensors.encode(entries, metadata: metadata(of: bundle))
    }

    /// Reads and checks a model file; also returns the hex SHA-256 of its bytes (the model id's
    /// hash). Only a regular file is read, its header is checked before its tensors, and it is
    /// read once (see `ModelFileReader`). I/O failures are `.io` errors naming the path and the
    /// system's reason.
    public static func read(path: String) throws(ModelError) -> (bundle: ModelBundle, sha256: String) {
        let loaded = try ModelFileReader(path: path).load()
        do {
            return (try loaded.bundle(), loaded.sha256)
        } catch {
            throw ModelError(error.code, "\(path): \(error.message)")
        }
    }

    /// Checks the bundle, then writes it atomically (see `AtomicFile.write`): a reader of `path`
    /// sees the old file or the new one, never part of one.
    public static func write(_ bundle: ModelBundle, to path: String, dtype: TensorDType = .f32) throws(ModelError) {
        try bundle.validate()
        do { try AtomicFile.write(encode(bundle, dtype: dtype), to: path) } catch { throw ModelError(.io, error.message) }
    }

    /// `__metadata__` for a bundle. `config` uses ModelConfig's Codable form (snake_case keys).
    static func metadata(of bundle: ModelBundle) -> [String: String] {
        var metadata = [
            "format": format,
            "name": bundle.name,
            "config": configJSON(bundle.config),
            "vocab": jsonArray(bundle.vocabulary),
            "tags": jsonArray(bundle.tags),
        ]
        if let created = bundle.created { metadata["created"] = created }
        if let training = bundle.training { metadata["training"] = training }
        if let lexicon = bundle.lexicon { metadata["lexicon"] = lexiconJSON(lexicon) }
        return metadata
    }

    static func configJSON(_ config: ModelConfig) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(config), as: UTF8.self)
        } catch {
            // Ints, Bools, Strings and enums of them always encode; this cannot happen.
            preconditionFailure("ModelConfig failed to encode: \(error)")
        }
    }

    /// `{"word": mask, ...}`, sorted by word so the same lexicon gives the same bytes.
    static func lexiconJSON(_ lexicon: Lexicon) -> String {
        "{" + lexicon.entries.sorted { $0.key < $1.key }.map { "\(JSONWriter.quoted($0.key)):\($0.value)" }
            .joined(separator: ",") + "}"
    }

    static func jsonArray(_ strings: [String]) -> String {
        "[" + strings.map(JSONWriter.quoted).joined(separator: ",") + "]"
    }
}

extension Model {
    /// Loads a model file (`ModelFile.read`): the model's id is `NAME@` + the first 12 hex
    /// digits of the file's SHA-256.
    public convenience init(path: String, precision: Model.Precision = .fp32) throws(ModelError) {
        let (bundle, sha256) = try ModelFile.read(path: path)
        try self.init(bundle: bundle, sha256: sha256, precision: precision)
    }
}
