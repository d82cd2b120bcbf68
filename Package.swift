// swift-tools-version:6.0
import PackageDescription

// MARK: - Release speed
// VAEKit is generic over its scalar (Float for training, Double for gradient checks). Cross-module
// optimisation lets the shell's `VAE<Float>` calls run specialised code instead of generic
// witness-table code; measured 8x on an elementwise loop (see VAEKit/README.md).
let engineSettings: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"])]

let package = Package(
    name: "vaesh",
    products: [
        .executable(name: "vaesh", targets: ["vaesh"]),
        .library(name: "VAEFormats", targets: ["VAEFormats"]),
        .library(name: "VAEKit", targets: ["VAEKit"]),
        .library(name: "VAEScript", targets: ["VAEScript"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        // The zip container of PyTorch's checkpoints (read and written by VAEFormats only).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // MARK: - System libraries (one shim each; the only places that touch C)
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibz", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),

        // MARK: - Libraries
        // The bytes on disk: a leaf that imports nothing of ours (and no BLAS). The MNIST subset is
        // compiled in (EmbeddedMNIST+Data.swift), not a resource: a bundle is not found beside a copied binary.
        .target(name: "VAEFormats", dependencies: ["CLibz", "ZIPFoundation"], exclude: ["README.md", "EmbeddedMNIST.md"]),
        // The engine: the math, on BLAS. It opens no file; the language hands it what the formats read.
        .target(
            name: "VAEKit",
            dependencies: ["CBLAS", .product(name: "RealModule", package: "swift-numerics")],
            exclude: ["README.md"],
            swiftSettings: engineSettings
        ),
        .target(
            name: "VAEScript",
            dependencies: ["VAEKit", "VAEFormats", .product(name: "RealModule", package: "swift-numerics")],
            exclude: ["README.md"],
            swiftSettings: engineSettings
        ),

        // MARK: - Executable
        .executableTarget(
            name: "vaesh",
            dependencies: [
                "VAEScript", "VAEFormats", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]
        ),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["VAEFormats"], path: "Tests/TestSupport"),
        // The files: each format, the loaders that make data sets and models of them, and PyTorch's
        // own files opening with PyTorch's numbers.
        .testTarget(name: "VAEFormatsTests", dependencies: ["VAEFormats", "VAEKit", "VAEScript", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "VAEKitTests", dependencies: ["VAEKit", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VAEScriptTests", dependencies: ["VAEScript", "VAEFormats", "TestSupport"], resources: [.copy("Scripts")]),
        .testTarget(name: "vaeshTests", dependencies: ["TestSupport"]),
    ]
)
