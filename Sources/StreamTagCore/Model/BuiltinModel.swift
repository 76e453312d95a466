import CStreamTagDefaultModel

/// The model built into the binary: UPOS tags for English, trained on UD English-EWT with
/// `streamtag train` (the README has the command). Used when no model file is given.
public enum BuiltinModel {
    /// The built-in model file's bytes.
    public static var bytes: [UInt8] {
        var length = 0
        guard let start = streamtag_default_model(&length), length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: length))
    }

    /// Loads the built-in model (validated like any model file).
    public static func load(precision: Model.Precision = .fp32) throws(ModelError) -> Model {
        let bytes = self.bytes
        guard !bytes.isEmpty else { throw ModelError(.io, "this build has no built-in model") }
        return try Model(bundle: try ModelFile.decode(bytes), sha256: ModelFile.sha256Hex(bytes), precision: precision)
    }
}
