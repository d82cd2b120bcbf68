import Foundation
import Testing

/// What reaches the screen: the width, escape sequences, progress, and a binary that stands alone.
@Suite("The screen")
struct ScreenTests {
    static let escape = "\u{1B}"

    @Test("a vaesh copied out of the build folder still has the embedded MNIST subset")
    func copiedBinaryStandsAlone() throws {
        let sandbox = try Sandbox()
        let copy = sandbox.path("elsewhere-vaesh")
        try FileManager.default.copyItem(atPath: try ShellBinary.require(), toPath: copy)
        let result = try RunningShell(sandbox: sandbox, executable: copy, arguments: ["--no-rc", "-c", "load mnist limit=10"],
                                      stdin: .text(""), environment: ["VAESH_DATA": "/nonexistent-vaesh-data"]).finish(timeout: 60)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("loaded embedded MNIST subset"), "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    @Test("TERM=dumb: no escape sequence reaches the terminal, and training still shows its progress")
    func dumbTerminalGetsNoEscapes() throws {
        let sandbox = try Sandbox()
        var environment = sandbox.environment
        environment["TERM"] = "dumb"
        let terminal = try PseudoTerminal(
            arguments: ["--no-rc", "-c", "load mnist limit=200; model hidden=8 latent=2; sample 2; train epochs=1 batch=5"],
            environment: environment, columns: 80)
        #expect(try terminal.waitForExit(timeout: 120) == .exited(0), "\(terminal.transcript)")
        #expect(!terminal.transcript.contains(Self.escape), "\(terminal.transcript.debugDescription)")
        #expect(terminal.transcript.contains("2 samples from the prior"))
        #expect(terminal.transcript.contains("epoch 1"), "the progress line, drawn with carriage returns")
    }

    @Test("at 80 columns every line fits, progress lines included")
    func everythingFitsEightyColumns() throws {
        let sandbox = try Sandbox()
        let terminal = try PseudoTerminal(
            arguments: ["--no-rc", "-c", "load mnist limit=500; model hidden=8 latent=2; train epochs=1 batch=5; show-sign limit=20 k=50; help train; curves"],
            environment: sandbox.environment, columns: 80)
        #expect(try terminal.waitForExit(timeout: 180) == .exited(0), "\(terminal.transcript)")
        // A progress line is redrawn after ESC [2K; what follows up to the next one is one line.
        // The question for an image protocol before the chart takes no room (ImageProtocolTests).
        let shown = terminal.transcript.replacingOccurrences(of: "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[>q\u{1B}[c", with: "")
        let lines = shown.components(separatedBy: Self.escape + "[2K").flatMap { $0.split(separator: "\n") }
        // A single word longer than the line (the sandbox's long path) stays whole, by design.
        let tooWide = lines.filter { $0.count > 80 && $0.drop { $0 == " " }.contains(" ") }
        #expect(tooWide.isEmpty, "lines wider than 80 columns:\n\(tooWide.joined(separator: "\n"))")
        #expect(terminal.transcript.contains("ETA"))
    }

    @Test("logpx with a large K shows its progress and an ETA on a terminal, and nothing of it in a pipe")
    func longCommandsShowProgress() throws {
        let sandbox = try Sandbox()
        let script = "load mnist limit=20; model hidden=8 latent=2; logpx limit=20 k=200000"
        let terminal = try PseudoTerminal(arguments: ["--no-rc", "-c", script], environment: sandbox.environment, columns: 80)
        #expect(try terminal.waitForExit(timeout: 300) == .exited(0), "\(terminal.transcript)")
        #expect(terminal.transcript.contains("logpx K=200,000"), "\(terminal.transcript)")
        #expect(terminal.transcript.contains("ETA"))
        #expect(terminal.transcript.contains("log p̂(x), IWAE K=200000"))

        let piped = try sandbox.run(["--no-rc", "-c", "load mnist limit=20; model hidden=8 latent=2; logpx limit=5 k=100000"], timeout: 300)
        #expect(piped.status == 0, "\(piped)")
        #expect(!piped.stdout.contains("ETA") && !piped.stdout.contains(Self.escape), "\(piped)")
    }

    @Test("--width lays output out for N columns; 0 or at least 20")
    func widthFlag() throws {
        let sandbox = try Sandbox()
        let narrow = try sandbox.run(["--no-rc", "--width", "30", "-c", #"echo "one two three four five six seven eight nine ten"; vars"#])
        #expect(narrow.stdout == """
            one two three four five six
            seven eight nine ten
            no variables yet: 'let x = 1'
              sets one; commands set those
              they compute

            """, "\(narrow)")
        let refused = try sandbox.run(["--no-rc", "--width", "5", "-c", "echo hi"])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("--width must be 0 (no wrapping) or at least 20 columns, not 5"), "\(refused)")
    }

    @Test("--man-page writes the manual from the flags and the command table")
    func manPage() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--man-page"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix(".TH VAESH 1"))
        for flag in [#"\-\-keep\-going"#, #"\-\-seed"#, #"\-\-width"#, #"\-\-step"#] {
            #expect(result.stdout.contains(flag), "\(flag) missing from the manual")
        }
        #expect(!result.stdout.contains(#"\-\-man\-page"#), "the hidden flag stays hidden")
        #expect(result.stdout.contains(#".B show\-sign"#) && result.stdout.contains(".SS Objective terms"))
        #expect(!result.stdout.split(separator: "\n").contains { $0.hasPrefix("'") }, "no line may start with a roff control character")
    }
}
