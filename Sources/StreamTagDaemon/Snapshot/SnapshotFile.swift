import Crypto
import Foundation
import StreamTagCore

/// The daemon's snapshot: every open stream and every end-grace tombstone, so that a restart
/// continues each stream exactly where it was.
///
/// File format (`streamtag-snapshot/2`, little-endian; `/1` is read too: its records have no
/// queued input):
///
///     8 bytes   magic "STSNAP\0\u{1}"
///     8 bytes   header length H
///     H bytes   header JSON: format, model (NAME@HASH of the serving model), sha256 (its
///               file's), created, streams (N), tombstones [{id, seq, age}]
///     N times   4-byte record length R, R bytes record JSON (id, seq, fed, previous_tag,
///               window, replay, idle, model = SHA-256 of the model the state belongs to,
///               state_floats = S, and with queued input: queued, ending, end_count),
///               S float32 state values
///     32 bytes  SHA-256 of everything before
///
/// Written atomically (temp file, fsync, rename); a file that fails any check of its framing is
/// damaged. Every record is then checked against the serving model (`SnapshotLimits`): a bad
/// record, or a second one with the same id, is left out (`dropped`), the rest restored.
struct SnapshotFile: Sendable, Equatable {
    static let magic: [UInt8] = Array("STSNAP".utf8) + [0, 1]

    var modelID: String
    var modelSHA256: String
    var streams: [StreamSnapshot]
    var tombstones: [TombstoneSnapshot]
    /// Records the reader left out, with the reason (empty for a file being written).
    var dropped: [DroppedRecord] = []

    static let format = "streamtag-snapshot/2"
    static let readable: Set<String> = ["streamtag-snapshot/1", format]

    struct Header: Codable {
        var format = SnapshotFile.format
        var model: String
        var sha256: String
        var created: String
        var streams: Int
        var tombstones: [TombstoneSnapshot]
    }

    /// Why a snapshot could not be read.
    struct Damage: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    func encode() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = Header(model: modelID, sha256: modelSHA256, created: ISO8601DateFormatter().string(from: Date()),
                            streams: streams.count, tombstones: tombstones)
        let headerBytes = try encoder.encode(header)
        var out = Self.magic
        appendInteger(&out, UInt64(headerBytes.count))
        out.append(contentsOf: headerBytes)
        for stream in streams {
            let json = try encoder.encode(stream)
            appendInteger(&out, UInt32(json.count))
            out.append(contentsOf: json)
            stream.state.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return Self.seal(out)
    }

    /// `body` with its SHA-256 appended: the file's last 32 bytes. (Tests and fuzzers build
    /// files with impossible values through it, so that the reader gets past the checksum.)
    static func seal(_ body: [UInt8]) -> [UInt8] {
        body + SHA256.hash(data: body)
    }

    /// Reads a snapshot and checks every record against `limits`.
    static func decode(_ bytes: [UInt8], limits: SnapshotLimits) throws(Damage) -> SnapshotFile {
        guard bytes.count >= magic.count + 8 + 32, Array(bytes[0..<magic.count]) == magic else {
            throw Damage(message: "not a streamtag snapshot (bad magic or too short)")
        }
        let body = bytes[0..<(bytes.count - 32)]
        guard Array(SHA256.hash(data: body)) == Array(bytes[(bytes.count - 32)...]) else {
            throw Damage(message: "checksum mismatch (the file is damaged or truncated)")
        }
        var reader = ByteReader(bytes: Array(body), offset: magic.count)
        let decoder = JSONDecoder()
        do {
            let headerLength = try reader.length(UInt64.self)
            let header = try decoder.decode(Header.self, from: Data(try reader.bytes(headerLength)))
            guard readable.contains(header.format) else { throw Damage(message: "unknown format \(header.format)") }
            guard header.streams >= 0 else { throw Damage(message: "impossible stream count in header") }
            var streams: [StreamSnapshot] = []
            var dropped: [DroppedRecord] = []
            var ids = Set<String>()
            for _ in 0..<header.streams {
                let length = try reader.length(UInt32.self)
                var record = try decoder.decode(StreamSnapshot.self, from: Data(try reader.bytes(length)))
                let raw = try reader.bytes(record.state.count * 4)
                var state = [Float](repeating: 0, count: record.state.count)
                state.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { dst.copyMemory(from: $0) } }
                record.state = state
                if let (reason, detail) = record.problem(limits) {
                    dropped.append(DroppedRecord(id: record.id, reason: reason, detail: detail))
                } else if !ids.insert(record.id).inserted {
                    dropped.append(DroppedRecord(id: record.id, reason: .duplicateID, detail: "a second stream record with this id"))
                } else {
                    streams.append(record)
                }
            }
            guard reader.atEnd else { throw Damage(message: "\(reader.remaining) bytes after the last stream") }
            var tombstones: [TombstoneSnapshot] = []
            for t in header.tombstones {
                if let (reason, detail) = t.problem() {
                    dropped.append(DroppedRecord(id: t.id, reason: reason, detail: "tombstone: " + detail))
                } else if !ids.insert(t.id).inserted {
                    dropped.append(DroppedRecord(id: t.id, reason: .duplicateID, detail: "tombstone for an id already restored"))
                } else {
                    tombstones.append(t)
                }
            }
            return SnapshotFile(modelID: header.model, modelSHA256: header.sha256, streams: streams,
                                tombstones: tombstones, dropped: dropped)
        } catch let damage as Damage {
            throw damage
        } catch {
            throw Damage(message: "unreadable record: \(error)")
        }
    }
}

private func appendInteger<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
}

/// Reads little-endian integers and byte runs, failing cleanly at the end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int) throws(SnapshotFile.Damage) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw SnapshotFile.Damage(message: "truncated at byte \(offset)") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// A length field: a little-endian `T` that must be a byte count this file can hold (a
    /// header length of 2^63 or more would trap as an `Int`).
    mutating func length<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(SnapshotFile.Damage) -> Int {
        let at = offset
        let value = try integer(T.self)
        guard let length = Int(exactly: value), length <= remaining else {
            throw SnapshotFile.Damage(message: "length \(value) at byte \(at) runs past the end of the file")
        }
        return length
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(SnapshotFile.Damage) -> T {
        let raw = try bytes(MemoryLayout<T>.size)
        var value: T = 0
        for (i, byte) in raw.enumerated() { value |= T(byte) << (8 * i) }
        return value
    }
}
