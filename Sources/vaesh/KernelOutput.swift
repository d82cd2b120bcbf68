import Foundation
import VAEFormats
import VAEScript

/// The frames `vaesh --kernel-protocol` writes: one JSON object per line, each with a `type`.
/// The Python kernel (jupyter/vaesh_kernel) reads them; jupyter/README.md lists them all.
struct KernelChannel {
    /// The pipe to the kernel (a copy of the original stdout; see `KernelServer.run`).
    let descriptor: Int32

    func send(_ members: [(String, JSONValue)]) {
        // The descriptor's own writer: it loops over short writes and EINTR, and a kernel that is
        // gone (a closed pipe) ends this process with SIGPIPE, which is right: nobody is listening.
        StandardOutput(outputDescriptor: descriptor, errorDescriptor: descriptor).write(JSONValue.object(members).rendered + "\n")
    }
}

/// The session's output behind a notebook: text becomes `stream` frames, pictures `display`
/// frames with a PNG, and errors are kept for the cell's reply instead of being printed.
///
/// Every frame carries the id of the request being served, so the kernel can tell a late frame
/// of an abandoned request from those of the current one.
final class KernelOutput: OutputSink {
    private let channel: KernelChannel
    /// The request being served.
    var requestID: JSONValue = .null
    /// The errors reported since `begin`: the first one is the cell's error reply.
    private(set) var errors: [ErrorReport] = []
    /// True when reports are JSON objects (`set json=on`): stdout then carries nothing else (the
    /// language's rule under --json), so each write is shown as one JSON document.
    var reportsAreJSON: () -> Bool = { false }

    init(channel: KernelChannel) {
        self.channel = channel
    }

    /// Starts serving a request: frames carry its id, and no error is kept yet.
    func begin(_ id: JSONValue) {
        requestID = id
        errors = []
    }

    func write(_ text: String) {
        if reportsAreJSON(), let object = Self.jsonObject(text) {
            display(["application/json": object, "text/plain": .string(text)], metadata: [])
        } else {
            stream("stdout", text)
        }
    }

    func writeError(_ text: String) { stream("stderr", text) }

    func show(_ picture: Picture) {
        let png = Data(picture.png).base64EncodedString()
        display(["image/png": .string(png), "text/plain": .string(picture.description)],
                metadata: [("image/png", .object([("width", .int(picture.width)), ("height", .int(picture.height))]))])
    }

    func report(_ error: ErrorReport) { errors.append(error) }

    private func stream(_ name: String, _ text: String) {
        channel.send([("type", .string("stream")), ("id", requestID), ("name", .string(name)), ("text", .string(text))])
    }

    /// A MIME bundle, as Jupyter's `display_data` takes it.
    private func display(_ data: KeyValuePairs<String, JSONValue>, metadata: [(String, JSONValue)]) {
        channel.send([("type", .string("display")), ("id", requestID),
                      ("data", .object(data.map { ($0.key, $0.value) })), ("metadata", .object(metadata))])
    }

    /// The JSON object one report line holds, or nil if `text` is not exactly that.
    private static func jsonObject(_ text: String) -> JSONValue? {
        var parser = StrictJSONParser(bytes: Array(text.utf8), name: "report")
        guard let value = try? parser.parseDocument(), case .object = value else { return nil }
        return value
    }
}
