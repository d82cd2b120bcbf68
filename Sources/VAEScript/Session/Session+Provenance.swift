/// What a command's numbers depend on: a variable set from them is stale once that changes.
public enum Dependency: Sendable {
    /// The terms, log p(x), training results: the model and the data.
    case modelAndData
    /// The parameter count: the model's architecture only, which training does not change.
    case architecture
    /// Example counts: the data only.
    case data
}

// Variables never outlive what they describe: each records the model and data versions it was
// computed on, and using one after either changed is an error naming it and the command that
// changed them.
extension Session {
    /// The origin of a value computed now by `command`, depending on `dependency`.
    func origin(command: String, dependency: Dependency) -> VariableOrigin {
        let workbench = self.workbench
        switch dependency {
        case .modelAndData:
            return VariableOrigin(command: command, modelVersion: workbench.modelVersion, dataVersion: workbench.dataVersion)
        case .architecture:
            return VariableOrigin(command: command, modelVersion: nil, dataVersion: nil, architectureVersion: workbench.architectureVersion)
        case .data:
            return VariableOrigin(command: command, modelVersion: nil, dataVersion: workbench.dataVersion)
        }
    }

    /// Why variable `name` no longer describes the current model or data (and which of the two
    /// changed: "model" or "data"), or nil when it does
    /// (or depends on neither).
    public func staleness(of name: String) -> (reason: String, remedy: String, changed: String)? {
        guard let origin = variables[name]?.origin else { return nil }
        let workbench = self.workbench
        if let version = origin.modelVersion, version != workbench.modelVersion {
            let since = workbench.current != nil ? "'\(workbench.lastModelChange)' has changed the model since" : "the model is gone"
            return ("'\(name)' describes an earlier model: it was computed by '\(origin.command)', and \(since)",
                    "run '\(origin.command)' again for the current model", "model")
        }
        if let version = origin.architectureVersion, version != workbench.architectureVersion {
            let since = workbench.current != nil ? "'\(workbench.lastModelChange)' has made another model since" : "the model is gone"
            return ("'\(name)' describes another model: it was computed by '\(origin.command)', and \(since)",
                    "run '\(origin.command)' again for the current model", "model")
        }
        if let version = origin.dataVersion, version != workbench.dataVersion {
            return ("'\(name)' describes other data: it was computed by '\(origin.command)', and '\(workbench.dataCommand)' has loaded new data since",
                    "run '\(origin.command)' again on the current data", "data")
        }
        return nil
    }

    /// Throws at the first use of a stale variable among `references`.
    func requireCurrent(_ references: [(name: String, location: SourceLocation)]) throws(ScriptError) {
        for (name, location) in references {
            if let stale = staleness(of: name) {
                throw .staleVariable(name, reason: stale.reason, remedy: stale.remedy, at: location)
            }
        }
    }
}
