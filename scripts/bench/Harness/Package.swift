// swift-tools-version:6.0
import PackageDescription

// The benchmark's in-process timer for VAEKit: times engine calls (an epoch, `evaluate`,
// `logLikelihood`) without the shell's start-up and data loading, as the Python references time
// theirs. Built by scripts/bench/run; not part of the main package or its tests.
let package = Package(
    name: "vaesh-bench",
    dependencies: [.package(name: "main", path: "../../..")],
    targets: [
        .executableTarget(
            name: "vaesh-bench",
            dependencies: [.product(name: "VAEKit", package: "main"), .product(name: "VAEScript", package: "main")],
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]
        ),
    ],
    swiftLanguageModes: [.v5]
)
