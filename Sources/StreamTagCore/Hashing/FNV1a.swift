/// FNV-1a, 64 bit, over bytes (UTF-8 for text). Feature buckets use it (part of the model
/// format: `docs/model-format.md#features`), and the daemon shards streams over its workers with
/// it, so it must never change.
///
/// `seed` continues a hash: `fnv1a64(b, seed: fnv1a64(a))` is the hash of `a` followed by `b`.
@inlinable
public func fnv1a64<S: Sequence<UInt8>>(_ bytes: S, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var hash = seed
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
