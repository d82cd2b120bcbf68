import Foundation
import Glibc
import Testing

/// Faults from outside the script: divergence, Ctrl-C, SIGKILL in the middle of a save, hang-ups,
/// a full or read-only disk, and a very long session. Each test runs the real executable.
@Suite("Faults")
struct FaultTests {
    typealias Key = PseudoTerminal.Key

    /// A prompt once data and a model are loaded: `vaesh[mnist-subset·784-200-10]> `.
    static let loadedPrompt = "]> "

    /// MNIST (the embedded subset: the sandbox has no data folder) and a model big enough that
    /// `train`, `logpx` and a loop of `sample` run for seconds.
    static let setup = "load mnist limit=5000; model hidden=200 latent=10; kl index=0; let before = kl"

    // MARK: - Divergence

    @Test("a huge learning rate: training stops, the last good parameters are back, the hint says what to do")
    func divergence() throws {
        let sandbox = try Sandbox()
        try Fixtures.write(into: sandbox)
        let script = try sandbox.write("diverge.vae", """
            load csv \(sandbox.path("tiny.csv")) test=\(sandbox.path("tiny-test.csv"))
            model hidden=8 latent=2 optimizer=sgd
            kl index=0
            let before = kl
            train lr=1e6 batch=4 epochs=3
            kl index=0
            assert kl >= 0 and kl < 1e38
            elbo limit=4
            undo
            kl index=0
            assert kl == before
            echo "done"

            """)
        let result = try sandbox.run(["--no-rc", "--keep-going", script])
        #expect(result.termination == .exited(1), "\(result)")
        let errors = result.stderr.split(separator: "\n").filter { $0.contains("error: ") }
        #expect(errors.count == 1 && errors[0].contains("diverge.vae:5:1: error: training diverged at batch"), "\(result)")
        #expect(errors.first?.contains("restored the parameters of the last good step") == true)
        #expect(result.stderr.contains("hint: lower the learning rate (e.g. lr=100000)"), "\(result)")
        #expect(result.stdout.hasSuffix("done\n"), "\(result)")
        #expect(!result.stdout.contains("nan") && !result.stdout.contains("inf "), "\(result)")
    }

    // MARK: - Ctrl-C at the keyboard

    /// The long commands, what to type to start one, and what its stop looks like.
    static let longCommands: [(name: String, command: String, stopped: String)] = [
        ("train", "train epochs=1000 batch=32", "stopped by Ctrl-C after batch"),
        // At a terminal "error:" is coloured; the message follows it.
        ("logpx", "logpx k=100000 limit=1000", "interrupted\n"),
        ("sample out=", "source SANDBOX/sample-loop.vae", "interrupted\n"),
    ]

    @Test("Ctrl-C during a long command stops it at a safe point; the session is as it was (or as after the last step)",
          arguments: longCommands.map(\.name))
    func interruptAtTheKeyboard(name: String) throws {
        let (_, command, stopped) = try #require(Self.longCommands.first { $0.name == name })
        let sandbox = try Sandbox()
        try Self.writeSampleLoop(sandbox)
        let terminal = try InteractiveModeTests.start(sandbox)
        try terminal.type(Self.setup + Key.enter)
        try terminal.expect(Self.loadedPrompt, timeout: 60)
        try terminal.type(command.replacingOccurrences(of: "SANDBOX", with: sandbox.directory.path) + Key.enter)
        usleep(1_500_000)  // well inside the command
        terminal.send(Key.interrupt)
        try terminal.expect(stopped, timeout: 30)
        try terminal.expect(Self.loadedPrompt, timeout: 30)
        if name == "train" {
            // Trained up to the stop: the model moved, and undo returns to before the command.
            try terminal.type("kl index=0; assert kl != before; undo; kl index=0; assert kl == before; echo \"undone-{1 + 1}\"" + Key.enter)
            try terminal.expect("undone-2\n", timeout: 30)
        } else {
            try terminal.type("kl index=0; assert kl == before; echo \"same-{1 + 1}\"" + Key.enter)
            try terminal.expect("same-2\n", timeout: 30)
        }
        try terminal.expect(Self.loadedPrompt)
        if name == "sample out=" { try Self.expectCompletePicture(sandbox) }
        try terminal.type(Key.endOfFile)
        #expect(try terminal.waitForExit() == .exited(0))
    }

    @Test("a second Ctrl-C within a second, while a command is stuck away from its safe points, leaves at once with 130")
    func secondInterruptAtTheKeyboard() throws {
        let sandbox = try Sandbox()
        // Opening a FIFO nobody writes blocks, and Ctrl-C does not end the wait (SA_RESTART): a
        // command that never reaches a safe point, as a stuck one would.
        let fifo = sandbox.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let terminal = try InteractiveModeTests.start(sandbox)
        try terminal.type("echo \"stuck-{1 + 1}\"; source \(fifo)" + Key.enter)
        try terminal.expect("stuck-2\n")
        usleep(300_000)
        terminal.send(Key.interrupt)
        usleep(300_000)
        #expect(terminal.child.wait(timeout: 0) == nil, "one Ctrl-C only asks the command to stop")
        terminal.send(Key.interrupt)
        #expect(try terminal.waitForExit(timeout: 5) == .exited(130))
        #expect(terminal.transcript.contains("vaesh: interrupted"))
    }

    // MARK: - SIGINT to a batch run

    @Test("kill -INT during a long command in a script: it stops at a safe point, and the script ends with 130",
          arguments: longCommands.map(\.name))
    func interruptABatchRun(name: String) throws {
        let (_, command, stopped) = try #require(Self.longCommands.first { $0.name == name })
        let sandbox = try Sandbox()
        try Self.writeSampleLoop(sandbox)
        let script = try sandbox.write("long.vae", Self.setup.replacingOccurrences(of: "; ", with: "\n")
            + "\necho \"running\"\n" + command.replacingOccurrences(of: "SANDBOX", with: sandbox.directory.path) + "\necho \"not reached\"\n")
        let shell = try sandbox.start(["--no-rc", script])
        try shell.waitForOutput("running\n", timeout: 60)
        usleep(1_000_000)
        shell.child.signal(SIGINT)
        let result = try shell.finish(timeout: 30)
        #expect(result.termination == .exited(130), "\(result)")
        // train says where it stopped; a script stopped between two commands just ends.
        if name == "train" { #expect(result.stdout.contains(stopped), "\(result)") }
        #expect(!result.stdout.contains("not reached"))
        if name == "sample out=" { try Self.expectCompletePicture(sandbox) }
    }

    @Test("two kill -INT within a second leave at once with 130, even from a command stuck away from its safe points")
    func secondInterruptToABatchRun() throws {
        let sandbox = try Sandbox()
        let fifo = sandbox.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let script = try sandbox.write("stuck.vae", "echo \"running\"\nsource \(fifo)\necho \"not reached\"\n")
        let shell = try sandbox.start(["--no-rc", script])
        try shell.waitForOutput("running\n")
        usleep(300_000)
        shell.child.signal(SIGINT)
        usleep(300_000)
        #expect(shell.child.wait(timeout: 0) == nil, "one SIGINT only asks the command to stop")
        shell.child.signal(SIGINT)
        let start = Date()
        let result = try shell.finish(timeout: 10)
        #expect(result.termination == .exited(130), "\(result)")
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(result.stderr.contains("vaesh: interrupted"), "\(result)")
        #expect(!result.stdout.contains("not reached"))
    }

    /// A script that writes the same picture over and over.
    static func writeSampleLoop(_ sandbox: Sandbox) throws {
        try sandbox.write("sample-loop.vae", String(repeating: "sample 256 out=\(sandbox.path("s.png"))\n", count: 2000))
    }

    /// `s.png`, if there, is a whole PNG (signature … IEND), and no temporary file is left beside it.
    static func expectCompletePicture(_ sandbox: Sandbox) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)
        #expect(!files.contains { $0.hasPrefix(".s.png.tmp-") }, "\(files)")
        guard let data = FileManager.default.contents(atPath: sandbox.path("s.png")) else { return }
        let bytes = Array(data)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(bytes.suffix(12) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    // MARK: - SIGKILL during save

    @Test("SIGKILL in the middle of saving a 40 MB checkpoint, 10 times: the previous file is whole and opens every time")
    func killedWhileSaving() throws {
        let sandbox = try Sandbox()
        let checkpoint = sandbox.path("big.safetensors")
        func save(seed: Int) throws -> RunningShell {
            try sandbox.start(["--no-rc", "--seed", String(seed), "-c",
                               "load mnist limit=10; model hidden=6000 latent=20; save \(checkpoint)"])
        }
        func opens() throws -> Bool {
            // --width 0: the long sandbox path would otherwise wrap the line this looks for.
            let result = try sandbox.run(["--no-rc", "--width", "0", "-c", "load mnist limit=10; open \(checkpoint); kl index=0"], timeout: 120)
            return result.termination == .exited(0) && result.stdout.contains("opened \(checkpoint): 784-6000-20")
        }
        #expect(try save(seed: 0).finish(timeout: 120).termination == .exited(0))
        var killedMidWrite = 0
        for round in 1...10 {
            let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            let shell = try save(seed: round)
            // Kill as soon as the temporary file appears: between its creation and the rename.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && shell.child.wait(timeout: 0) == nil {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)) ?? []
                if names.contains(where: { $0.hasPrefix(".big.safetensors.tmp-") }) { break }
                usleep(1_000)
            }
            shell.child.signal(SIGKILL)
            let ended = try shell.finish(timeout: 30)
            let after = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            if ended.termination == .signalled(SIGKILL) && after == before { killedMidWrite += 1 }
            // Whether the kill came before or after the rename, the file at the path opens.
            #expect(try opens(), "round \(round): \(ended)")
        }
        #expect(killedMidWrite >= 5, "only \(killedMidWrite) of 10 kills landed inside a save")

        // What the killed saves left is hidden, and no loader reads it; the next save of the name
        // removes it once its process is gone and a minute has passed (the clock is set back here).
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)
            .filter { $0.hasPrefix(".big.safetensors.tmp-") }
        for name in leftovers {
            var times = [timeval(tv_sec: time(nil) - 120, tv_usec: 0), timeval(tv_sec: time(nil) - 120, tv_usec: 0)]
            utimes(sandbox.path(name), &times)
        }
        #expect(try save(seed: 99).finish(timeout: 120).termination == .exited(0))
        let remaining = try FileManager.default.contentsOfDirectory(atPath: sandbox.directory.path)
            .filter { $0.hasPrefix(".big.safetensors.tmp-") }
        #expect(remaining.isEmpty, "\(leftovers.count) left by killed saves, \(remaining.count) after the next save")
        #expect(try opens())
    }

    // MARK: - Hang-ups

    @Test("SIGHUP at the prompt, and while a command runs, keeps every line typed in the history")
    func hangUpSignal() throws {
        let sandbox = try Sandbox()
        try sandbox.write("history", "echo \"older\"\n")
        let terminal = try InteractiveModeTests.start(sandbox)
        try terminal.type(#"echo "one""# + Key.enter)
        try terminal.expect("one\n")
        try terminal.expect(InteractiveModeTests.prompt)
        terminal.child.signal(SIGHUP)
        _ = try terminal.waitForExit()
        #expect(sandbox.read("history") == "echo \"older\"\necho \"one\"\n")

        let second = try InteractiveModeTests.start(sandbox)
        try second.type(Self.setup + "; train epochs=1000" + Key.enter)
        try second.expect("minimising loss", timeout: 60)
        second.child.signal(SIGHUP)
        _ = try second.waitForExit()
        #expect(sandbox.read("history") == "echo \"older\"\necho \"one\"\n" + Self.setup + "; train epochs=1000\n")
    }

    @Test("SIGKILL at random moments while commands are typed never empties or shortens the history")
    func historySurvivesKills() throws {
        let sandbox = try Sandbox()
        let old = (1...1000).map { "echo \"old \($0)\"" }
        try sandbox.write("history", old.joined(separator: "\n") + "\n")
        var generator = SystemRandomNumberGenerator()
        for round in 1...8 {
            let terminal = try InteractiveModeTests.start(sandbox)
            for index in 1...5 {
                try terminal.type("echo \"round \(round) line \(index)\"" + Key.enter)
            }
            usleep(UInt32.random(in: 0...20_000, using: &generator))
            terminal.child.signal(SIGKILL)
            _ = try terminal.waitForExit()
            let lines = (sandbox.read("history") ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.last == "", "the file ends with a whole line")
            #expect(lines.count - 1 == 1000, "round \(round): \(lines.count - 1) entries")
            #expect(lines.dropLast().allSatisfy { $0.hasPrefix("echo \"old ") || $0.hasPrefix("echo \"round ") })
        }
    }

    // MARK: - A full or read-only disk

    /// Root with mount rights: a private mount namespace can mount a tiny tmpfs.
    static let canMount: Bool = {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
              let sandbox = try? Sandbox() else { return false }
        let result = try? sandbox.runShellScript(#"exec /usr/bin/unshare -m /bin/sh -c 'mount -t tmpfs -o size=64k tmpfs "$HOME"'"#)
        return result?.status == 0
    }()

    @Test("disk full, then read-only: save and sample out= fail clearly and leave the earlier files as they were",
          .enabled(if: canMount, "needs root and mount namespaces (unshare -m)"))
    func fullAndReadOnlyDisk() throws {
        let sandbox = try Sandbox()
        try Fixtures.write(into: sandbox)
        let data = "load csv \(sandbox.path("tiny.csv")) test=\(sandbox.path("tiny-test.csv"))"
        let earlier = try sandbox.run(["--no-rc", "-c", "\(data); model hidden=8 latent=2; save \(sandbox.path("m.safetensors")); sample 4 out=\(sandbox.path("s.png"))"])
        #expect(earlier.termination == .exited(0), "\(earlier)")
        try sandbox.write("disk.vae", """
            \(data)
            model hidden=64 latent=8
            kl index=0
            let before = kl
            save \(sandbox.path("disk/m.safetensors"))
            sample 16 out=\(sandbox.path("disk/s.png"))
            kl index=0
            assert kl == before
            echo "still working"

            """)
        let disk = sandbox.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        // In a private mount namespace: a 64 KB tmpfs holding the earlier files, filled to the brim.
        let result = try sandbox.runShellScript("""
            cd '\(sandbox.directory.path)' && exec /usr/bin/unshare -m /bin/sh -c '
              mount -t tmpfs -o size=64k tmpfs disk || exit 77
              cp m.safetensors s.png disk/ && dd if=/dev/zero of=disk/filler bs=1k count=100 2>/dev/null
              "$VAESH" --no-rc --keep-going disk.vae > full.out 2> full.err; echo $? > full.status
              cmp m.safetensors disk/m.safetensors && cmp s.png disk/s.png && echo same > full.files
              ls -A disk > full.listing
              mount -o remount,ro disk
              "$VAESH" --no-rc --keep-going disk.vae > ro.out 2> ro.err; echo $? > ro.status
              cmp m.safetensors disk/m.safetensors && cmp s.png disk/s.png && echo same > ro.files
              true'
            """, timeout: 120)
        #expect(result.termination == .exited(0), "\(result)")
        for (run, reason) in [("full", "no space left on device"), ("ro", "read-only file system")] {
            let errors = (sandbox.read("\(run).err") ?? "").split(separator: "\n").filter { $0.contains("error: ") }
            #expect(sandbox.read("\(run).status") == "1\n")
            #expect(errors.count == 2, "\(run): \(errors)")
            #expect(errors.first?.contains("disk.vae:5:1: error: \(disk)/m.safetensors: cannot save") == true, "\(errors)")
            #expect(errors.last?.contains("disk.vae:6:1: error: \(disk)/s.png: cannot save") == true, "\(errors)")
            #expect(errors.allSatisfy { $0.hasSuffix(reason) }, "\(errors)")
            #expect(sandbox.read("\(run).out")?.hasSuffix("still working\n") == true)
            #expect(sandbox.read("\(run).files") == "same\n", "\(run): the earlier files changed")
        }
        #expect(sandbox.read("ro.err")?.contains("hint: save into a writable folder; any earlier file at this path is unchanged") == true)
        #expect(sandbox.read("full.err")?.contains("hint: free some disk space and save again") == true)
        #expect(sandbox.read("full.listing") == "filler\nm.safetensors\ns.png\n", "no temporary file is left")
    }

    @Test("a folder the user cannot write: save and sample out= fail clearly and leave the earlier files as they were")
    func unwritableFolder() throws {
        let sandbox = try Sandbox()
        try Fixtures.write(into: sandbox)
        let folder = sandbox.path("locked")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let data = "load csv \(sandbox.path("tiny.csv")) test=\(sandbox.path("tiny-test.csv"))"
        let earlier = try sandbox.run(["--no-rc", "-c", "\(data); model hidden=8 latent=2; save \(folder)/m.safetensors; sample 4 out=\(folder)/s.png"])
        #expect(earlier.termination == .exited(0), "\(earlier)")
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        chmod(folder, 0o555)
        let script = try sandbox.write("locked.vae", "\(data)\nmodel hidden=64 latent=8\nsave \(folder)/m.safetensors\nsample 16 out=\(folder)/s.png\necho \"still working\"\n")
        let arguments = ["--no-rc", "--keep-going", script]
        let result: ShellResult
        if geteuid() == 0 {
            // Root writes whatever the mode: run as nobody, whom the mode stops.
            chmod(sandbox.directory.path, 0o755)
            result = try RunningShell(sandbox: sandbox, executable: "/usr/bin/setpriv",
                                      arguments: ["--reuid=65534", "--regid=65534", "--clear-groups", ShellBinary.require()] + arguments,
                                      stdin: .text(""), environment: [:]).finish(timeout: 60)
        } else {
            result = try sandbox.run(arguments)
        }
        chmod(folder, 0o755)
        #expect(result.termination == .exited(1), "\(result)")
        let errors = result.stderr.split(separator: "\n").filter { $0.contains("error: ") }
        #expect(errors.count == 2 && errors.allSatisfy { $0.hasSuffix("cannot save (creating a temporary file beside it): permission denied") }, "\(result)")
        #expect(result.stderr.contains("hint: save into a writable folder; any earlier file at this path is unchanged"))
        #expect(result.stdout.hasSuffix("still working\n"))
        let after = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        #expect(before == after && after.count == 2)
    }

    // MARK: - A long session

    /// Peak resident memory of `vaesh script`, read from /proc while it runs (VmHWM only grows).
    static func peakMemory(_ sandbox: Sandbox, commands: Int) throws -> (kilobytes: Int, result: ShellResult) {
        let cheap = ["kl limit=10", "let x = kl + 1", "assert x > 0"]
        let script = try sandbox.write("session-\(commands).vae", "load mnist limit=100\nmodel hidden=32 latent=4\n"
            + (0..<commands).map { cheap[$0 % 3] }.joined(separator: "\n") + "\necho \"done\"\n")
        let shell = try sandbox.start(["--no-rc", script])
        var peak = 0
        while shell.child.wait(timeout: 0.02) == nil {
            if let status = try? String(contentsOfFile: "/proc/\(shell.child.pid)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kilobytes)
            }
        }
        return (peak, try shell.finish(timeout: 5))
    }

    @Test("100,000 cheap commands run in flat memory")
    func longSession() throws {
        let sandbox = try Sandbox()
        let short = try Self.peakMemory(sandbox, commands: 1_000)
        let long = try Self.peakMemory(sandbox, commands: 100_000)
        #expect(short.result.termination == .exited(0) && long.result.termination == .exited(0), "\(long.result)")
        #expect(long.result.stdout.hasSuffix("done\n"))
        // The script's own text (1.3 MB) is held while it runs; beyond that, no growth per command.
        #expect(long.kilobytes - short.kilobytes < 8_000, "peak RSS \(short.kilobytes) kB at 1,000 commands, \(long.kilobytes) kB at 100,000")
        if let report = ProcessInfo.processInfo.environment["VAESH_FAULT_REPORT"] {
            try "peak RSS: \(short.kilobytes) kB at 1,000 commands, \(long.kilobytes) kB at 100,000\n"
                .write(toFile: report, atomically: true, encoding: .utf8)
        }
    }
}
