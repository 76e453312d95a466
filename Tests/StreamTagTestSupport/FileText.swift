import Foundation

/// The text of the file at `path` ("" when it cannot be read), for logs and captured output
/// that may well be empty. Read through `FileHandle`: Foundation's `String(contentsOfFile:)`,
/// `Data(contentsOf:)` and `FileManager.contents(atPath:)` leak a 4 KiB buffer on every read
/// of an empty file, which LeakSanitizer reports (`make test-asan`).
public func fileText(_ path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
}
