// swift-tools-version:6.2
// Hummingbird 2.28 and swift-prometheus 2.4 declare tools-version 6.2 in their manifests.

import PackageDescription

/// The three upcoming features every target of ours enables (the same as Hummingbird's).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let asn1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "_CryptoExtras", package: "swift-crypto")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")

let package = Package(
    name: "sigillum",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sigillumd", targets: ["sigillumd"]),
        .executable(name: "sigillum", targets: ["sigillum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: Protocol messages (pure DER models, no I/O)
        .target(name: "PKIMessages", dependencies: [asn1, x509], swiftSettings: strictSettings),

        // MARK: Keys and signatures
        // The system's libcrypto (OpenSSL 3) opens encrypted PKCS#8, encrypted PEM and PKCS#12 key files; signing
        // itself stays in swift-crypto. Only Signing's LibCrypto type imports it.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "Signing",
            dependencies: ["PKIMessages", "COpenSSL", asn1, x509, crypto, cryptoExtras],
            swiftSettings: strictSettings
        ),

        // MARK: PKCS#11 HSM signer
        // Our own minimal PKCS#11 declarations and the dlopen loader.
        .target(name: "CPKCS11", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "PKCS11Signing",
            dependencies: [
                "Signing", "CPKCS11", asn1, x509, crypto, cryptoExtras, logging, lifecycle, nioPosix,
            ],
            swiftSettings: strictSettings
        ),

        // MARK: PIV smart-card signer over PC/SC
        // PC/SC Lite's client library (pcscd's); pkg-config supplies -I/usr/include/PCSC, which winscard.h needs.
        .systemLibrary(name: "CPCSCLite", pkgConfig: "libpcsclite", providers: [.apt(["libpcsclite-dev"])]),
        // zlib inflates the certificates PIV cards store gzip-compressed.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "SmartCardSigning",
            dependencies: ["Signing", "CPCSCLite", "CZlib", asn1, x509, crypto, cryptoExtras, logging, lifecycle, nioPosix],
            swiftSettings: strictSettings
        ),

        // MARK: UTC clock state
        .target(name: "CSysClock"),
        .target(
            name: "ClockDiscipline",
            dependencies: ["CSysClock", lifecycle, logging, metrics, nioCore, nioPosix],
            swiftSettings: strictSettings
        ),

        // MARK: Durable records
        .target(
            name: "Ledger",
            dependencies: [
                crypto, logging, metrics, lifecycle,
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API (libsqlite3-dev), for the audit insert's direct binding only.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: RFC 3161 Time-Stamp Authority
        .target(
            name: "TimeStampAuthority",
            dependencies: ["PKIMessages", "Signing", "ClockDiscipline", "Ledger", asn1, x509, crypto, logging, metrics],
            swiftSettings: strictSettings
        ),

        // MARK: RFC 6960 / RFC 5019 OCSP responder
        .target(
            name: "OCSPResponder",
            dependencies: ["PKIMessages", "Signing", "Ledger", asn1, x509, crypto, logging, metrics, lifecycle],
            swiftSettings: strictSettings
        ),

        // MARK: Development PKI for the embedded default
        .target(
            name: "DevelopmentPKI",
            dependencies: ["Signing", asn1, x509, crypto, cryptoExtras],
            swiftSettings: strictSettings
        ),

        // MARK: Configuration
        .target(
            name: "ApplianceConfig",
            dependencies: [asn1, .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),

        // MARK: systemd integration (libsystemd: sd_notify, socket activation, the journal)
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "SystemdIntegration",
            dependencies: ["CSystemd", logging, lifecycle, nioCore],
            swiftSettings: strictSettings
        ),

        // MARK: HTTP services
        .target(
            name: "HTTPFront",
            dependencies: [
                "TimeStampAuthority", "OCSPResponder", "ClockDiscipline", "PKIMessages", logging, metrics, nioCore,
                nioPosix, nioHTTP1, lifecycle,
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "sigillumd",
            dependencies: [
                "ApplianceConfig", "DevelopmentPKI", "Signing", "PKCS11Signing", "SmartCardSigning", "ClockDiscipline",
                "Ledger",
                "TimeStampAuthority",
                "OCSPResponder",
                "HTTPFront", "PKIMessages", "SystemdIntegration", argumentParser, logging, metrics, lifecycle, asn1, x509,
                nioPosix,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"), nioCore,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sigillum",
            dependencies: [
                "PKIMessages", "Ledger", "OCSPResponder", "DevelopmentPKI", "Signing", "PKCS11Signing", "SmartCardSigning",
                "ClockDiscipline",
                argumentParser,
                asn1, x509,
                crypto, logging, nioCore, nioPosix, nioHTTP1,
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "SystemdIntegrationTests",
            dependencies: ["SystemdIntegration", logging, nioCore, nioPosix],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PKIMessagesTests", dependencies: ["PKIMessages", asn1, x509], swiftSettings: strictSettings),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "DevelopmentPKI", asn1, x509, crypto, cryptoExtras], swiftSettings: strictSettings),
        .testTarget(name: "KeyFileTests", dependencies: ["Signing", asn1, x509, crypto, cryptoExtras], swiftSettings: strictSettings),
        .testTarget(
            name: "PKCS11SigningTests",
            dependencies: ["PKCS11Signing", "Signing", "CPKCS11", asn1, x509, crypto, cryptoExtras, logging, lifecycle],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SmartCardSigningTests",
            dependencies: [
                "SmartCardSigning", "Signing", "CZlib", "TimeStampAuthority", "DevelopmentPKI", "ClockDiscipline", "Ledger",
                "PKIMessages", asn1, x509, crypto, cryptoExtras, logging, lifecycle,
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: ["Ledger", crypto, logging, metrics, lifecycle, .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TimeStampAuthorityTests",
            dependencies: [
                "TimeStampAuthority", "PKIMessages", "Signing", "DevelopmentPKI", "Ledger", "ClockDiscipline", asn1, x509,
                crypto, lifecycle, logging,
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OCSPResponderTests",
            dependencies: ["OCSPResponder", "PKIMessages", "Signing", "DevelopmentPKI", "Ledger", asn1, x509, crypto, logging],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ClockDisciplineTests",
            dependencies: ["ClockDiscipline", logging, nioCore, nioPosix],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "ApplianceConfigTests", dependencies: ["ApplianceConfig", asn1], swiftSettings: strictSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PKIMessages", "ClockDiscipline", asn1, x509],
            exclude: ["Scripts"],
            swiftSettings: strictSettings
        ),
    ]
)
