import Foundation

/// The per-user folder where `scripts/fetch-mnist` installs full MNIST and where `MNISTFolder.read`
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
    public static func standardFiles(in folder: String) -> [StandardFile: String] {
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
public enum StandardFile: String, CaseIterable, Sendable {
    case trainImages = "train-images"
    case trainLabels = "train-labels"
    case testImages = "t10k-images"
    case testLabels = "t10k-labels"

    /// The names accepted, in order of preference: both spellings (LeCun's `-idx3-ubyte` and the
    /// `.idx3-ubyte` some mirrors use), each gzip'd or raw.
    public var candidateNames: [String] {
        let kind = self == .trainImages || self == .testImages ? "idx3-ubyte" : "idx1-ubyte"
        return ["\(rawValue)-\(kind).gz", "\(rawValue)-\(kind)", "\(rawValue).\(kind).gz", "\(rawValue).\(kind)"]
    }

    static func named(_ stem: String) -> StandardFile? { StandardFile(rawValue: stem) }
}

/// Reading an MNIST-family folder: full MNIST from the data folder, the embedded subset, or any
/// folder of the four standard files (MNIST, Fashion-MNIST, KMNIST).
public enum MNISTFolder {
    /// What `read` found: the files, and the short name of the set ("mnist" or "mnist-subset").
    public struct Found: Sendable {
        public var files: ImageFiles
        public var name: String
    }

    /// MNIST: from `folder` when given (it must hold the four standard files); otherwise full
    /// MNIST from the data folder (`DataFolder.resolved(environment:)`) when all four files are
    /// there, else the embedded subset, with a `note` saying how to fetch the full set.
    ///
    /// A data folder holding some but not all of the four files is an error rather than a silent
    /// fallback, since it means an interrupted copy or a mistake worth seeing.
    public static func read(folder: String?, environment: [String: String]) throws(DataFileError) -> Found {
        if let folder {
            return Found(files: try files(in: folder, origin: "MNIST from \(folder)"), name: "mnist")
        }
        let dataFolder = DataFolder.resolved(environment: environment)
        let found = DataFolder.standardFiles(in: dataFolder)
        if found.count == StandardFile.allCases.count {
            return Found(files: try files(in: dataFolder, origin: "full MNIST from \(dataFolder)", inDataFolder: true), name: "mnist")
        }
        if let missing = StandardFile.allCases.first(where: { found[$0] == nil }), !found.isEmpty {
            throw .missingStandardFile(folder: dataFolder, file: missing.rawValue, inDataFolder: true)
        }
        var subset = try embeddedSubset()
        subset.note = "full MNIST not found in \(dataFolder); scripts/fetch-mnist installs it there"
        return Found(files: subset, name: "mnist-subset")
    }

    /// The MNIST subset that ships inside vaesh: the first 10,000 training and 2,000 test images,
    /// compiled into the binary (`EmbeddedMNIST`), so a copied or installed `vaesh` has it too.
    public static func embeddedSubset() throws(DataFileError) -> ImageFiles {
        try EmbeddedMNIST.read()
    }

    /// The four standard files in `path` (any MNIST-family folder), each named
    /// `train-images-idx3-ubyte` or `train-images.idx3-ubyte` (and likewise), raw or `.gz`.
    /// Files whose names start with `._` (macOS metadata) are ignored.
    public static func files(in path: String, origin: String, inDataFolder: Bool = false) throws(DataFileError) -> ImageFiles {
        switch PathKind(path) {
        case .missing: throw .file(FileError(path: path, operation: .open, failure: .system(ENOENT), expected: "a folder"))
        case .file: throw .file(FileError(path: path, operation: .open, failure: .notFolder, expected: "a folder"))
        case .folder: break
        }
        let found = DataFolder.standardFiles(in: path)
        func file(_ file: StandardFile) throws(DataFileError) -> String {
            guard let found = found[file] else {
                throw .missingStandardFile(folder: path, file: file.rawValue, inDataFolder: inDataFolder)
            }
            return found
        }
        // Check all four before reading any, so a missing file is reported before a damaged one.
        for standard in StandardFile.allCases { _ = try file(standard) }
        let train = try ImageArray.idx(images: file(.trainImages), labels: file(.trainLabels))
        let test = try ImageArray.idx(images: file(.testImages), labels: file(.testLabels))
        return try ImageFiles(train: train, test: test, origin: origin)
    }
}

