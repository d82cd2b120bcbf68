@preconcurrency import Glibc
import VAEFormats
import VAEScript

/// `vaesh --kernel-protocol`: the vaesh half of the Jupyter kernel.
///
/// The Python half (jupyter/vaesh_kernel, on ipykernel) speaks Jupyter's messaging protocol and
/// drives this process over a pipe, one JSON object per line each way (jupyter/README.md):
///
/// ```
/// → {"type":"execute","id":3,"code":"load mnist\nmodel"}
/// ← {"type":"stream","id":3,"name":"stdout","text":"loaded …\n"}      (as the cell runs)
/// ← {"type":"display","id":3,"data":{"image/png":"iVBOR…","text/plain":"16 samples …"},"metadata":{…}}
/// ← {"type":"reply","id":3,"request":"execute","status":"ok"}
/// ```
///
/// Requests: `execute` (code), `complete` and `inspect` (code, cursor in Unicode scalars, as
/// Jupyter counts), `is_complete` (code), `shutdown`. A cell runs through the one `InputLoop` as a
/// script named `cell`: it stops at its first error, which comes back located (`cell:2:7`) in the
/// reply. The session lives as long as the process, so data, model and variables carry from cell
/// to cell. A line that is not a request gets a reply with status `error` and the loop goes on.
final class KernelServer {
    /// Bumped when a frame changes meaning; the kernel checks it in the `ready` frame.
    static let protocolVersion = 1

    private let options: SessionOptions
    private let channel: KernelChannel
    private let output: KernelOutput
    private var session: Session
    private let requests: UnsafeMutablePointer<FILE>

    private init(options: SessionOptions, channel: KernelChannel, requests: UnsafeMutablePointer<FILE>) {
        self.options = options
        self.channel = channel
        output = KernelOutput(channel: channel)
        self.requests = requests
        session = Session(options: options, output: output)
        output.reportsAreJSON = { [unowned self] in self.session.settings.json }
    }

    /// Serves requests from stdin until `shutdown` or the end of input; the exit status.
    ///
    /// The protocol moves to private copies of stdin and stdout, and the originals are pointed at
    /// /dev/null and stderr: a stray write to stdout (a C library's warning) cannot break a frame,
    /// and nothing a cell does (`source /dev/stdin`) can read the kernel's requests.
    static func run(options: SessionOptions) -> Int32 {
        let requestDescriptor = dup(STDIN_FILENO), frameDescriptor = dup(STDOUT_FILENO)
        let null = open("/dev/null", O_RDONLY)
        guard requestDescriptor >= 0, frameDescriptor >= 0, null >= 0,
              dup2(null, STDIN_FILENO) >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0,
              let requests = fdopen(requestDescriptor, "r") else {
            fputs("vaesh: --kernel-protocol: cannot set up the pipes: \(String(cString: strerror(errno)))\n", stderr)
            return 1
        }
        close(null)
        for descriptor in [requestDescriptor, frameDescriptor] { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }

        SignalHandling.install(evenIfIgnored: true)
        SignalHandling.enter(.kernel)
        let channel = KernelChannel(descriptor: frameDescriptor)
        let server = KernelServer(options: options, channel: channel, requests: requests)
        channel.send([("type", .string("ready")), ("implementation", .string("vaesh")), ("version", .string(vaeshVersion)),
                      ("protocol", .int(protocolVersion))])
        return server.serve()
    }

    private func serve() -> Int32 {
        while let line = nextLine() {
            let request: KernelRequest
            switch KernelRequest.parse(line) {
            case .success(let parsed): request = parsed
            case .failure(let problem):
                output.begin(problem.id)
                reply(to: nil, .error(name: "ProtocolError", message: problem.message))
                continue
            }
            output.begin(request.id)
            do throws(KernelRequest.Problem) {
                switch request.type {
                case "execute": try execute(request)
                case "complete": try complete(request)
                case "inspect": try inspect(request)
                case "is_complete": try isComplete(request)
                case "shutdown":
                    reply(to: request.type, .ok([]))
                    return 0
                default:
                    throw KernelRequest.Problem(id: request.id, message: "unknown request type '\(request.type)'; "
                                                + "the requests are execute, complete, inspect, is_complete and shutdown")
                }
            } catch {
                reply(to: request.type, .error(name: "ProtocolError", message: error.message))
            }
        }
        return 0
    }

    /// The next request line's bytes without the newline; nil at the end of input.
    private func nextLine() -> [UInt8]? {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        let count = getline(&buffer, &capacity, requests)
        guard count >= 0, let buffer else { return nil }
        var bytes = UnsafeRawBufferPointer(start: buffer, count: count)
        if bytes.last == UInt8(ascii: "\n") { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        return Array(bytes)
    }

    // MARK: - Requests

    private func execute(_ request: KernelRequest) throws(KernelRequest.Problem) {
        let code = try request.string("code")
        // An interrupt that arrived while no cell ran was for nothing: it must not stop this cell.
        session.interrupt.clear()
        let text: String
        do {
            text = try ScriptText.decode(Array(code.utf8), name: "cell")
        } catch {
            reply(to: request.type, .error(name: "ScriptError", message: error.message))
            return
        }
        switch InputLoop.run(StringLineSource(text), name: "cell", session: session) {
        case .finished(let failures) where failures == 0:
            reply(to: request.type, .ok([]))
        case .finished:
            reply(to: request.type, .failed(output.errors, interrupted: false))
        case .aborted:
            reply(to: request.type, .failed(output.errors, interrupted: true))
        case .quit(let status):
            // The session ends as at the prompt; the process stays for the next cell, which
            // starts a new session (as a notebook's "restart" would, without one).
            session = Session(options: options, output: output)
            output.write("quit: this vaesh session has ended; the next cell starts a new one (no data, model or variables)\n")
            reply(to: request.type, .ok([("quit", .int(Int(status)))]))
        }
    }

    private func complete(_ request: KernelRequest) throws(KernelRequest.Problem) {
        let cursor = CellCursor(code: try request.string("code"), scalarOffset: try request.cursor())
        let matches = session.completions(line: cursor.line, cursor: cursor.byteInLine)
        let start = cursor.scalarOffset(ofByteInLine: session.completionWordStart(line: cursor.line, cursor: cursor.byteInLine))
        reply(to: request.type, .ok([("matches", .array(matches.map { .string($0) })), ("cursor_start", .int(start)),
                                     ("cursor_end", .int(cursor.scalarOffset))]))
    }

    private func inspect(_ request: KernelRequest) throws(KernelRequest.Problem) {
        let cursor = CellCursor(code: try request.string("code"), scalarOffset: try request.cursor())
        let help = session.helpText(line: cursor.line, cursor: cursor.byteInLine)
        reply(to: request.type, .ok([("found", .bool(help != nil)), ("text", help.map { .string($0) } ?? .null)]))
    }

    /// `incomplete` inside a quote or after a trailing `\` (the lexer's own signal, as the prompt's
    /// continuation uses it); `invalid` for other text the lexer refuses; else `complete`.
    private func isComplete(_ request: KernelRequest) throws(KernelRequest.Problem) {
        let code = try request.string("code")
        let status = session.isIncomplete(code) ? "incomplete" : (try? Lexer.tokenize(code)) == nil ? "invalid" : "complete"
        reply(to: request.type, .ok([("completeness", .string(status))]))
    }

    // MARK: - Replies

    private enum Outcome {
        case ok([(String, JSONValue)])
        case error(name: String, message: String)
        case failed([ErrorReport], interrupted: Bool)
    }

    private func reply(to type: String?, _ outcome: Outcome) {
        var members: [(String, JSONValue)] = [("type", .string("reply")), ("id", output.requestID),
                                              ("request", type.map { .string($0) } ?? .null)]
        switch outcome {
        case .ok(let fields):
            members.append(("status", .string("ok")))
            members += fields
        case .error(let name, let message):
            members.append(("status", .string("error")))
            members.append(("error", .object([("name", .string(name)), ("message", .string(message)), ("location", .null),
                                              ("hint", .null), ("rendered", .string(message + "\n"))])))
        case .failed(let errors, let interrupted):
            members.append(("status", .string("error")))
            members.append(("error", Self.errorObject(errors, interrupted: interrupted)))
        }
        channel.send(members)
    }

    /// The cell's error: the first one reported (a cell stops there), every rendering in order.
    /// An interrupt that stopped `train` reports no error of its own (train says it stopped), so
    /// that one is described here.
    private static func errorObject(_ errors: [ErrorReport], interrupted: Bool) -> JSONValue {
        let name = interrupted ? "Interrupted" : "ScriptError"
        guard let first = errors.first else {
            let message = interrupted
                ? "interrupted: the command stopped at a safe point and the rest of the cell did not run; the session keeps its data, model and variables"
                : "the cell failed"
            return .object([("name", .string(name)), ("message", .string(message)), ("location", .null), ("hint", .null),
                            ("rendered", .string(message + "\n"))])
        }
        return .object([("name", .string(name)), ("message", .string(first.message)),
                        ("location", first.sourceName == nil ? .null : .string(first.located)),
                        ("hint", first.hint.map { .string($0) } ?? .null),
                        ("rendered", .string(errors.map(\.rendered).joined()))])
    }
}
