/// The session's settings, changed with `set KEY=VALUE` and listed by `show settings`.
///
/// Engine commands read them as defaults (e.g. `train` uses `batch` and `lr` unless given).
public struct Settings: Equatable, Sendable {
    /// Seed of every random draw; the default 0 makes runs reproducible unless asked otherwise.
    public var seed: UInt64
    /// Monte-Carlo samples of z per example for the term commands.
    public var samples = 1
    /// Importance samples for `logpx`.
    public var k = 1000
    /// Examples per optimiser step.
    public var batch = 128
    /// Adam's learning rate.
    public var lr = 1e-3
    /// New draws of z for every command (to see the Monte-Carlo noise) instead of common random
    /// numbers (the same z for the same examples while the model is unchanged, so commands agree).
    public var freshDraws = false
    /// One JSON object per reporting command instead of human text.
    public var json: Bool
    /// Print each command before running it.
    public var echo: Bool

    public init(options: SessionOptions) {
        seed = options.seed
        json = options.json
        echo = options.echo
    }
}

/// One setting as data: its argument spec (name, type, range, meaning) and how to read and write it.
/// `set`'s options are generated from this table, so `set` validates like any command.
public struct SettingSpec: Sendable {
    public var argument: ArgumentSpec
    public var unit: String
    public var read: @Sendable (Settings) -> ArgumentValue
    /// Called with a value already validated against `argument`.
    public var write: @Sendable (inout Settings, ArgumentValue) -> Void

    public var name: String { argument.name }
}

extension Settings {
    public static let table: [SettingSpec] = [
        SettingSpec(
            argument: .option("seed", .int, range: .atLeast(0), abstract: "seed of every random draw (initialisation, ε, shuffling); same seed, same numbers"),
            unit: "",
            read: { .int(Int(clamping: $0.seed)) },
            write: { settings, value in if case .int(let seed) = value { settings.seed = UInt64(clamping: seed) } }),
        SettingSpec(
            argument: .option("samples", .int, range: .atLeast(1), abstract: "Monte-Carlo samples of z per example for recon, kl, elbo, loss"),
            unit: "samples/example",
            read: { .int($0.samples) },
            write: { settings, value in if case .int(let samples) = value { settings.samples = samples } }),
        SettingSpec(
            argument: .option("k", .int, range: .atLeast(1), abstract: "importance samples per example for logpx"),
            unit: "samples/example",
            read: { .int($0.k) },
            write: { settings, value in if case .int(let k) = value { settings.k = k } }),
        SettingSpec(
            argument: .option("batch", .int, range: .atLeast(1), abstract: "examples per optimiser step for train and step"),
            unit: "examples",
            read: { .int($0.batch) },
            write: { settings, value in if case .int(let batch) = value { settings.batch = batch } }),
        SettingSpec(
            argument: .option("lr", .double, range: .greaterThan(0), abstract: "Adam learning rate for train and step"),
            unit: "",
            read: { .double($0.lr) },
            write: { settings, value in if case .double(let lr) = value { settings.lr = lr } }),
        SettingSpec(
            argument: .option("draws", .choice(["common", "fresh"]),
                              abstract: "common: the same ε for the same example, so the same weights give the same numbers; fresh: new z every command"),
            unit: "",
            read: { .string($0.freshDraws ? "fresh" : "common") },
            write: { settings, value in if case .string(let draws) = value { settings.freshDraws = draws == "fresh" } }),
        SettingSpec(
            argument: .option("json", .bool, abstract: "print one JSON object per reporting command"),
            unit: "",
            read: { .bool($0.json) },
            write: { settings, value in if case .bool(let json) = value { settings.json = json } }),
        SettingSpec(
            argument: .option("echo", .bool, abstract: "print each command before running it"),
            unit: "",
            read: { .bool($0.echo) },
            write: { settings, value in if case .bool(let echo) = value { settings.echo = echo } }),
    ]
}
