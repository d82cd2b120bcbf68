/// Why examples cannot become a data set with the options asked for. (Reading the files is the
/// formats module's job, and its errors say what is wrong with a file.)
public enum DataError: EngineError, Equatable {
    /// A split holds no examples (`source` names where they came from).
    case emptySplit(source: String)
    /// An option is out of range, e.g. a validation split as large as the training set.
    case invalidOption(String)

    public var message: String {
        switch self {
        case .emptySplit(let source): "\(source): no examples"
        case .invalidOption(let text): text
        }
    }
}
