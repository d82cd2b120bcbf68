import VAEFormats
import VAEKit

// MARK: - Waiting for the user

/// What the user answered when a script waited for them.
public enum PauseAnswer: Sendable, Equatable {
    /// Enter: carry on.
    case proceed
    /// `c`: carry on, and stop waiting at later pauses and steps.
    case runToEnd
    /// `q`: stop the scripts, as `quit` would.
    case stop
    /// Ctrl-C: stop, as Ctrl-C during a command does.
    case interrupted
}

/// The host's way of waiting for the user, for `pause` and `vaesh --step`.
///
/// The language never reads the keyboard itself (the shell owns it); the shell installs a host
/// under `PauseHostKey` only when standard input is a terminal, so without one `pause` never waits.
public protocol PauseHost: AnyObject {
    /// Shows `prompt`, waits for the user's answer, and returns it. Once the user answered
    /// `.runToEnd`, later calls return `.proceed` at once.
    func waitForUser(prompt: String) -> PauseAnswer
}

/// Where a session keeps its `PauseHost`: `session[state: PauseHostKey.self] = host`.
public enum PauseHostKey: SessionStateKey {
    public typealias Value = any PauseHost
}
