// swift-tools-version: 6.1
import PackageDescription

// Release builds of the C kernels want full optimisation; instruction-set specific paths are
// selected at run time inside the C code, so no -march flag is needed here.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
    name: "StreamTag",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "streamtag", targets: ["streamtag"]),
        .library(name: "StreamTagCore", targets: ["StreamTagCore"]),
        .library(name: "StreamTagTraining", targets: ["StreamTagTraining"]),
        /// Swift programs that feed a daemon: join, seq numbering, answers, the load generator.
        .library(name: "StreamTagClient", targets: ["StreamTagClient"]),
        // For the fuzz targets, a separate package in Fuzz/ (docs/reliability.md).
        .library(name: "StreamTagWire", targets: ["StreamTagWire"]),
        .library(name: "StreamTagDaemon", targets: ["StreamTagDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The daemon's configuration file (one parse into its table of settings) and the
        // client's --client-config file.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // `make docs`: the DocC reference of StreamTagClient (a plugin: nothing of it is linked).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "CStreamTagKernels",
            cSettings: kernelFlags
        ),
        .target(
            name: "CStreamTagDefaultModel",
            exclude: ["default-model.safetensors"],
            cSettings: [.headerSearchPath(".")]
        ),
        .target(
            name: "StreamTagCore",
            dependencies: [
                "COpenBLAS",
                "CStreamTagKernels",
                "CStreamTagDefaultModel",
                "StreamTagWire",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "StreamTagTraining",
            dependencies: ["StreamTagCore", "COpenBLAS", "CStreamTagKernels"]
        ),
        // The libzmq wrapper: context, sockets, poller, monitor, eventfd, CURVE keys.
        .target(name: "StreamTagZMQ", dependencies: ["CZeroMQ", "StreamTagWire"]),
        // The wire protocol (docs/protocol.md): the JSON scanner, input parsing, output
        // encoding, control requests and answers. No I/O.
        .target(name: "StreamTagWire"),
        .target(name: "StreamTagClient", dependencies: ["StreamTagZMQ", "StreamTagWire", "CZeroMQ"]),
        .target(
            name: "StreamTagDaemon",
            dependencies: [
                "StreamTagCore",
                "StreamTagZMQ",
                "StreamTagWire",
                "StreamTagClient",
                "CZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "streamtag",
            dependencies: [
                "StreamTagCore",
                "StreamTagTraining",
                "StreamTagDaemon",
                "StreamTagClient",
                "StreamTagWire",
                "StreamTagZMQ",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources/sample.txt")]
        ),
        .testTarget(name: "StreamTagCoreTests", dependencies: ["StreamTagCore", "CStreamTagKernels", "StreamTagTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StreamTagTrainingTests", dependencies: ["StreamTagTraining"]),
        // Test helpers shared by the test targets (systemd's end of sd_notify, temporary directories).
        .target(name: "StreamTagTestSupport", path: "Tests/StreamTagTestSupport"),
        .testTarget(name: "StreamTagDaemonTests",
                    dependencies: ["StreamTagDaemon", "StreamTagClient", "StreamTagWire", "StreamTagZMQ", "StreamTagTestSupport",
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "StreamTagCLITests",
                    dependencies: ["streamtag", "StreamTagDaemon", "StreamTagClient", "StreamTagWire", "StreamTagTestSupport"]),
    ]
)
