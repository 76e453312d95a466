import StreamTagCore
import Testing
@testable import StreamTagDaemon

/// Inputs the snapshot fuzz target (Fuzz/Sources/FuzzSnapshot) found, minimised: each must be
/// refused as damaged, never trap the daemon at start. (The target appends the checksum as
/// `SnapshotFile.seal` does, so that its inputs reach the reader's checks.)
@Suite struct SnapshotFuzzRegressionTests {
    /// A header length of 2^63 or more (found by FuzzSnapshot, 148 of 148 crashes in a 15-minute
    /// run): `Int(UInt64)` traps in `SnapshotFile.decode` before the length is compared with
    /// the file's size. Now every length field is read as a byte count the file can hold.
    @Test(arguments: [UInt64(1) << 63, UInt64.max])
    func hugeHeaderLengthIsDamageNotATrap(length: UInt64) {
        var body = SnapshotFile.magic
        withUnsafeBytes(of: length.littleEndian) { body.append(contentsOf: $0) }
        body += Array(#"{"format":"streamtag-snapshot/1"}"#.utf8)
        #expect(throws: SnapshotFile.Damage.self) { try SnapshotFile.decode(SnapshotFile.seal(body), limits: .serving(try! testModel(lookahead: 2))) }
    }
}
