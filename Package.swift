// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "tidings",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tidings", targets: ["tidings"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        // The benchmark suite only: a load generator, a recording SMTP server, latency histograms.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLiteConfig",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "TidingsCore",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TidingsStore",
            dependencies: [
                "CSQLiteConfig",
                "TidingsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "TidingsPostgres",
            dependencies: [
                "TidingsCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TidingsDelivery",
            dependencies: [
                "CCurl",
                "TidingsCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TidingsHTTP",
            dependencies: [
                "TidingsCore",
                "TidingsStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TidingsApp",
            dependencies: [
                "TidingsCore",
                "TidingsStore",
                "TidingsPostgres",
                "TidingsDelivery",
                "TidingsHTTP",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "tidings",
            dependencies: [
                "TidingsApp",
                "TidingsPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "CJemalloc",
            ]
        ),
        // On Linux, jemalloc as the daemon's malloc (libcurl's and SQLite's too), with its
        // options: for the JSON trees, models and rows the daemon allocates and frees per event,
        // against glibc's, 8% less CPU an order in a disruption and an append 5-14% faster
        // (BENCHMARKS.md, "jemalloc"). Linked as a shared library: the static one's symbols would stay inside
        // the binary (`--static-swift-stdlib` links with `--exclude-libs ALL`), and the shared
        // libraries would free with glibc what the binary allocated with jemalloc
        // (scripts/check-malloc.sh holds every binding to jemalloc).
        .target(
            name: "CJemalloc",
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        // `make bench`: the whole daemon against real servers on loopback (BENCHMARKS.md).
        .executableTarget(
            name: "tidings-bench",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks"
        ),
        .testTarget(name: "TidingsCoreTests", dependencies: ["TidingsCore", .product(name: "Mustache", package: "swift-mustache")]),
        // The tests' private PostgreSQL cluster, shared by the test targets that need it.
        .target(
            name: "TidingsTestSupport",
            dependencies: ["TidingsPostgres", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/TidingsTestSupport"
        ),
        .testTarget(
            name: "TidingsPostgresTests",
            dependencies: [
                "TidingsPostgres", "TidingsApp", "TidingsStore", "TidingsDelivery", "TidingsTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "TidingsStoreTests", dependencies: ["TidingsStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "TidingsDeliveryTests",
            dependencies: ["TidingsDelivery", "TidingsStore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .testTarget(
            name: "TidingsAppTests",
            dependencies: [
                "TidingsApp", "TidingsTestSupport", .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "TidingsHTTPTests",
            dependencies: ["TidingsHTTP"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
