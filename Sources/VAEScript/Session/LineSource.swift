/// Where the input loop gets its lines: the keyboard (libedit, in the `vaesh` target), a script
/// file, a `-c` string, a pipe, or a test. The loop itself is the same for all of them.
public protocol LineSource: AnyObject {
    /// The next line without its newline, `.interrupted` when Ctrl-C cleared the line being typed,
    /// or `.end` at end of input. `prompt` is shown only by interactive sources.
    func nextLine(prompt: String) -> LineInput
    /// True for the keyboard: errors don't stop the loop, and prompts are shown.
    var isInteractive: Bool { get }
}

/// One read from a `LineSource`.
public enum LineInput: Equatable, Sendable {
    case line(String)
    case interrupted
    case end
}
