// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for streamtag's parsers and decoders (docs/reliability.md). A package of
// its own, depending on the main one by path, so that `swift build` and `make test` do not
// build these. Build with the fuzzer and AddressSanitizer on every module:
//
//     swift build -c release --sanitize fuzzer --sanitize address -Xswiftc -enable-testing
//
// `-enable-testing` lets the config and snapshot targets reach the daemon with `@testable
// import`: what they use of it is internal (the few `package` declarations, for the command
// line, are invisible to another package too). Each target's one file defines
// `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`. `make fuzz` (Fuzz/run.sh) builds and
// runs them.
let core = Target.Dependency.product(name: "StreamTagCore", package: "StreamTag")
let daemon = Target.Dependency.product(name: "StreamTagDaemon", package: "StreamTag")
let wire = Target.Dependency.product(name: "StreamTagWire", package: "StreamTag")

let package = Package(
    name: "StreamTagFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "StreamTag", path: "..")],
    targets: [
        .executableTarget(name: "FuzzInput", dependencies: [wire]),
        .executableTarget(name: "FuzzControl", dependencies: [wire]),
        .executableTarget(name: "FuzzModelFile", dependencies: [core]),
        .executableTarget(name: "FuzzSnapshot", dependencies: [core, wire, daemon]),
        .executableTarget(name: "FuzzConfig", dependencies: [daemon]),
    ]
)

