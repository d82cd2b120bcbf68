import Foundation
import Glibc
import Testing

/// The built `vaesh` executable, found next to the test bundle (both live in the build
/// directory's `debug/`), or at `$VAESH_BINARY`.
///
/// The test target cannot depend on an executable target, so the tests need the executable to
/// have been built: `swift build` (or `swift build --build-tests`, as `scripts/test` does).
enum ShellBinary {
    static let path: String? = {
        if let override = ProcessInfo.processInfo.environment["VAESH_BINARY"] { return override }
        let candidates = [Bundle.main.executableURL, Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])]
            .compactMap { $0?.resolvingSymlinksInPath().deletingLastPathComponent() }
        for directory in candidates {
            // On Linux the test bundle is `debug/vaeshPackageTests.xctest`; on macOS it is
            // `debug/vaeshPackageTests.xctest/Contents/MacOS/…`, three levels further down.
            var folder = directory
            for _ in 0..<4 {
                let binary = folder.appendingPathComponent("vaesh").path
                if FileManager.default.isExecutableFile(atPath: binary) { return binary }
                folder = folder.deletingLastPathComponent()
            }
        }
        return nil
    }()

    /// The path, or a test failure that says what to do.
    static func require() throws -> String {
        try #require(
            path,
            "the vaesh executable was not found next to the test bundle (\(Bundle.main.bundlePath)); run `swift build` before `swift test`, or set VAESH_BINARY"
        )
    }
}

/// A private home directory for one test: no real `~/.vaeshrc` or history is read or written.
final class Sandbox {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vaesh-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    var historyPath: String { path("history") }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` (or raw bytes) to a file in the sandbox and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The environment every test child gets: this sandbox as home, and nothing else from ours
    /// but the search path.
    var environment: [String: String] {
        [
            "HOME": directory.path,
            "VAESH_HISTORY": historyPath,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "TERM": "xterm",
        ]
    }
}

/// What a batch run of `vaesh` produced.
struct ShellResult: CustomStringConvertible {
    let termination: ChildProcess.Termination
    let stdout: String
    let stderr: String

    var status: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }

    var description: String { "\(termination)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---" }
}

extension Sandbox {
    /// Runs `vaesh arguments` to completion with `stdin` as its standard input (a regular file, so
    /// not a terminal), capturing both outputs in files.
    func run(
        _ arguments: [String],
        stdin: String = "",
        environment extra: [String: String] = [:],
        timeout: Double = 60
    ) throws -> ShellResult {
        try runCommand(ShellBinary.require(), arguments, stdin: stdin, environment: extra, timeout: timeout)
    }

    /// Runs `/bin/sh -c script` with `$VAESH` naming the binary: for real pipes.
    func runShellScript(_ script: String, timeout: Double = 60) throws -> ShellResult {
        try runCommand("/bin/sh", ["-c", script], stdin: "", environment: ["VAESH": ShellBinary.require()], timeout: timeout)
    }

    private func runCommand(
        _ executable: String, _ arguments: [String], stdin: String, environment extra: [String: String], timeout: Double
    ) throws -> ShellResult {
        let tag = UUID().uuidString
        let input = try write("stdin-\(tag)", stdin)
        let output = path("stdout-\(tag)")
        let errors = path("stderr-\(tag)")
        let child = try ChildProcess.spawn(
            executable, arguments: arguments, environment: environment.merging(extra) { $1 }
        ) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        guard let termination = child.wait(timeout: timeout) else {
            child.kill()
            throw ChildProcess.SpawnError(description: "vaesh \(arguments) did not finish within \(timeout) s")
        }
        return ShellResult(
            termination: termination,
            stdout: read("stdout-\(tag)") ?? "",
            stderr: read("stderr-\(tag)") ?? ""
        )
    }
}
