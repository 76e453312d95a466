import Crypto
import Foundation
import Synchronization
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
import StreamTagWire

/// What `ModelFileReader` does with hostile paths and files: only regular files, the header
/// before the tensors, bounded reads, one pass, and files that change while read.
@Suite struct ModelFileReaderTests {
    private func load(_ path: String, timeLimit: Double? = nil) -> Result<ModelFileReader.Loaded, ModelError> {
        Result { () throws(ModelError) in try ModelFileReader(path: path, timeLimit: timeLimit).load() }
    }

    /// Bytes this process has read through read(2) and friends so far (`rchar`).
    private func bytesRead() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)))
    }

    @Test func readsOnceAndHashesTheWholeFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(sampleBundle(), to: path)
        let bytes = try AtomicFile.read(path: path)
        let loaded = try load(path).get()
        #expect(loaded.sha256 == ModelFile.sha256Hex(bytes))
        #expect(try loaded.bundle() == ModelFile.decode(bytes))
        #expect(loaded.identity.size == Int64(bytes.count))
    }

    /// A FIFO would block open(2) for ever without O_NONBLOCK: it is refused at once, by name.
    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        #expect(mkfifo(path, 0o644) == 0)
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<ModelFileReader.Loaded, ModelError>?>(nil)
        Thread { [self] in outcome.withLock { $0 = load(path) }; done.signal() }.start()
        guard done.wait(timeout: .now() + 5) == .success else {
            // Unblock the reader before failing, so the test process can exit.
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            Issue.record("reading a FIFO blocked")
            return
        }
        let error = try #require(outcome.withLock { $0 }.flatMap { if case .failure(let e) = $0 { e } else { nil } })
        #expect(error == ModelError(.io, "\(path) is a FIFO, not a regular file; a model must be a regular file"))
    }

    /// A symlink to /dev/zero used to grow the process without bound.
    @Test func deviceIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        let before = try bytesRead()
        guard case .failure(let error) = load(path) else { Issue.record("a device was read"); return }
        #expect(error.message == "\(path) is a character device, not a regular file; a model must be a regular file")
        #expect(try bytesRead() - before < 1 << 20)
    }

    /// A 3 GiB sparse file whose header is garbage: refused after 8 bytes, not read (twice).
    @Test func hugeSparseFileWithABadHeaderIsNotRead() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        #expect(FileManager.default.createFile(atPath: path, contents: Array("\u{10}\0\0\0\0\0\0\0not json!!!!!!!!".utf8).withUnsafeBytes { Data($0) }))
        #expect(truncate(path, 3 << 30) == 0)
        let before = try bytesRead()
        guard case .failure(let error) = load(path) else { Issue.record("accepted"); return }
        #expect(error.code == .badHeader)
        #expect(error.message.hasPrefix(path + ": "))
        #expect(try bytesRead() - before < 1 << 20, "only the header is read")
    }

    /// A valid model followed by 3 GiB of (sparse) zeros: the header does not describe them, so
    /// the file is refused before a tensor byte is read.
    @Test func fileLongerThanItsHeaderSaysIsRefusedBeforeTheTensors() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(sampleBundle(), to: path)
        #expect(truncate(path, 3 << 30) == 0)
        let before = try bytesRead()
        guard case .failure(let error) = load(path) else { Issue.record("accepted"); return }
        #expect(error.code == .badOffsets)
        #expect(error.message.contains("not covered by any tensor"))
        #expect(try bytesRead() - before < 1 << 20)
    }

    /// A valid header whose tensors (256 GiB here, in a sparse file) could never fit in memory:
    /// refused before anything is allocated or read.
    @Test func tensorsLargerThanMemoryAreRefusedBeforeAllocating() throws {
        let config = ModelConfig(cell: .rnnTanh, embeddingDim: 4096, hiddenDim: 1, features: [FeatureSpec(.shape, buckets: 1 << 24)])
        let layout = TensorLayout(config: config, vocabularySize: 1, tagCount: 1)
        var offset = 0
        var fields: [String] = []
        for (name, shape) in layout.shapes {
            let size = shape.reduce(1, *) * 4
            let dims = shape.map(String.init).joined(separator: ",")
            fields.append(JSONWriter.quoted(name) + #":{"data_offsets":[\#(offset),\#(offset + size)],"dtype":"F32","shape":[\#(dims)]}"#)
            offset += size
        }
        try #require(offset > ModelFileReader.physicalMemory / 2, "the machine has more memory than this test assumes")
        let metadata = ["format": ModelFile.format, "name": "huge", "config": ModelFile.configJSON(config),
                        "vocab": #"["<unk>"]"#, "tags": #"["A"]"#]
        fields.append(#""__metadata__":{"# + metadata.map { JSONWriter.quoted($0.key) + ":" + JSONWriter.quoted($0.value) }
            .joined(separator: ",") + "}")
        let header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try AtomicFile.write(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header, to: path)
        #expect(truncate(path, off_t(8 + header.count + offset)) == 0)
        let before = try bytesRead()
        guard case .failure(let error) = load(path) else { Issue.record("accepted"); return }
        #expect(error.message.contains("more than half of this machine's memory"), "\(error)")
        #expect(try bytesRead() - before < 1 << 20)
    }

    @Test func headerLengthPastTheLimitIsRefusedFirst() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        var bytes = [UInt8](repeating: 0, count: 8)
        let n = UInt64(SafeTensors.maxHeaderBytes + 1)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        try AtomicFile.write(bytes, to: path)
        #expect(truncate(path, Int(n) + 100) == 0)
        guard case .failure(let error) = load(path) else { Issue.record("accepted"); return }
        #expect(error.code == .badHeader)
        #expect(error.message.contains("exceeds the limit"))
    }

    /// A writer appending while the file is read: refused, never half-read.
    @Test func fileThatGrowsWhileReadIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(sampleBundle(), to: path)
        var reader = ModelFileReader(path: path)
        reader.afterReading = {
            let handle = FileHandle(forWritingAtPath: path)!
            handle.seekToEndOfFile()
            handle.write(Data([1, 2, 3]))
            try? handle.close()
        }
        #expect {
            try reader.load()
        } throws: { error in
            (error as? ModelError)?.message.contains("grew from") == true
        }
    }

    /// Rewritten in place with the same size while read: refused (the modification time moved).
    @Test func fileModifiedInPlaceWhileReadIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(sampleBundle(), to: path)
        var reader = ModelFileReader(path: path)
        reader.afterReading = {
            let handle = FileHandle(forWritingAtPath: path)!
            handle.seek(toFileOffset: 8)
            handle.write(Data("{".utf8))   // the same byte: only the modification time changes
            try? handle.close()
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, path, &times, 0)
        }
        #expect {
            try reader.load()
        } throws: { error in
            (error as? ModelError)?.message.contains("modified while being read") == true
        }
    }

    @Test func timeLimitStopsTheRead() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(sampleBundle(), to: path)
        guard case .failure(let error) = load(path, timeLimit: 1e-9) else { Issue.record("no time limit"); return }
        #expect(error.message.contains("timed out after"))
        #expect(try load(path, timeLimit: 60).get().header.name == "sample")
    }

    @Test func emptyTagNameAndDuplicateWordsAreRefused() throws {
        var bundle = sampleBundle()
        bundle.tags[1] = ""
        #expect {
            try ModelFile.decode(ModelFile.encode(bundle))
        } throws: { error in
            (error as? ModelError) == ModelError(.badMetadata, "tags[1] is empty; a tag needs a name")
        }
        bundle = sampleBundle()
        bundle.vocabulary[3] = bundle.vocabulary[1]
        #expect {
            try ModelFile.decode(ModelFile.encode(bundle))
        } throws: { error in
            let message = "vocab has duplicates: vocab[3] \(JSONWriter.quoted(bundle.vocabulary[1])) repeats vocab[1]; every word needs one row"
            return (error as? ModelError) == ModelError(.badMetadata, message)
        }
        // The built-in model passes.
        #expect(throws: Never.self) { try BuiltinModel.load() }
    }
}
