// swift-tools-version: 6.2
//
// VOSS — open object-storage extension. Layout and dependency direction: core ← shells ← executables
// (see docs/architecture.md). Core modules are pure (stdlib/Foundation only, no sockets, no clocks);
// shells own the I/O; each executable is a thin `main`.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

let package = Package(
    name: "voss",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "voss-keeper", targets: ["voss-keeper"]),
        .executable(name: "voss-i18n", targets: ["voss-i18n"]),
        .executable(name: "ose", targets: ["ose"]),
        .executable(name: "voss", targets: ["voss"]),
        .executable(name: "voss-s3", targets: ["voss-s3"]),
        .executable(name: "voss-test-worker", targets: ["voss-test-worker"]),
        .executable(name: "voss-fuzz", targets: ["voss-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // ---- C shims -------------------------------------------------------------------------------------
        .target(name: "CVossSys", path: "Sources/CVossSys"),
        .target(name: "CVossCRC", path: "Sources/CVossCRC"),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"]), .yum(["sqlite-devel"])]),
        .systemLibrary(
            name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"]), .yum(["systemd-devel"])]),

        // ---- Pure cores ----------------------------------------------------------------------------------
        .target(name: "VossBase", swiftSettings: swiftSettings),
        .target(name: "VossWire", dependencies: ["VossBase"], swiftSettings: swiftSettings),
        .target(name: "VossSupervision", dependencies: ["VossBase"], swiftSettings: swiftSettings),
        .target(name: "VossConfig", dependencies: ["VossBase"], swiftSettings: swiftSettings),
        .target(name: "VossI18n", swiftSettings: swiftSettings),
        .target(
            name: "VossChecksums", dependencies: ["CVossCRC", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(
            name: "VossSigV4", dependencies: ["VossBase", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(name: "VossS3Core", dependencies: ["VossBase", "VossSigV4", "VossChecksums"], swiftSettings: swiftSettings),
        .target(
            name: "VossCluster",
            dependencies: [
                "VossBase", "VossConfig", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "VossVIPCore", dependencies: ["VossBase"], swiftSettings: swiftSettings),
        .target(name: "VossCLI", dependencies: ["VossBase", "VossWire"],
                swiftSettings: swiftSettings),

        // ---- Shells --------------------------------------------------------------------------------------
        .target(name: "VossSystemd", dependencies: ["CSystemd"], swiftSettings: swiftSettings),
        // The metadata model and the SQL store over an injected backend (it stamps times from the clock).
        .target(
            name: "VossS3Store",
            dependencies: [
                "VossS3Core", "VossChecksums", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(
            name: "VossPosix",
            dependencies: ["CVossSys", "VossBase", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "VossSQLite",
            dependencies: ["CSQLite", "VossS3Store", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(
            name: "VossPostgres",
            dependencies: nio + [
                "VossBase", "VossConfig", "VossS3Store",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "VossIPC", dependencies: nio + ["VossWire"], swiftSettings: swiftSettings),
        .target(
            name: "VossHTTP",
            dependencies: nio + [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "VossCertificates",
            dependencies: [
                "VossBase",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "VossBlobStore", dependencies: nio + ["VossPosix"],
            swiftSettings: swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        // Upstream storage platforms: an HTTP/1.1 client, S3 calls, admin APIs (RGW, HyperStore, ECS).
        .target(
            name: "VossUpstream",
            dependencies: nio + [
                "VossBase", "VossBlobStore", "VossConfig", "VossSigV4", "VossS3Core", "VossS3Store", "VossChecksums",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Calls run on their caller's executor: a gateway request's upstream I/O stays on its event loop.
            swiftSettings: swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(
            name: "VossS3Gateway",
            dependencies: nio + [
                "VossBase", "VossWire", "VossWorkerKit", "VossHTTP", "VossPosix", "VossS3Core", "VossS3Store", "VossSQLite",
                "VossPostgres", "VossConfig", "VossSigV4", "VossChecksums", "VossBlobStore", "VossUpstream", "VossVIPCore",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Async functions run on their caller's executor (the connection's event loop), not the pool.
            swiftSettings: swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(
            name: "VossWorkerKit",
            dependencies: nio + [
                "VossBase", "VossWire", "VossIPC", "VossPosix", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "VossKeeperKit",
            dependencies: nio + [
                "VossBase", "VossWire", "VossIPC", "VossSupervision", "VossConfig", "VossSystemd", "VossPosix", "VossHTTP",
                "VossCertificates", "VossS3Store", "VossSQLite", "VossPostgres", "VossCluster", "VossVIPCore", "VossUpstream",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "VossI18nServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), "VossI18n", "VossHTTP", "VossWorkerKit", "VossWire", "VossPosix",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        .target(
            name: "VossVIPServer",
            dependencies: nio + [
                "VossBase", "VossVIPCore", "VossWire", "VossWorkerKit", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // ---- Executables ---------------------------------------------------------------------------------
        .executableTarget(name: "voss-keeper", dependencies: ["VossKeeperKit"], swiftSettings: swiftSettings),
        .executableTarget(name: "voss-i18n", dependencies: ["VossI18nServer", "VossWorkerKit"], swiftSettings: swiftSettings),
        .target(
            name: "VossOSE", dependencies: ["VossCLI", "VossPosix", "VossWire", "VossConfig", "VossI18n", "VossBase"],
            swiftSettings: swiftSettings),
        .executableTarget(name: "ose", dependencies: ["VossOSE"], swiftSettings: swiftSettings),
        .executableTarget(name: "voss-s3", dependencies: ["VossS3Gateway", "VossWorkerKit"], swiftSettings: swiftSettings),
        .executableTarget(name: "voss-vip", dependencies: ["VossVIPServer", "VossWorkerKit"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "voss",
            dependencies: ["VossKeeperKit", "VossI18nServer", "VossWorkerKit", "VossOSE", "VossS3Gateway", "VossVIPServer"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "voss-test-worker",
            dependencies: nio + [
                "VossWorkerKit", "VossHTTP", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // Fuzz targets for the network parsers (`make fuzz` builds it with -sanitize=fuzzer; a normal
        // build replays the seed corpora in Fuzz/corpus).
        .executableTarget(
            name: "voss-fuzz",
            dependencies: [
                "VossBase", "VossSigV4", "VossS3Core", "VossChecksums", "VossVIPCore", "VossCluster", "VossWire",
                .product(name: "Crypto", package: "swift-crypto"),
                // The strict request-head reader is fuzzed against NIO's decoder.
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),

        // ---- Tests ---------------------------------------------------------------------------------------
        .testTarget(name: "VossBaseTests", dependencies: ["VossBase"], swiftSettings: swiftSettings),
        .testTarget(name: "VossWorkerKitTests", dependencies: ["VossWorkerKit"], swiftSettings: swiftSettings),
        .testTarget(name: "VossOSETests", dependencies: ["VossOSE", "VossCLI", "VossConfig"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VossIPCTests",
            dependencies: ["VossIPC", "VossWire", .product(name: "NIOEmbedded", package: "swift-nio")] + nio,
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VossKeeperKitTests",
            dependencies: [
                "VossKeeperKit", "VossBase", "VossConfig", "VossHTTP", "VossWire", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "VossWireTests", dependencies: ["VossWire"], swiftSettings: swiftSettings),
        .testTarget(name: "VossSupervisionTests", dependencies: ["VossSupervision"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VossClusterTests",
            dependencies: [
                "VossCluster", "VossConfig", "VossBase", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ], swiftSettings: swiftSettings),
        .testTarget(name: "VossVIPCoreTests", dependencies: ["VossVIPCore", "VossBase"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VossVIPServerTests",
            dependencies: ["VossVIPServer", "VossVIPCore", .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VossS3GatewayTests",
            dependencies: [
                "VossS3Gateway", "VossVIPCore", "VossS3Core", "VossS3Store", "VossSQLite", "VossBlobStore", "VossChecksums",
                "VossSigV4", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ] + nio,
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VossHTTPTests",
            dependencies: [
                "VossHTTP", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VossUpstreamTests", dependencies: ["VossUpstream", "VossBlobStore", "VossConfig", "VossS3Core", "VossS3Store"],
            swiftSettings: swiftSettings),
        .testTarget(name: "VossConfigTests", dependencies: ["VossConfig", "VossBase"], swiftSettings: swiftSettings),
        .testTarget(name: "VossSystemdTests", dependencies: ["VossSystemd"], swiftSettings: swiftSettings),
        .testTarget(name: "VossI18nTests", dependencies: ["VossI18n"], swiftSettings: swiftSettings),
        .testTarget(name: "VossCLITests", dependencies: ["VossCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "VossChecksumsTests", dependencies: ["VossChecksums"], swiftSettings: swiftSettings),
        .testTarget(name: "VossSigV4Tests", dependencies: ["VossSigV4", "VossBase"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VossS3CoreTests",
            dependencies: ["VossS3Core", "VossBase", "VossSigV4", "VossChecksums", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        .testTarget(name: "VossS3StoreTests", dependencies: ["VossS3Store", "VossSQLite", "VossBase"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VossCertificatesTests", dependencies: ["VossCertificates", "VossBase"], swiftSettings: swiftSettings),
    ]
)
