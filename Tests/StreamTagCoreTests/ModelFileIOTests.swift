import Foundation
import Synchronization
import StreamTagTestSupport
import Testing
@testable import StreamTagCore

/// Reading and atomic writing of model files on disk.
@Suite struct ModelFileIOTests {
    private func ioError(_ path: String) -> ModelError? {
        do { _ = try ModelFile.read(path: path); return nil } catch { return error }
    }

    @Test func missingFile() {
        let path = "/nonexistent-\(getpid())/model.safetensors"
        #expect(ioError(path) == ModelError(.io, "cannot open \(path): No such file or directory"))
    }

    @Test func directory() {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ioError(dir) == ModelError(.io, "\(dir) is a directory, not a regular file; a model must be a regular file"))
    }

    @Test func pathThroughAFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write([1], to: dir + "/plain")
        #expect(ioError(dir + "/plain/model") == ModelError(.io, "cannot open \(dir)/plain/model: Not a directory"))
    }

    // Permission bits do not stop root (CI runs as root), but a read-only file system stops
    // everyone: /proc takes no new files.
    @Test func unwritableDirectoryIsAnIOErrorNamingThePath() throws {
        let path = "/proc/streamtag-test.safetensors"
        #expect(throws: ModelError.self) { try ModelFile.write(tinyBundle(), to: path) }
        do {
            try ModelFile.write(tinyBundle(), to: path)
        } catch {
            #expect(error.code == .io)
            #expect(error.message.contains(path) || error.message.contains("/proc"))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func emptyFileIsTruncatedNotIO() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write([], to: dir + "/empty")
        #expect(ioError(dir + "/empty")?.code == .truncated)
    }

    @Test func wholeFileReadsRefuseFIFOsDevicesAndFilesOverTheLimit() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A FIFO with no writer: refused at once, not waited on.
        #expect(mkfifo(dir + "/fifo", 0o644) == 0)
        #expect(throws: FileError(path: dir + "/fifo", problem: "is not a regular file (a FIFO, socket or device)")) {
            try AtomicFile.read(path: dir + "/fifo")
        }
        // /dev/zero never ends: refused before a byte is read.
        #expect(throws: FileError(path: "/dev/zero", problem: "is not a regular file (a FIFO, socket or device)")) {
            try AtomicFile.read(path: "/dev/zero")
        }
        try AtomicFile.write(Array(repeating: 7, count: 100), to: dir + "/big")
        #expect(throws: FileError(path: dir + "/big", problem: "is 100 bytes, more than the 99 this file may have")) {
            try AtomicFile.read(path: dir + "/big", limit: 99)
        }
        #expect(try AtomicFile.read(path: dir + "/big", limit: 100).count == 100)
    }

    @Test func writeReplacesAndLeavesNoTemporaryFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try ModelFile.write(tinyBundle(), to: path)
        try ModelFile.write(sampleBundle(), to: path, dtype: .bf16)
        #expect(try ModelFile.read(path: path).bundle.name == "sample")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
        // A relative path (no directory part) writes into the current directory's file system.
        #expect(AtomicFile.split("m.safetensors") == (".", "m.safetensors"))
        #expect(AtomicFile.split("/m") == ("/", "m"))
    }

    @Test func failedWriteRemovesItsTemporaryFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The target is a non-empty directory: rename fails after the data was written.
        try FileManager.default.createDirectory(atPath: dir + "/m/x", withIntermediateDirectories: true)
        #expect {
            try ModelFile.write(tinyBundle(), to: dir + "/m")
        } throws: { error in
            guard let error = error as? ModelError else { return false }
            return error.code == .io && error.message.contains("rename") && error.message.contains(dir + "/m")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m"])
        // No such directory: creating the temporary file fails.
        #expect(throws: ModelError.self) { try ModelFile.write(tinyBundle(), to: dir + "/missing/m") }
    }

    @Test func invalidBundleIsNotWritten() {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bundle = tinyBundle()
        bundle.weights.head.bias[0] = .nan
        #expect(throws: ModelError.self) { try ModelFile.write(bundle, to: dir + "/m") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/m"))
    }

    /// A reader polling the path while it is rewritten 50 times sees either no file yet (ENOENT,
    /// only before the first write) or a complete, valid model: never a partial file.
    @Test func concurrentReaderNeverSeesAPartialFile() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        // Two models of different sizes, so a torn read could not pass as either.
        let bundles = [sampleBundle(seed: 1), ModelBundle.random(name: "big", config: ModelConfig(embeddingDim: 64, hiddenDim: 64),
                                                                  vocabulary: (0..<500).map { "w\($0)" }, tags: ["A", "B"])]
        let names = Set(bundles.map(\.name))
        let shared = Shared()

        let reader = Thread {
            var seenFile = false
            while !shared.done.load(ordering: .acquiring) {
                do throws(ModelError) {
                    let (bundle, _) = try ModelFile.read(path: path)
                    seenFile = true
                    let ok = names.contains(bundle.name)
                    shared.outcome.withLock { $0.reads += 1; if !ok { $0.failures.append("unknown model \(bundle.name)") } }
                } catch {
                    let expected = !seenFile && error.code == .io && error.message.contains("No such file")
                    shared.outcome.withLock { $0.misses += 1; if !expected { $0.failures.append(error.description) } }
                }
            }
        }
        reader.start()
        for i in 0..<50 { try ModelFile.write(bundles[i % 2], to: path) }
        // Let the reader see the final file at least once before stopping it.
        while shared.outcome.withLock({ $0.reads }) == 0 { usleep(1000) }
        shared.done.store(true, ordering: .releasing)
        while !reader.isFinished { usleep(1000) }

        let result = shared.outcome.withLock { $0 }
        #expect(result.failures.isEmpty, "\(result.failures.prefix(5))")
        #expect(result.reads > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
    }

    /// State the reader thread shares with the test.
    private final class Shared: Sendable {
        let done = Atomic<Bool>(false)
        let outcome = Mutex<(reads: Int, misses: Int, failures: [String])>((0, 0, []))
    }
}
