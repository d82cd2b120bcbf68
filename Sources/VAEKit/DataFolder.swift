import Foundation

/// The per-user folder where `scripts/fetch-mnist` installs full MNIST and where `Dataset.mnist()`
/// looks for it.
///
/// The rule, shared with the script: `$VAESH_DATA` when set and non-empty (a leading `~/` is
/// expanded); else `$XDG_DATA_HOME/vaesh/mnist` when that is an absolute path (the XDG Base
/// Directory spec says to ignore a relative one); else `~/.local/share/vaesh/mnist`.
public enum DataFolder {
    /// The environment variable that overrides the default location.
    public static let environmentVariable = "VAESH_DATA"

    /// The data folder for this process's environment.
    public static var defaultPath: String { resolved(environment: ProcessInfo.processInfo.environment) }

    /// The data folder for `environment` (a pure function of it, for tests).
    public static func resolved(environment: [String: String]) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        if let value = environment[environmentVariable], !value.isEmpty {
            if value == "~" { return home }
            if value.hasPrefix("~/") { return joinPath(home, String(value.dropFirst(2))) }
            return value
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return joinPath(xdg, "vaesh/mnist")
        }
        return joinPath(home, ".local/share/vaesh/mnist")
    }

    /// The standard files present in `folder` (only those found; nothing for a missing folder).
    static func standardFiles(in folder: String) -> [StandardFile: String] {
        guard let entries = folderEntries(folder) else { return [:] }
        // A macOS copy leaves "._name" AppleDouble files beside the real ones; they are never data.
        let names = Set(entries.filter { !$0.hasPrefix("._") })
        var found: [StandardFile: String] = [:]
        for file in StandardFile.allCases {
            for candidate in file.candidateNames where names.contains(candidate) {
                let path = joinPath(folder, candidate)
                if PathKind(path) == .file {
                    found[file] = path
                    break
                }
            }
        }
        return found
    }
}

/// One of the four files of an MNIST-family folder (MNIST, Fashion-MNIST, KMNIST all use them).
enum StandardFile: String, CaseIterable, Sendable {
    case trainImages = "train-images"
    case trainLabels = "train-labels"
    case testImages = "t10k-images"
    case testLabels = "t10k-labels"

    /// The names accepted, in order of preference: both spellings (LeCun's `-idx3-ubyte` and the
    /// `.idx3-ubyte` some mirrors use), each gzip'd or raw.
    var candidateNames: [String] {
        let kind = self == .trainImages || self == .testImages ? "idx3-ubyte" : "idx1-ubyte"
        return ["\(rawValue)-\(kind).gz", "\(rawValue)-\(kind)", "\(rawValue).\(kind).gz", "\(rawValue).\(kind)"]
    }

    static func named(_ stem: String) -> StandardFile? { StandardFile(rawValue: stem) }
}

/// `folder` and `name` joined by one slash.
func joinPath(_ folder: String, _ name: String) -> String {
    if folder.isEmpty { return name }
    return folder.hasSuffix("/") ? folder + name : folder + "/" + name
}
