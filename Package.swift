// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "StableGate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stablegate", targets: ["stablegate"]),
        .library(name: "StableGateApp", targets: ["StableGateApp"]),
        .library(name: "AllScaleKit", targets: ["AllScaleKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", exact: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", exact: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", exact: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/attaswift/BigInt.git", exact: "6.0.1"),
        .package(url: "https://github.com/apple/swift-system.git", exact: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
    ],
    targets: [
        // The merchant SDK: no dependency on the gateway's own modules.
        .target(
            name: "AllScaleKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The README's integration example, compiled with everything else so it cannot rot.
        .executableTarget(
            name: "allscale-example",
            dependencies: ["AllScaleKit", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            path: "Examples/MerchantIntegration"
        ),
        .target(
            name: "StableGateDomain",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "BigInt", package: "BigInt"),
            ]
        ),
        // Runtime support shared by the services of the payments module and the server.
        .target(
            name: "StableGateRuntime",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "StableGateStore",
            dependencies: [
                "StableGateDomain",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .systemLibrary(
            name: "CCrypt",
            pkgConfig: "libxcrypt",
            providers: [.apt(["libcrypt-dev"])]
        ),
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // The commit the binary was built from (scripts/package.sh defines it; "dev" otherwise).
        .target(name: "CStableGateBuild"),
        // Pure Ethereum: crypto, encoding, transactions, JSON-RPC. No store.
        .target(
            name: "StableGateEthereum",
            dependencies: [
                "StableGateDomain",
                "CSecp256k1",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Payments on chain: deposits, the watcher, the processor, expiry, the sweeper and the
        // shopper-transfer sender, over the store.
        .target(
            name: "StableGatePayments",
            dependencies: [
                "StableGateDomain",
                "StableGateStore",
                "StableGateRuntime",
                "StableGateEthereum",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .target(
            name: "StableGateApp",
            dependencies: [
                "StableGateDomain",
                "StableGateStore",
                "StableGateRuntime",
                "StableGateEthereum",
                "StableGatePayments",
                "CQRencode",
                "CCrypt",
                "CStableGateBuild",
                .product(name: "Hummingbird", package: "hummingbird"),
                // The HTTP1 channel, to add connection deadlines and a per-client cap to it.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Resources")]
        ),
        // Benchmarks the CLI runs (bench-seed-orders, bench-watcher); not part of the server.
        .target(
            name: "StableGateBenchmarks",
            dependencies: [
                "StableGateApp",
                "StableGateDomain",
                "StableGateStore",
                "StableGateEthereum",
                "StableGatePayments",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "stablegate",
            dependencies: [
                "StableGateDomain",
                "StableGateApp",
                "StableGateBenchmarks",
                "AllScaleKit",
                "StableGateStore",
                "StableGateEthereum",
                "StableGatePayments",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "AllScaleKitTests",
            dependencies: ["AllScaleKit", "StableGateDomain"]
        ),
        .testTarget(
            name: "StableGateRuntimeTests",
            dependencies: ["StableGateRuntime", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "StableGateDomainTests",
            dependencies: ["StableGateDomain", .product(name: "BigInt", package: "BigInt")]
        ),
        .target(
            name: "StableGateTestSupport",
            dependencies: [
                "StableGateStore",
                "StableGateEthereum",
                "StableGateDomain",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/StableGateTestSupport"
        ),
        .testTarget(
            name: "StableGateEthereumTests",
            dependencies: ["StableGateEthereum", "StableGateDomain", "StableGateTestSupport", .product(name: "BigInt", package: "BigInt")]
        ),
        .testTarget(
            name: "StableGatePaymentsTests",
            dependencies: [
                "StableGatePayments", "StableGateEthereum", "StableGateStore", "StableGateDomain", "StableGateTestSupport",
                .product(name: "BigInt", package: "BigInt"),
            ]
        ),
        .testTarget(
            name: "StableGateStoreTests",
            dependencies: [
                "StableGateStore", "StableGateDomain", "StableGateTestSupport", .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "StableGateAppTests",
            dependencies: [
                "StableGateDomain",
                "StableGateApp",
                "StableGateStore",
                "StableGateTestSupport",
                "AllScaleKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
    ]
)

// Upcoming language features every target of ours compiles with, as the Swift server projects
// do: `any` spelled out for existentials, and a file uses only members of modules it imports.
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
        ]
}
