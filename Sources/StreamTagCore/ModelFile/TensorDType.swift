import CStreamTagKernels

/// Element types streamtag reads and writes in a model file (safetensors dtype names).
/// Values are converted to and from `Float` on the way; F32 is the default and exact.
public enum TensorDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    /// IEEE half precision: ~3 significant decimal digits, range ±65504.
    case f16 = "F16"
    /// bfloat16: the upper half of an F32, ~2–3 significant digits, F32's range.
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }

    /// Every dtype of the safetensors format with its element size, so that a file holding
    /// tensors streamtag does not use still parses (and then fails with a clear message).
    static let safetensorsSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]

    /// Little-endian bytes of `values` in this dtype (rounding to nearest even for F16/BF16).
    public func encode(_ values: [Float]) -> [UInt8] {
        let n = values.count
        switch self {
        case .f32:
            #if _endian(little)
            // The file's byte order is the machine's: one copy.
            return values.withUnsafeBytes { Array($0) }
            #else
            var out = [UInt8]()
            out.reserveCapacity(n * 4)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            return out
            #endif
        case .f16, .bf16:
            var halves = [UInt16](repeating: 0, count: n)
            values.withUnsafeBufferPointer { src in
                halves.withUnsafeMutableBufferPointer { dst in
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    if self == .f16 { st_f32_to_f16(d, s, n) } else { st_f32_to_bf16(d, s, n) }
                }
            }
            var out = [UInt8]()
            out.reserveCapacity(n * 2)
            for h in halves { withUnsafeBytes(of: h.littleEndian) { out.append(contentsOf: $0) } }
            return out
        }
    }

    /// Floats from little-endian bytes of this dtype. `bytes.count` must be a multiple of `size`
    /// (the safetensors reader has checked that shape × size equals the byte length).
    public func decode(_ bytes: ArraySlice<UInt8>) -> [Float] {
        let n = bytes.count / size
        return bytes.withUnsafeBytes { raw -> [Float] in
            switch self {
            case .f32:
                #if _endian(little)
                return [Float](unsafeUninitializedCapacity: n) { dst, initialized in
                    if let d = dst.baseAddress, let s = raw.baseAddress { UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: n * 4) }
                    initialized = n
                }
                #else
                return (0..<n).map { i in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
                #endif
            case .f16, .bf16:
                let halves = (0..<n).map { i in
                    UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                }
                var out = [Float](repeating: 0, count: n)
                halves.withUnsafeBufferPointer { src in
                    out.withUnsafeMutableBufferPointer { dst in
                        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                        if self == .f16 { st_f16_to_f32(d, s, n) } else { st_bf16_to_f32(d, s, n) }
                    }
                }
                return out
            }
        }
    }
}
