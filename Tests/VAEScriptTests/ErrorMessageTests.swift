import Testing
import VAEScript

/// Every error message, exactly, from the input that produces it (swift-argument-parser's tables).
/// Scripts run as `tour.vae` against the standard commands plus stand-ins for engine commands.
@Suite("Error messages")
struct ErrorMessageTests {
    static let cases: [(input: String, stderr: String)] = [
        // Unknown commands and options, with suggestions.
        ("trian epochs=2", """
        tour.vae:1:1: error: unknown command 'trian'; did you mean 'train'?
        trian epochs=2
        ^~~~~
        """),
        ("frobnicate", """
        tour.vae:1:1: error: unknown command 'frobnicate'
        frobnicate
        ^~~~~~~~~~
        hint: type 'help' for the list of commands
        """),
        ("train lrr=3", """
        tour.vae:1:7: error: unknown option 'lrr' for 'train'; did you mean 'lr'?
        train lrr=3
              ^~~
        """),
        ("train epochs=2 speed=3", """
        tour.vae:1:16: error: unknown option 'speed' for 'train'
        train epochs=2 speed=3
                       ^~~~~
        hint: type 'help train' for its arguments
        """),
        ("show setings", """
        tour.vae:1:6: error: unknown subcommand 'setings' for 'show'; did you mean 'settings'?
        show setings
             ^~~~~~~
        """),
        ("show", """
        tour.vae:1:1: error: 'show' needs one of: settings
        """),
        ("load cvs", """
        tour.vae:1:6: error: unknown subcommand 'cvs' for 'load'
        load cvs
             ^~~
        """),
        // Wrong types and values out of range.
        ("train epochs=ten", """
        tour.vae:1:14: error: invalid value 'ten' for 'epochs' of 'train': expected an integer
        train epochs=ten
                     ^~~
        """),
        ("train epochs=0", """
        tour.vae:1:14: error: invalid value '0' for 'epochs' of 'train': must be ≥ 1
        train epochs=0
                     ^
        """),
        ("train lr=-1", """
        tour.vae:1:10: error: invalid value '-1' for 'lr' of 'train': must be > 0
        train lr=-1
                 ^~
        """),
        ("train batch=0", """
        tour.vae:1:13: error: invalid value '0' for 'batch' of 'train': must be ≥ 1
        train batch=0
                    ^
        """),
        ("model latent=0", """
        tour.vae:1:14: error: invalid value '0' for 'latent' of 'model': must be ≥ 1
        model latent=0
                     ^
        """),
        ("model hidden=400,0", """
        tour.vae:1:18: error: invalid value '0' for 'hidden' of 'model': must be ≥ 1
        model hidden=400,0
                         ^
        """),
        ("model hidden=400,,3", """
        tour.vae:1:18: error: invalid value '' for 'hidden' of 'model': expected an integer
        model hidden=400,,3
                         ^
        """),
        ("train lr=", """
        tour.vae:1:10: error: invalid value '' for 'lr' of 'train': expected a number
        train lr=
                 ^
        """),
        ("train lr=nan", """
        tour.vae:1:10: error: invalid value 'nan' for 'lr' of 'train': expected a number
        train lr=nan
                 ^~~
        """),
        ("train optimizer=adm", """
        tour.vae:1:17: error: invalid value 'adm' for 'optimizer' of 'train': expected one of adam, sgd; did you mean 'adam'?
        train optimizer=adm
                        ^~~
        """),
        ("set json=maybe", """
        tour.vae:1:10: error: invalid value 'maybe' for 'json' of 'set': expected true or false (or yes/no, on/off)
        set json=maybe
                 ^~~~~
        """),
        ("quit 256", """
        tour.vae:1:6: error: invalid value '256' for 'status' of 'quit': must be in [0, 255]
        quit 256
             ^~~
        """),
        // Missing, extra and repeated arguments.
        ("load idx labels=l.idx", """
        tour.vae:1:1: error: missing required argument 'images' for 'load idx'
        hint: type 'help load idx' for its arguments
        """),
        ("source", """
        tour.vae:1:1: error: missing required argument 'file' for 'source'
        hint: type 'help source' for its arguments
        """),
        ("vars everything", """
        tour.vae:1:6: error: unexpected argument 'everything' for 'vars'
        vars everything
             ^~~~~~~~~~
        hint: type 'help vars' for its arguments
        """),
        ("train lr=1 lr=2", """
        tour.vae:1:12: error: 'lr' is given twice for 'train'
        train lr=1 lr=2
                   ^~
        """),
        // Input that ends too early.
        ("echo \"never closed", """
        tour.vae:1:6: error: unterminated string: no closing " before the end of the input
        echo "never closed
             ^
        """),
        ("echo 'never closed", """
        tour.vae:1:6: error: unterminated string: no closing ' before the end of the input
        echo 'never closed
             ^
        """),
        ("train epochs=2 \\", """
        tour.vae:1:16: error: '\\' at the end of the input continues a command that never comes
        train epochs=2 \\
                       ^
        """),
        // Prerequisites and engine errors.
        ("train", """
        tour.vae:1:1: error: no model yet: run 'model' or 'open FILE' first
        """),
        ("load idx images=a.idx", """
        tour.vae:1:1: error: train-images.gz: truncated: expected 47040016 bytes, found 1024
        hint: download it again with scripts/fetch-mnist
        """),
        // Expressions.
        ("let kl = -0.3\nassert kl >= 0", """
        tour.vae:2:1: error: assertion failed: kl >= 0 (kl = -0.3)
        """),
        ("let loss = 1\nlet elbo = -1.0000001\nassert loss ~= -elbo and loss > 2", """
        tour.vae:3:1: error: assertion failed: loss ~= -elbo and loss > 2 (loss = 1, elbo = -1.0000001)
        """),
        ("let kl = 1\nassert kll >= 0", """
        tour.vae:2:8: error: unknown variable 'kll'; did you mean 'kl'?
        assert kll >= 0
               ^~~
        """),
        ("assert gap > 0", """
        tour.vae:1:8: error: unknown variable 'gap'
        assert gap > 0
               ^~~
        hint: 'vars' lists the variables; 'let gap = …' sets one
        """),
        ("let x = 1 / (2 - 2)", """
        tour.vae:1:11: error: division by zero
        let x = 1 / (2 - 2)
                  ^
        """),
        ("assert 1 + 1", """
        tour.vae:1:10: error: assert needs a condition such as 'kl >= 0', got a number (2)
        assert 1 + 1
                 ^
        """),
        ("echo \"gap = {logpx - }\"", """
        tour.vae:1:22: error: expected a value at the end of the expression
        echo "gap = {logpx - }"
                             ^
        """),
        ("let = 3", """
        tour.vae:1:5: error: expected a variable name after 'let', as in 'let gap = logpx - elbo'
        let = 3
            ^
        """),
        ("assert lg(2) > 0", """
        tour.vae:1:8: error: unknown function 'lg'; did you mean 'log'?
        assert lg(2) > 0
               ^~
        """),
        ("help trian", """
        tour.vae:1:6: error: unknown command 'trian'; did you mean 'train'?
        help trian
             ^~~~~
        """),
        ("source does-not-exist.vae", """
        tour.vae:1:8: error: cannot read 'does-not-exist.vae': no such file
        source does-not-exist.vae
               ^
        """),
        ("set", """
        tour.vae:1:1: error: nothing to set
        hint: write 'set KEY=VALUE', e.g. 'set lr=1e-4'; 'show settings' lists the keys
        """),
        // The caret keeps tabs so it lines up under them.
        ("\ttrain\tlrr=3", "tour.vae:1:8: error: unknown option 'lrr' for 'train'; did you mean 'lr'?\n\ttrain\tlrr=3\n\t     \t^~~"),
    ]

    @Test(arguments: cases)
    func scriptError(input: String, stderr: String) {
        let run = runScript(input, name: "tour.vae", commands: tableWithFakes)
        #expect(run.standardError == stderr + "\n")
        #expect(run.outcome == .finished(failures: 1))
        #expect(run.standardOutput == "")
    }

    @Test func interactivelyTheFilePartIsLeftOut() {
        let run = runScript("train lrr=3", name: nil, interactive: true, commands: tableWithFakes)
        #expect(run.standardError == """
        error: unknown option 'lrr' for 'train'; did you mean 'lr'?
        train lrr=3
              ^~~

        """)
    }

    @Test func errorsOnLaterLinesShowThatLine() {
        let run = runScript("echo one\n\n  train epochs=ten lr=1\necho never", name: "tour.vae", commands: tableWithFakes)
        #expect(run.standardOutput == "one\n")
        #expect(run.standardError == """
        tour.vae:3:16: error: invalid value 'ten' for 'epochs' of 'train': expected an integer
          train epochs=ten lr=1
                       ^~~

        """)
    }

    @Test func anUnterminatedStringAtEndOfFileShowsTheLineWhereItOpened() {
        let run = runScript("echo start\necho \"open\nstill open", name: "tour.vae")
        #expect(run.standardOutput == "start\n")
        #expect(run.standardError == """
        tour.vae:2:6: error: unterminated string: no closing " before the end of the input
        echo "open
             ^

        """)
    }

    @Test func underJSONEachErrorIsOneJSONLineOnStderr() {
        var options = SessionOptions()
        options.json = true
        let run = runScript("load idx images=a.idx", name: "tour.vae", options: options, commands: tableWithFakes)
        #expect(run.standardOutput == "")
        #expect(run.standardError == #"{"error":"train-images.gz: truncated: expected 47040016 bytes, found 1024","file":"tour.vae","line":1,"column":1,"hint":"download it again with scripts/fetch-mnist"}"# + "\n")
    }

    @Test func errorsCarryTheArgumentIndex() throws {
        let invocation = try #require(try Parser.parse("train epochs=2 lrr=3").first)
        #expect {
            _ = try tableWithFakes.bind(invocation)
        } throws: { error in
            (error as? ScriptError)?.argumentIndex == 1
        }
    }
}
