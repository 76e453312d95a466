import Foundation
import StreamTagZMQ

/// A directory of allowed public keys, in czmq's certificate-store layout: one public
/// certificate per file (`alice.key`, as `streamtag keygen` or pyzmq writes it); files whose
/// name contains `_secret` are skipped (a secret file copied by mistake admits its key all the
/// same through its public half, so it is skipped rather than trusted), as are hidden files
/// (editors' and copy tools' temporaries) and anything that is not a regular file.
///
/// The user id of a key is its file name without `.key`.
struct KeyDirectory: Sendable {
    /// Allowed keys and their names.
    var keys: [CurveKey: String] = [:]
    /// Files that could not be used, each naming the file and the reason.
    var problems: [SecurityError] = []

    init() {}

    /// Reads every certificate of `path`. A missing or unreadable directory is one problem
    /// (and no keys): the daemon then admits no one through it, never everyone.
    init(path: String) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            problems.append(SecurityError(path: path, message: "cannot list the key directory: \(Self.reason(error))"))
            return
        }
        for name in names where !name.hasPrefix(".") && !name.contains("_secret") {
            let file = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            do {
                let certificate = try CertificateFile.loadPublic(file)
                let user = name.hasSuffix(".key") ? String(name.dropLast(4)) : name
                keys[certificate.publicKey] = user
            } catch {
                problems.append(error)
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
