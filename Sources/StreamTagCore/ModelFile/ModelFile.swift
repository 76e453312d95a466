import Crypto
import Foundation

/// Reads and writes model files: safetensors with streamtag's metadata (SPEC §3).
public enum ModelFile {
    /// Hex SHA-256 of bytes.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Serialises a bundle (F32 tensors). TEMPORARY: full version with validation pending.
    public static func encode(_ bundle: ModelBundle) -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        var data: [UInt8] = []
        for (name, values) in bundle.weights.namedTensors(config: bundle.config) {
            let shape = bundle.layout.shapes.first { $0.name == name }!.shape
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + values.count * 4]]
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            offset += values.count * 4
        }
        let json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        out.append(contentsOf: json)
        out.append(contentsOf: data)
        return out
    }
}
