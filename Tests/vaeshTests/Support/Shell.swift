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
        if let override = ProcessInfo.processInfo.environment["VAESH_BINARY"] {
            return FileManager.default.isExecutableFile(atPath: override) ? override : nil
        }
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
            "the vaesh executable was not found next to the test bundle (\(Bundle.main.bundlePath)), or VAESH_BINARY names no executable; run `swift build` before `swift test`, or set VAESH_BINARY"
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
    /// Where a started shell's standard input comes from.
    enum StandardInput {
        /// A regular file with this text: not a terminal, ends where the text ends.
        case text(String)
        /// A pipe the test holds open: the shell waits on it until it is closed.
        case openPipe
    }

    /// Runs `vaesh arguments` to completion with `stdin` as its standard input (a regular file, so
    /// not a terminal), capturing both outputs in files.
    func run(
        _ arguments: [String],
        stdin: String = "",
        environment extra: [String: String] = [:],
        timeout: Double = 60
    ) throws -> ShellResult {
        try start(arguments, stdin: .text(stdin), environment: extra).finish(timeout: timeout)
    }

    /// Runs `/bin/sh -c script` with `$VAESH` naming the binary: for real pipes.
    func runShellScript(_ script: String, timeout: Double = 60) throws -> ShellResult {
        try RunningShell(sandbox: self, executable: "/bin/sh", arguments: ["-c", script], stdin: .text(""),
                         environment: ["VAESH": ShellBinary.require()])
            .finish(timeout: timeout)
    }

    /// Starts `vaesh arguments` and returns while it runs.
    func start(
        _ arguments: [String], stdin: StandardInput = .text(""), environment extra: [String: String] = [:]
    ) throws -> RunningShell {
        try RunningShell(sandbox: self, executable: ShellBinary.require(), arguments: arguments, stdin: stdin,
                         environment: extra)
    }
}

/// A batch run in progress, its outputs going to files in the sandbox.
final class RunningShell {
    let child: ChildProcess
    private let sandbox: Sandbox
    private let tag = UUID().uuidString
    private let description: String
    /// Our end of the `.openPipe` standard input.
    private var pipeWriter: Int32 = -1

    init(sandbox: Sandbox, executable: String, arguments: [String], stdin: Sandbox.StandardInput,
         environment extra: [String: String]) throws {
        self.sandbox = sandbox
        description = "\(executable) \(arguments)"
        let output = sandbox.path("stdout-\(tag)")
        let errors = sandbox.path("stderr-\(tag)")
        var input = ""
        var pipeReader: Int32 = -1
        switch stdin {
        case .text(let text):
            input = try sandbox.write("stdin-\(tag)", text)
        case .openPipe:
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw ChildProcess.SpawnError(description: "no pipe") }
            (pipeReader, pipeWriter) = (ends[0], ends[1])
            // Ours only: the child gets the reading end as stdin, nobody inherits the writing end.
            _ = fcntl(pipeWriter, F_SETFD, FD_CLOEXEC)
        }
        defer { if pipeReader >= 0 { close(pipeReader) } }
        child = try ChildProcess.spawn(
            executable, arguments: arguments, environment: sandbox.environment.merging(extra) { $1 }
        ) { actions in
            if pipeReader >= 0 {
                posix_spawn_file_actions_adddup2(&actions, pipeReader, 0)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
            }
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
    }

    deinit {
        if pipeWriter >= 0 { close(pipeWriter) }
        child.kill()
    }

    var stdout: String { sandbox.read("stdout-\(tag)") ?? "" }

    /// Writes `text` to the `.openPipe` standard input.
    func send(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(pipeWriter, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Waits until the standard output contains `text`.
    func waitForOutput(_ text: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !stdout.contains(text) {
            guard Date() < deadline else {
                throw ChildProcess.SpawnError(description: "\(description) did not print \(text.debugDescription) within \(timeout) s")
            }
            usleep(10_000)
        }
    }

    /// Waits for the end and collects the outputs.
    func finish(timeout: Double = 60) throws -> ShellResult {
        guard let termination = child.wait(timeout: timeout) else {
            child.kill()
            throw ChildProcess.SpawnError(description: "\(description) did not finish within \(timeout) s")
        }
        return ShellResult(termination: termination, stdout: stdout, stderr: sandbox.read("stderr-\(tag)") ?? "")
    }
}
