// swift-tools-version:5.4
// The fuzz targets, in a package of their own so that the main package's builds (and CI's test
// run) never compile them. `scripts/fuzz` builds them with
//     swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing
// and FuzzScript and FuzzInterpreter once more with -sanitize=fuzzer alone and edge coverage
// (-sanitize-coverage=edge,inline-8bit-counters,pc-table), and runs each one for a while. See README.md.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<Target>_main` and links `main` to it, which fails for a libFuzzer target (it has no entry
// point of its own; libFuzzer provides `main`).
import PackageDescription

let package = Package(
    name: "vaesh-fuzz",
    dependencies: [.package(name: "vaesh", path: "..")],
    targets: [
        // `check` and scratch paths, shared by every target.
        .target(name: "FuzzSupport"),

        // MARK: - The language
        .executableTarget(name: "FuzzScript", dependencies: ["FuzzSupport", .product(name: "VAEScript", package: "vaesh")]),
        .executableTarget(name: "FuzzInterpreter", dependencies: [
            "FuzzSupport", .product(name: "VAEScript", package: "vaesh"), .product(name: "VAEKit", package: "vaesh"),
            .product(name: "VAEFormats", package: "vaesh"),
        ]),
        .executableTarget(name: "FuzzArchitecture", dependencies: [
            "FuzzSupport", .product(name: "VAEScript", package: "vaesh"), .product(name: "VAEKit", package: "vaesh"),
        ]),

        // MARK: - The engine
        .executableTarget(name: "FuzzModel", dependencies: ["FuzzSupport", .product(name: "VAEKit", package: "vaesh")]),

        // MARK: - The file formats (the formats module alone: no engine, no BLAS)
        .executableTarget(name: "FuzzIDX", dependencies: ["FuzzSupport", .product(name: "VAEFormats", package: "vaesh")]),
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "VAEFormats", package: "vaesh")]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzSupport", .product(name: "VAEFormats", package: "vaesh")]),
        .executableTarget(name: "FuzzTorchPickle", dependencies: ["FuzzSupport", .product(name: "VAEFormats", package: "vaesh")]),
        .executableTarget(name: "FuzzTorchCheckpoint", dependencies: ["FuzzSupport", .product(name: "VAEFormats", package: "vaesh")]),
    ]
)
