import Foundation

/// A new, empty directory under the system's temporary directory, unique to this call (the
/// caller removes it).
public func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "streamtag-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
