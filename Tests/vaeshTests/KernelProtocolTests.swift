import Foundation
import Glibc
import TestSupport
import Testing

/// `vaesh --kernel-protocol`, the half of the Jupyter kernel that is vaesh: JSON lines in, frames
/// out (jupyter/README.md). The Python half and Jupyter itself are tested by jupyter/run-tests;
/// these run with the Swift tests and need no Python.
@Suite("Kernel protocol")
struct KernelProtocolTests {
    /// The frames of a run, parsed; the first must be `ready`.
    private func frames(_ stdout: String) throws -> [[String: Any]] {
        let frames = try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a frame: \(line)")
        }
        #expect(frames.first?["type"] as? String == "ready")
        #expect(frames.first?["protocol"] as? Int == 1)
        return frames
    }

    private func request(_ fields: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self) + "\n"
    }

    private func replies(_ frames: [[String: Any]]) -> [[String: Any]] {
        frames.filter { $0["type"] as? String == "reply" }
    }

    private func text(_ frames: [[String: Any]], id: Int, stream: String = "stdout") -> String {
        frames.filter { $0["type"] as? String == "stream" && $0["id"] as? Int == id && $0["name"] as? String == stream }
            .compactMap { $0["text"] as? String }.joined()
    }

    @Test("a cell runs as a script named cell: output as it comes, state kept, the first error located and last")
    func cellsRunAsScripts() throws {
        let sandbox = try Sandbox()
        let input = try request(["type": "execute", "id": 1, "code": "let x = 41\necho \"x = {x}\""])
            + request(["type": "execute", "id": 2, "code": "echo \"{x + 1}\"\ntran epochs=1\necho \"never\""])
            + request(["type": "execute", "id": 3, "code": "echo \"still {x}\""])
        let result = try sandbox.run(["--kernel-protocol"], stdin: input)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr == "")
        let frames = try frames(result.stdout)
        #expect(text(frames, id: 1) == "x = 41\n")
        #expect(text(frames, id: 2) == "42\n")
        #expect(text(frames, id: 3) == "still 41\n")
        let answers = replies(frames)
        #expect(answers.map { $0["status"] as? String } == ["ok", "error", "ok"])
        let error = try #require(answers[1]["error"] as? [String: Any])
        #expect(error["name"] as? String == "ScriptError")
        #expect(error["location"] as? String == "cell:2:1")
        #expect(error["message"] as? String == "unknown command 'tran'; did you mean 'train'?")
        #expect(error["rendered"] as? String == "cell:2:1: error: unknown command 'tran'; did you mean 'train'?\ntran epochs=1\n^~~~\n")
    }

    @Test("a picture is a display frame holding a PNG and its description, not characters")
    func picturesArePNG() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(["--kernel-protocol"], stdin: try request(["type": "execute", "id": 7,
                                                                                 "code": "load mnist limit=100\nmodel\nsample 3"]))
        let frames = try frames(result.stdout)
        let display = try #require(frames.first { $0["type"] as? String == "display" })
        #expect(display["id"] as? Int == 7)
        let data = try #require(display["data"] as? [String: String])
        let base64 = try #require(data["image/png"])
        let png = try PNGTestDecoder.decode(Array(try #require(Data(base64Encoded: base64))))
        #expect(png.width == 92)
        #expect(png.height == 32)
        #expect(data["text/plain"]?.hasPrefix("3 samples from the prior") == true)
        #expect(!text(frames, id: 7).contains("@"), "no picture in characters as well")
    }

    @Test("completion, help and completeness answer from the command table and the lexer")
    func lookingRequests() throws {
        let sandbox = try Sandbox()
        let input = try request(["type": "complete", "id": 1, "code": "load mnist\nshow-si", "cursor": 18])
            + request(["type": "complete", "id": 2, "code": "echo \"é\"; train epo", "cursor": 19])
            + request(["type": "inspect", "id": 3, "code": "load mnist limit=1", "cursor": 2])
            + request(["type": "inspect", "id": 4, "code": "nothing here", "cursor": 2])
            + request(["type": "is_complete", "id": 5, "code": "echo \"open"])
            + request(["type": "is_complete", "id": 6, "code": "echo \"\\q\""])
            + request(["type": "is_complete", "id": 7, "code": "train epochs=2"])
        let answers = replies(try frames(try sandbox.run(["--kernel-protocol"], stdin: input).stdout))
        try #require(answers.count == 7)
        #expect(answers[0]["matches"] as? [String] == ["show-sign"])
        #expect(answers[0]["cursor_start"] as? Int == 11)
        #expect(answers[1]["matches"] as? [String] == ["epochs="])
        #expect(answers[1]["cursor_start"] as? Int == 16, "counted in Unicode scalars, as Jupyter counts")
        #expect((answers[2]["text"] as? String)?.hasPrefix("usage: load mnist") == true)
        #expect(answers[3]["found"] as? Bool == false)
        #expect(answers.dropFirst(4).map { $0["completeness"] as? String } == ["incomplete", "invalid", "complete"])
    }

    @Test("lines that are not requests get error replies, and the next request is served")
    func malformedRequests() throws {
        let sandbox = try Sandbox()
        var input = "not json\n[1, 2]\n{\"id\": 5}\n\n"
        input += try request(["type": "fly", "id": 6])
        input += try request(["type": "execute", "id": 7])
        input += try request(["type": "execute", "id": 8, "code": 12])
        input += try request(["type": "complete", "id": 9, "code": "x", "cursor": -1])
        input += "{\"type\": \"execute\", \"id\": 10, \"code\": \"echo \u{FF}\"}\n"
        input += try request(["type": "execute", "id": 11, "code": "echo \"a\u{0}b\""])
        input += try request(["type": "execute", "id": 12, "code": "echo \"served\""])
        let result = try sandbox.run(["--kernel-protocol"], stdin: input)
        let answers = replies(try frames(result.stdout))
        let messages = answers.map { (($0["error"] as? [String: Any])?["message"] as? String) ?? "ok" }
        #expect(messages == [
            "malformed request: unexpected 'o' (expected 'null') at request byte 2",
            "malformed request: a request is a JSON object, not an array",
            "malformed request: it needs a \"type\" string (execute, complete, inspect, is_complete or shutdown)",
            "malformed request: the request is empty",
            "unknown request type 'fly'; the requests are execute, complete, inspect, is_complete and shutdown",
            "malformed execute request: it needs \"code\"",
            "malformed execute request: \"code\" must be a string, not a number",
            "malformed complete request: \"cursor\" must be a whole number ≥ 0, not -1",
            "ok",
            "vaesh: cannot read 'cell': line 1 contains a NUL byte; is it a binary file?",
            "ok",
        ], "\(result)")
        #expect(answers.map { $0["id"] as? Int } == [nil, nil, 5, nil, 6, 7, 8, 9, 10, 11, 12])
    }

    @Test("bytes that are not UTF-8 get an error reply")
    func invalidUTF8() throws {
        let sandbox = try Sandbox()
        let result = try sandbox.runShellScript(#"printf '\377\n{"type":"execute","id":2,"code":"echo ok"}\n' | "$VAESH" --kernel-protocol"#)
        let frames = try frames(result.stdout)
        let answers = replies(frames)
        #expect((answers.first?["error"] as? [String: Any])?["message"] as? String == "malformed request: the line is not valid UTF-8")
        #expect(text(frames, id: 2) == "ok\n")
    }

    @Test("Ctrl-C while idle is dropped; during train it stops at a batch and keeps the model")
    func interrupts() throws {
        let sandbox = try Sandbox()
        let shell = try sandbox.start(["--kernel-protocol"], stdin: .openPipe)
        try shell.waitForOutput("\"ready\"")
        shell.child.signal(SIGINT)
        usleep(100_000)
        shell.child.signal(SIGINT)  // a second one within a second ends a shell, not a kernel
        shell.send(try request(["type": "execute", "id": 1, "code": "load mnist\nmodel\necho \"set up\""]))
        try shell.waitForOutput("\"request\":\"execute\",\"status\":\"ok\"")
        shell.send(try request(["type": "execute", "id": 2, "code": "train epochs=1000\necho \"not reached\""]))
        try shell.waitForOutput("\"text\":\"    1 ", timeout: 60)  // the first epoch's row
        shell.child.signal(SIGINT)
        try shell.waitForOutput("\"name\":\"Interrupted\"", timeout: 30)
        shell.send(try request(["type": "execute", "id": 3, "code": "assert epoch >= 1\necho \"model kept\""]))
        shell.send(try request(["type": "shutdown", "id": 4]))
        let result = try shell.finish(timeout: 30)
        #expect(result.status == 0, "\(result)")
        let frames = try frames(result.stdout)
        #expect(text(frames, id: 1) .hasSuffix("set up\n"))
        #expect(text(frames, id: 2).contains("stopped by Ctrl-C after batch"))
        #expect(!text(frames, id: 2).contains("not reached"))
        #expect(text(frames, id: 3) == "model kept\n")
        #expect(replies(frames).map { $0["status"] as? String } == ["ok", "error", "ok", "ok"])
    }

    @Test("a cell cannot read the kernel's requests, and stray stdout cannot break a frame")
    func privatePipes() throws {
        let sandbox = try Sandbox()
        let input = try request(["type": "execute", "id": 1, "code": "source /dev/stdin\necho \"after\""])
            + request(["type": "execute", "id": 2, "code": "echo \"second\""])
        let result = try sandbox.run(["--kernel-protocol"], stdin: input, timeout: 30)
        let frames = try frames(result.stdout)
        #expect(text(frames, id: 1) == "after\n")
        #expect(text(frames, id: 2) == "second\n")
    }
}
