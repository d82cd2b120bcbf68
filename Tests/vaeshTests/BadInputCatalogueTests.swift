import Foundation
import Glibc
import Testing

// MARK: - The catalogue

/// One bad input, and what the real `vaesh` executable must do with it.
///
/// Every case runs `vaesh --no-rc --keep-going setup.vae bad.vae after.vae` in a fresh sandbox:
/// - `setup.vae` loads a 24-image CSV data set (4×4 pixels, 8 test images), builds a 16-8-2 model,
///   sets a variable, runs the case's `preamble` (commands that set up what the case needs, such
///   as a variable made stale), then prints `info`, `kl index=0` and `vars`;
/// - `bad.vae` is the case (`$D` stands for the sandbox folder, where the fixtures are);
/// - `after.vae` prints `info`, `kl index=0` and `vars` again.
///
/// The four checks: the exit status; the first line of stderr is one error naming what is wrong
/// (`bad.vae:LINE:COLUMN: error: …` for a command, `vaesh: cannot read …` for a file that cannot
/// be a script), and it is the only error; no signal ended the process; and what `after.vae`
/// prints is exactly what `setup.vae` printed, so the session was left as it was.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    /// The bytes of bad.vae.
    var script: [UInt8]
    /// A fragment of the error line.
    var error: String
    /// `line:column` of the error in bad.vae; nil for an error about the file itself.
    var at: String?
    var status: Int32 = 1
    /// Lines run at the end of setup.vae, before the state is printed (`$D` as in the script).
    var preamble = ""

    var testDescription: String { name }

    init(_ name: String, _ script: String, error: String, at: String?, status: Int32 = 1, after preamble: String = "") {
        self.init(name, bytes: Array(script.utf8), error: error, at: at, status: status)
        self.preamble = preamble
    }

    init(_ name: String, bytes: [UInt8], error: String, at: String?, status: Int32 = 1) {
        self.name = name
        self.script = bytes
        self.error = error
        self.at = at
        self.status = status
    }
}

enum Catalogue {
    /// Arguments of every command: missing, unknown, mistyped, out of range.
    static let arguments: [BadInput] = [
        BadInput("unknown command", "frobnicate", error: "unknown command 'frobnicate'", at: "1:1"),
        BadInput("unknown command, with a suggestion", "trian", error: "unknown command 'trian'; did you mean 'train'?", at: "1:1"),
        BadInput("unknown subcommand", "load pictures", error: "unknown subcommand 'pictures' for 'load'", at: "1:6"),
        BadInput("family without a subcommand", "show", error: "'show' needs one of: settings", at: "1:1"),
        BadInput("load csv: missing file", "load csv", error: "missing required argument 'file' for 'load csv'", at: "1:1"),
        BadInput("load csv: unknown option", "load csv $D/tiny.csv labels=first", error: "unknown option 'labels' for 'load csv'; did you mean 'label'?", at: "1:22"),
        BadInput("load csv: unknown choice", "load csv $D/tiny.csv scale=2", error: "invalid value '2' for 'scale' of 'load csv'", at: "1:28"),
        BadInput("load idx: missing images", "load idx labels=$D/labels.idx", error: "missing required argument 'images' for 'load idx'", at: "1:1"),
        BadInput("load mnist: limit=0", "load mnist limit=0", error: "invalid value '0' for 'limit' of 'load mnist': must be ≥ 1", at: "1:18"),
        BadInput("load mnist: mistyped binarize", "load mnist binarize=maybe", error: "invalid value 'maybe' for 'binarize' of 'load mnist'", at: "1:21"),
        BadInput("load mnist: negative validation", "load mnist validation=-1", error: "invalid value '-1' for 'validation' of 'load mnist'", at: "1:23"),
        BadInput("load mnist: merge-test neither yes nor no", "load mnist merge-test=maybe", error: "invalid value 'maybe' for 'merge-test' of 'load mnist'", at: "1:23"),
        BadInput("load csv: merge-test without a test file", "load csv $D/tiny.csv merge-test=yes", error: "there is no test file to train on", at: "1:1"),
        BadInput("model: hidden=0", "model hidden=0", error: "invalid value '0' for 'hidden' of 'model'", at: "1:14"),
        BadInput("model: a zero in a list", "model hidden=8,0", error: "invalid value '0' for 'hidden' of 'model'", at: "1:16"),
        BadInput("model: empty value", "model hidden=", error: "invalid value '' for 'hidden' of 'model': expected an integer", at: "1:14"),
        BadInput("model: unknown activation", "model activation=gelu", error: "invalid value 'gelu' for 'activation' of 'model'", at: "1:18"),
        BadInput("model: sigma=0", "model likelihood=gaussian sigma=0", error: "invalid value '0' for 'sigma' of 'model': must be > 0", at: "1:33"),
        BadInput("save: missing file", "save", error: "missing required argument 'file' for 'save'", at: "1:1"),
        BadInput("open: missing file", "open", error: "missing required argument 'file' for 'open'", at: "1:1"),
        BadInput("info: unexpected argument", "info more", error: "unexpected argument 'more' for 'info'", at: "1:6"),
        BadInput("recon: index past the end", "recon index=8", error: "index 8 is past the end of the test split (8 examples)", at: "1:13"),
        BadInput("kl: no validation split", "kl split=validation", error: "no validation split", at: "1:10"),
        BadInput("kl: mistyped method", "kl method=exact", error: "invalid value 'exact' for 'method' of 'kl'", at: "1:11"),
        BadInput("kl: argument given twice", "kl index=0 index=1", error: "'index' is given twice for 'kl'", at: "1:12"),
        BadInput("elbo: limit=0", "elbo limit=0", error: "invalid value '0' for 'limit' of 'elbo': must be ≥ 1", at: "1:12"),
        BadInput("loss: mistyped boolean", "loss bpd=maybe", error: "invalid value 'maybe' for 'bpd' of 'loss'", at: "1:10"),
        BadInput("show-sign: limit=0", "show-sign limit=0", error: "invalid value '0' for 'limit' of 'show-sign'", at: "1:17"),
        BadInput("step: lr=0", "step lr=0", error: "invalid value '0' for 'lr' of 'step'", at: "1:9"),
        BadInput("train: epochs=0", "train epochs=0", error: "invalid value '0' for 'epochs' of 'train': must be in [1, 100000]", at: "1:14"),
        BadInput("train: epochs=ten", "train epochs=ten", error: "invalid value 'ten' for 'epochs' of 'train': expected an integer", at: "1:14"),
        BadInput("train: unknown option, with a suggestion", "train lrr=3", error: "unknown option 'lrr' for 'train'; did you mean 'lr'?", at: "1:7"),
        BadInput("train: unknown optimiser", "train optimizer=rmsprop", error: "invalid value 'rmsprop' for 'optimizer' of 'train'", at: "1:17"),
        BadInput("train: negative warmup", "train warmup=-1", error: "invalid value '-1' for 'warmup' of 'train'", at: "1:14"),
        BadInput("undo with nothing to undo", "undo", error: "nothing to undo", at: "1:1"),
        BadInput("sample: n=0", "sample 0", error: "invalid value '0' for 'n' of 'sample'", at: "1:8"),
        BadInput("sample: out= without .png", "sample out=$D/x.txt", error: "out= must name a FILE.png file, not '.txt'", at: "1:12"),
        BadInput("reconstruct: n=0", "reconstruct 0", error: "invalid value '0' for 'n' of 'reconstruct'", at: "1:13"),
        BadInput("traverse: dimension past the model's", "traverse dim=5", error: "dim=5, but the model has 2 latent dimensions", at: "1:14"),
        BadInput("curves: out= with a wrong extension", "curves out=$D/c.txt", error: "out= must name a FILE.png or FILE.csv file", at: "1:12"),
        BadInput("explain: unknown term", "explain nothing", error: "invalid value 'nothing' for 'term' of 'explain'", at: "1:9"),
        BadInput("set: nothing", "set", error: "nothing to set", at: "1:1"),
        BadInput("set: unknown setting", "set bogus=1", error: "unknown option 'bogus' for 'set'", at: "1:5"),
        BadInput("set: negative seed", "set seed=-1", error: "invalid value '-1' for 'seed' of 'set'", at: "1:10"),
        BadInput("show settings: extra word", "show settings now", error: "unexpected argument 'now' for 'show settings'", at: "1:15"),
        BadInput("let: no '='", "let x", error: "expected '=' after 'let x'", at: "1:6"),
        BadInput("let: no name", "let = 3", error: "expected a variable name after 'let'", at: "1:5"),
        BadInput("assert: unknown variable", "assert nope > 0", error: "unknown variable 'nope'", at: "1:8"),
        BadInput("assert: division by zero", "assert 1/0 > 0", error: "division by zero", at: "1:9"),
        BadInput("assert: false", "assert kl < 0", error: "assertion failed: kl < 0", at: "1:1"),
        BadInput("echo: unclosed brace", "echo \"{\"", error: "unclosed '{' in text", at: "1:7"),
        BadInput("pause: unknown variable in its text", "pause \"{nope}\"", error: "unknown variable 'nope'", at: "1:9"),
        BadInput("vars: unexpected argument", "vars x", error: "unexpected argument 'x' for 'vars'", at: "1:6"),
        BadInput("history: count=0", "history 0", error: "invalid value '0' for 'count' of 'history'", at: "1:9"),
        BadInput("help: unknown command", "help nothing", error: "unknown command 'nothing'", at: "1:6"),
        BadInput("quit: status 256", "quit 256", error: "invalid value '256' for 'status' of 'quit': must be in [0, 255]", at: "1:6"),
        BadInput("source: missing file", "source $D/nothing.vae", error: "no such file", at: "1:8"),
    ]

    /// The extreme values the issue names, and their neighbours.
    static let extremes: [BadInput] = [
        BadInput("train lr=1e30", "train lr=1e30", error: "invalid value '1e30' for 'lr' of 'train': must be in (0, 1000000]", at: "1:10"),
        BadInput("train batch=10000000", "train batch=10000000", error: "invalid value '10000000' for 'batch' of 'train'", at: "1:13"),
        BadInput("model latent=100000", "model latent=100000", error: "invalid value '100000' for 'latent' of 'model': must be in [1, 10000]", at: "1:14"),
        BadInput("model hidden=100000,100000 (too many parameters)", "model hidden=100000,100000", error: "more than 100000000 parameters", at: "1:1"),
        BadInput("logpx k=0", "logpx k=0", error: "invalid value '0' for 'k' of 'logpx': must be in [1, 1000000]", at: "1:9"),
        BadInput("kl samples=-1", "kl samples=-1", error: "invalid value '-1' for 'samples' of 'kl'", at: "1:12"),
        BadInput("recon samples=100001", "recon samples=100001", error: "invalid value '100001' for 'samples' of 'recon'", at: "1:15"),
        BadInput("a number too large for an integer", "train epochs=99999999999999999999", error: "invalid value '99999999999999999999' for 'epochs' of 'train'", at: "1:14"),
    ]

    /// The text of a script itself.
    static let syntax: [BadInput] = [
        BadInput("unbalanced double quote", "echo \"abc", error: "unterminated string: no closing \" before the end of the input", at: "1:6"),
        BadInput("unbalanced single quote", "echo 'abc", error: "unterminated string: no closing ' before the end of the input", at: "1:6"),
        BadInput("unbalanced quote on a later line", "# a comment\necho \"x\necho y", error: "unterminated string", at: "2:6"),
        BadInput("backslash at the end of the input", "echo abc \\", error: "'\\' at the end of the input continues a command that never comes", at: "1:10"),
        BadInput("unknown escape in a string", "echo \"\\q\"", error: "unknown escape '\\q' in a string", at: "1:7"),
        BadInput("a 1 MB line (one unknown word)", String(repeating: "x", count: 1 << 20),
                 error: "unknown command '\(String(repeating: "x", count: 60))… (1048576 characters)'", at: "1:1"),
        BadInput("a 1 MB line (an unknown option)", "kl " + String(repeating: "y", count: 1 << 20) + "=1",
                 error: "unknown option '\(String(repeating: "y", count: 60))… (1048576 characters)' for 'kl'", at: "1:4"),
        BadInput("a 1 MB expression", "assert " + String(repeating: "1 + ", count: 1 << 18) + "1 > 0",
                 error: "expression too long", at: nil),
        BadInput("a NUL byte", bytes: Array("echo hi\nkl\0 index=0\n".utf8), error: "line 2 contains a NUL byte; is it a binary file?", at: nil),
        BadInput("invalid UTF-8", bytes: Array("echo hi\necho ".utf8) + [0xFF, 0xFE, 0x0A], error: "line 2 is not valid UTF-8", at: nil),
        BadInput("a truncated UTF-8 sequence at the end", bytes: Array("echo é".utf8).dropLast(), error: "line 1 is not valid UTF-8", at: nil),
        BadInput("a sourced file with a NUL byte", "source $D/nul.vae", error: "line 2 contains a NUL byte; is it a binary file?", at: "1:8"),
        BadInput("a sourced file with invalid UTF-8", "source $D/not-utf8.vae", error: "line 1 is not valid UTF-8", at: "1:8"),
        BadInput("source cycle: a file sourcing itself", "source $D/self.vae", error: "'source' nested more than 16 deep", at: nil),
        BadInput("source cycle: two files sourcing each other", "source $D/ping.vae", error: "'source' nested more than 16 deep", at: nil),
    ]

    /// Files that are not what a command needs.
    static let files: [BadInput] = [
        BadInput("script file is a directory", "@directory", error: "it is a directory", at: nil),
        BadInput("script file is unreadable", "@unreadable", error: "permission denied", at: nil),
        BadInput("script file is missing", "@missing", error: "no such file or directory", at: nil),
        BadInput("load csv: a directory", "load csv $D/folder", error: "is a folder, not a file", at: "1:1"),
        BadInput("load csv: unreadable", "load csv $D/unreadable.csv", error: "cannot read: permission denied", at: "1:1"),
        BadInput("load csv: empty", "load csv $D/empty.csv", error: "empty.csv: no examples", at: "1:1"),
        BadInput("load csv: a FIFO", "load csv $D/fifo", error: "fifo: not a regular file", at: "1:1"),
        BadInput("load csv: missing", "load csv $D/nothing.csv", error: "nothing.csv: no such file", at: "1:1"),
        BadInput("load idx: a directory", "load idx images=$D/folder", error: "is a folder, not a file", at: "1:1"),
        BadInput("load idx: empty", "load idx images=$D/empty.idx", error: "truncated: expected 4 bytes, found 0", at: "1:1"),
        BadInput("load mnist: a folder without the files", "load mnist path=$D/folder", error: "no train-images file", at: "1:1"),
        BadInput("load mnist: a file for a folder", "load mnist path=$D/tiny.csv", error: "is a file, not a folder", at: "1:1"),
        BadInput("open: a directory", "open $D/folder", error: "is a folder, not a checkpoint file", at: "1:1"),
        BadInput("open: empty", "open $D/empty.safetensors", error: "file is empty", at: "1:1"),
        BadInput("open: a script, not a checkpoint", "open $D/script.pt",
                 error: "neither a PyTorch checkpoint (torch.save writes a zip archive, which starts with PK) nor a safetensors file: it starts with 6C 6F 61 64 20 6D 6E 69 ('load mni')", at: "1:1"),
        BadInput("open: unreadable", "open $D/unreadable.safetensors", error: "permission denied", at: "1:1"),
        BadInput("open: a FIFO", "open $D/fifo", error: "fifo: not a regular file (a pipe, socket or device)", at: "1:1"),
        BadInput("save: into a missing folder", "save $D/nowhere/m.safetensors", error: "cannot save (creating a temporary file beside it): no such file or directory", at: "1:1"),
        BadInput("save: over a directory", "save $D/folder", error: "cannot save", at: "1:1"),
        BadInput("sample out=: into a missing folder", "sample out=$D/nowhere/s.png", error: "cannot save (creating a temporary file beside it): no such file or directory", at: "1:1"),
        BadInput("a script that is empty is no error", "@empty", error: "", at: nil, status: 0),
    ]

    /// Damaged data files: every way IDX, gzip, CSV and safetensors files go wrong.
    static let corrupt: [BadInput] = [
        // IDX
        BadInput("idx: bad magic number", "load idx images=$D/tiny.csv", error: "not an IDX file: magic number 6C 61 62 65", at: "1:1"),
        BadInput("idx: element type int32", "load idx images=$D/int32.idx", error: "unsupported IDX element type int (Int32) (0x0C)", at: "1:1"),
        BadInput("idx: rank 0", "load idx images=$D/rank0.idx", error: "IDX rank 0, expected 1 to 8", at: "1:1"),
        BadInput("idx: rank 1 for images", "load idx images=$D/labels.idx", error: "(a labels file?)", at: "1:1"),
        BadInput("idx: a zero dimension", "load idx images=$D/zero-width.idx", error: "include a zero size", at: "1:1"),
        BadInput("idx: dimensions overflow", "load idx images=$D/overflow.idx", error: "are too large to address", at: "1:1"),
        BadInput("idx: no images, overflowing image size", "load idx images=$D/empty-overflow.idx", error: "are too large to address", at: "1:1"),
        BadInput("idx: no images", "load idx images=$D/zero-count.idx", error: "no examples", at: "1:1"),
        BadInput("idx: truncated", "load idx images=$D/truncated.idx", error: "truncated: expected 64 bytes, found 59", at: "1:1"),
        BadInput("idx: longer than declared", "load idx images=$D/trailing.idx", error: "longer than its header declares: expected 64 bytes, found 65", at: "1:1"),
        BadInput("idx: a 2 GB header in a small file", "load idx images=$D/huge-header.idx", error: "truncated: expected", at: "1:1"),
        BadInput("idx: labels and images disagree", "load idx images=$D/images.idx labels=$D/labels2.idx", error: "2 labels for the 3 images", at: "1:1"),
        BadInput("idx: train and test sizes disagree", "load idx images=$D/images.idx test-images=$D/flat.idx", error: "images are 1×6 but those in", at: "1:1"),
        BadInput("gzip: truncated", "load idx images=$D/truncated.idx.gz", error: "corrupt gzip stream: the compressed stream ends early (truncated file)", at: "1:1"),
        BadInput("gzip: damaged", "load idx images=$D/damaged.idx.gz", error: "corrupt gzip stream", at: "1:1"),
        BadInput("gzip: wrong checksum", "load idx images=$D/bad-crc.idx.gz", error: "corrupt gzip stream", at: "1:1"),
        BadInput("gzip: garbage after the stream", "load idx images=$D/garbage-after.idx.gz", error: "unexpected bytes after the end of the stream", at: "1:1"),
        BadInput("gzip: a header no stream this short can fill", "load idx images=$D/lie.idx.gz", error: "more than", at: "1:1"),
        BadInput("gzip: less data than declared", "load idx images=$D/short.idx.gz", error: "truncated", at: "1:1"),
        BadInput("gzip: more data than declared", "load idx images=$D/long.idx.gz", error: "longer than its header declares", at: "1:1"),
        BadInput("gzip: a damaged CSV", "load csv $D/damaged.csv.gz", error: "corrupt gzip stream", at: "1:1"),
        // CSV
        BadInput("csv: a text cell", "load csv $D/text.csv", error: "line 2, column 1: 'x' is not a number", at: "1:1"),
        BadInput("csv: a short row", "load csv $D/ragged.csv", error: "line 2: 2 cells, expected 3 as on line 1", at: "1:1"),
        BadInput("csv: a value out of range", "load csv $D/range.csv label=none scale=1", error: "line 1, column 2: value 2 is outside 0…1", at: "1:1"),
        BadInput("csv: a label that is not a byte", "load csv $D/bad-label.csv label=first", error: "line 1, column 1: label '256.5' is not an integer in 0…255", at: "1:1"),
        BadInput("csv: labels but no pixels", "load csv $D/labels-only.csv label=first", error: "line 1: a label but no pixel values", at: "1:1"),
        BadInput("csv: test file of another size", "load csv $D/tiny.csv test=$D/two-columns.csv", error: "images are 1×1 but those in", at: "1:1"),
        BadInput("csv: only blank lines", "load csv $D/blank.csv", error: "no examples", at: "1:1"),
        // safetensors
        BadInput("safetensors: too short", "open $D/short.safetensors", error: "file is only 3 bytes; a safetensors file starts with an 8-byte header length", at: "1:1"),
        BadInput("safetensors: a 2 GB header length", "open $D/huge-header.safetensors", error: "header length 2147483648", at: "1:1"),
        BadInput("safetensors: header not UTF-8", "open $D/not-utf8.safetensors", error: "header is not valid UTF-8", at: "1:1"),
        BadInput("safetensors: header not JSON", "open $D/not-json.safetensors", error: "not valid JSON", at: "1:1"),
        BadInput("safetensors: header not an object", "open $D/array.safetensors", error: "an array", at: "1:1"),
        BadInput("safetensors: a duplicate key", "open $D/duplicate.safetensors", error: "duplicate key", at: "1:1"),
        BadInput("safetensors: unknown dtype", "open $D/unknown-dtype.safetensors", error: "'X9'", at: "1:1"),
        BadInput("safetensors: unsupported dtype", "open $D/int-dtype.safetensors", error: "I32", at: "1:1"),
        BadInput("safetensors: offsets reversed", "open $D/reversed.safetensors", error: "reversed", at: "1:1"),
        BadInput("safetensors: offsets past the data", "open $D/beyond.safetensors", error: "past the end of the data", at: "1:1"),
        BadInput("safetensors: size and shape disagree", "open $D/size-mismatch.safetensors", error: "tensor 'a' is F32 [3] but its data_offsets [0, 8] span 8 bytes", at: "1:1"),
        BadInput("safetensors: overlapping tensors", "open $D/overlap.safetensors", error: "overlap", at: "1:1"),
        BadInput("safetensors: bytes no tensor covers", "open $D/gap.safetensors", error: "no tensor", at: "1:1"),
        BadInput("safetensors: truncated data", "open $D/truncated.safetensors", error: "past the end of the data", at: "1:1"),
        BadInput("safetensors: not a VAE", "open $D/not-a-vae.safetensors", error: "the tensor 'weights' [1] belongs to no layer", at: "1:1"),
        BadInput("safetensors: shapes that contradict the metadata", "open $D/wrong-shape.safetensors", error: "tensor 'fc1.weight' has shape [8, 5], expected [8, 16]", at: "1:1"),
        BadInput("safetensors: a checkpoint for other data", "open $D/other-size.safetensors", error: "model for 4 pixels per example, but the loaded data has 16", at: "1:6"),
    ]

    /// `whatis`: the number from a log must be a finite number, the tolerance positive.
    static let whatis: [BadInput] = [
        BadInput("whatis: no number", "whatis", error: "missing required argument 'number' for 'whatis'", at: "1:1"),
        BadInput("whatis: a word, not a number", "whatis loss_value", error: "'loss_value' is neither a number nor a variable", at: "1:8"),
        BadInput("whatis: nan", "whatis nan", error: "'nan' is not a finite number: NaN and infinity match no convention", at: "1:8"),
        BadInput("whatis: minus infinity", "whatis -inf", error: "'inf' is not a finite number", at: "1:8"),
        BadInput("whatis: a literal that overflows", "whatis 1e999", error: "the number is inf: NaN and infinity match no convention", at: "1:8"),
        BadInput("whatis: a number with trailing text", "whatis 0.1347abc", error: "unexpected 'a' after the number 0.1347", at: "1:14"),
        BadInput("whatis: true", "whatis true", error: "whatis needs a number, not true", at: "1:8"),
        BadInput("whatis: tolerance=0", "whatis 105.6 tolerance=0", error: "invalid value '0' for 'tolerance' of 'whatis': must be > 0", at: "1:24"),
        BadInput("whatis: negative tolerance", "whatis 105.6 tolerance=-1", error: "invalid value '-1' for 'tolerance' of 'whatis': must be > 0", at: "1:24"),
        BadInput("whatis: batch=0", "whatis 105.6 batch=0", error: "invalid value '0' for 'batch' of 'whatis': must be ≥ 1", at: "1:20"),
    ]

    /// Variables that no longer describe the model or data, the `draws` setting, and the options
    /// and words added with them (the first four run their preamble at the end of `setup.vae`,
    /// before the state is printed).
    static let state: [BadInput] = [
        BadInput("stale variable: assert after a new model", "assert elbo <= 0",
                 error: "'elbo' describes an earlier model: it was computed by 'elbo limit=4', and 'model hidden=8 latent=2' has changed the model since",
                 at: "1:8", after: "elbo limit=4\nmodel hidden=8 latent=2"),
        BadInput("stale variable: echo after new data", "echo \"gap {elbo - 1}\"",
                 error: "'elbo' describes other data: it was computed by 'elbo limit=4', and 'load csv", at: "1:12",
                 after: "elbo limit=4\nload csv $D/tiny.csv test=$D/tiny-test.csv"),
        BadInput("stale variable: let after a step", "let g = logpx + 1",
                 error: "'logpx' describes an earlier model: it was computed by 'logpx limit=2 k=10', and 'step' has changed the model since",
                 at: "1:9", after: "logpx limit=2 k=10\nstep"),
        BadInput("stale variable: pause after undo", "pause \"{logpx}\"",
                 error: "'logpx' describes an earlier model: it was computed by 'logpx limit=2 k=10', and 'undo' has changed the model since",
                 at: "1:9", after: "step\nlogpx limit=2 k=10\nundo"),
        BadInput("set draws: not a choice", "set draws=sometimes", error: "invalid value 'sometimes' for 'draws' of 'set': expected one of common, fresh", at: "1:11"),
        BadInput("set draws: a typo", "set draws=fresj", error: "invalid value 'fresj' for 'draws' of 'set': expected one of common, fresh; did you mean 'fresh'?", at: "1:11"),
        BadInput("set draws: empty", "set draws=", error: "invalid value '' for 'draws' of 'set'", at: "1:11"),
        BadInput("sample: scale= without out=", "sample scale=4", error: "scale= sets the size of a PNG file, and sample is not writing one", at: "1:14"),
        BadInput("sample: scale=0", "sample scale=0 out=$D/s.png", error: "invalid value '0' for 'scale' of 'sample': must be in [1, 32]", at: "1:14"),
        BadInput("curves: scale= with a CSV file", "curves out=$D/c.csv scale=2", error: "scale= sets the size of a PNG file, and curves is not writing one", at: "1:27"),
        BadInput("active-units: one example", "active-units limit=1", error: "active units need at least 2 examples", at: "1:20"),
        BadInput("active-units: a split misspelt", "active-units split=valid", error: "invalid value 'valid' for 'split' of 'active-units'", at: "1:20"),
        BadInput("help: one word of a command", "help sign", error: "unknown command 'sign'; did you mean 'show-sign'?", at: "1:6"),
        BadInput("show sign for show-sign", "show sign", error: "unknown subcommand 'sign' for 'show'; did you mean 'show-sign'?", at: "1:6"),
        BadInput("explain: a term misspelt", "explain nlll", error: "invalid value 'nlll' for 'term' of 'explain'", at: "1:9"),
        BadInput("echo: a hole with blanks, never closed", "echo {1 + 1", error: "unclosed '{' in text", at: "1:6"),
    ]

    /// PyTorch checkpoints: what PyTorch writes that vaesh refuses, damaged archives, and hostile
    /// pickles and zips (Tests/VAEFormatsTests/Fixtures/torch, written by make_torch_fixtures.py).
    static let pytorch: [BadInput] = [
        // What PyTorch writes but vaesh does not read: each says how to convert it.
        BadInput("pytorch: the legacy format", "open $D/legacy.pt", error: "legacy.pt: a PyTorch checkpoint in the legacy format", at: "1:1"),
        BadInput("pytorch: a whole pickled model", "open $D/whole_model.pt", error: "this file stores a whole Python object of class '__main__.TinyVAE' (a pickled model), not a state dict; save model.state_dict() instead", at: "1:1"),
        BadInput("pytorch: a Python object in a checkpoint", "open $D/python_object.pt", error: "this file stores a Python object of class 'argparse.Namespace'; save model.state_dict() instead", at: "1:1"),
        BadInput("pytorch: a TorchScript archive", "open $D/torchscript.pt", error: "a TorchScript archive (torch.jit.save), not a torch.save checkpoint of tensors", at: "1:1"),
        BadInput("pytorch: one tensor, no state dict", "open $D/one_tensor.pt", error: "it holds one tensor of shape [3], not a dict of named tensors", at: "1:1"),
        BadInput("pytorch: two state dicts", "open $D/two_state_dicts.pt", error: "2 state dicts in this file ('encoder', 'decoder'); vaesh will not guess which is the model", at: "1:1"),
        BadInput("pytorch: a checkpoint for other data", "open $D/state_dict.pt", error: "holds a 6-4-2 model for 6 pixels per example, but the loaded data has 16", at: "1:6"),
        // The zip container.
        BadInput("pytorch: a truncated archive", "open $D/truncated-end.pt", error: "no end-of-central-directory record", at: "1:1"),
        BadInput("pytorch: half an archive", "open $D/truncated-half.pt", error: "no end-of-central-directory record", at: "1:1"),
        BadInput("pytorch: a damaged storage (CRC)", "open $D/bad-crc.pt", error: "archive entry 'archive/data/0': CRC-32", at: "1:1"),
        BadInput("pytorch: an entry claiming 4 GB, stored", "open $D/zip-huge-size.pt", error: "entry 1 claims 4294967280 bytes (167 compressed)", at: "1:1"),
        BadInput("pytorch: an entry claiming 4 GB, deflated", "open $D/zip-huge-deflated.pt", error: "entry 1 claims 4294967280 bytes", at: "1:1"),
        BadInput("pytorch: a ZIP64 offset past 2^63", "open $D/zip64-huge-offset.pt", error: "local header (at byte 9223372036854775813) lies outside the file", at: "1:1"),
        BadInput("pytorch: two entries sharing bytes (an overlap zip bomb)", "open $D/overlapping-entries.pt", error: "entries 2 and 3 share bytes", at: "1:1"),
        BadInput("pytorch: an encrypted entry", "open $D/encrypted.pt", error: "entry 1 is encrypted", at: "1:1"),
        BadInput("pytorch: no data.pkl", "open $D/no-data-pkl.pt", error: "no 'archive/data.pkl'", at: "1:1"),
        BadInput("pytorch: two top folders", "open $D/two-folders.pt", error: "entries in two top folders", at: "1:1"),
        BadInput("pytorch: an unknown byte order", "open $D/byteorder-middle.pt", error: "byte order 'middle', neither 'little' nor 'big'", at: "1:1"),
        // Storages and views.
        BadInput("pytorch: a storage shorter than its tensor", "open $D/short-storage.pt", error: "its storage 'data/0' holds 20 bytes, but the pickle declares 6 elements of 4 bytes", at: "1:1"),
        BadInput("pytorch: lying strides", "open $D/lying-stride.pt", error: "strides [3, 100] reaches element 203 of storage '0', which holds 6", at: "1:1"),
        BadInput("pytorch: a lying storage offset", "open $D/lying-offset.pt", error: "offset 4 and strides [3, 1] reaches element 9", at: "1:1"),
        BadInput("pytorch: a shape too large to address", "open $D/huge-shape.pt", error: "a tensor of shape [1099511627776, 1099511627776], too large to address", at: "1:1"),
        BadInput("pytorch: a billion-element stride-0 view", "open $D/huge-view.pt", error: "1000000000 elements (shape [1000000000]), more than the file's", at: "1:1"),
        BadInput("pytorch: a storage of 2^60 elements", "open $D/huge-numel.pt", error: "declares 1152921504606846976 elements of 4 bytes", at: "1:1"),
        // The pickle.
        BadInput("pytorch: an unknown opcode", "open $D/unknown-opcode.pt", error: "unknown pickle opcode 0xFF", at: "1:1"),
        BadInput("pytorch: the INST opcode", "open $D/inst-opcode.pt", error: "pickle opcode 0x69 'i' (INST) is not one torch.load(weights_only=True) runs", at: "1:1"),
        BadInput("pytorch: os.system", "open $D/os-system.pt", error: "this file stores a Python object of class 'os.system'", at: "1:1"),
        BadInput("pytorch: a truncated pickle", "open $D/truncated-pickle.pt", error: "(archive/data.pkl is truncated)", at: "1:1"),
        BadInput("pytorch: a 4 GB string", "open $D/huge-string.pt", error: "a value of 4294967280 bytes runs past the end of the pickle", at: "1:1"),
        BadInput("pytorch: a memo index of 4 billion", "open $D/huge-memo-index.pt", error: "memo entry 4294967294 is read before it is written", at: "1:1"),
        BadInput("pytorch: a billion laughs (2^64 shared tuples)", "open $D/billion-laughs.pt", error: "it holds a dict of 'bomb', none of them a dict of tensors", at: "1:1"),
        BadInput("pytorch: a billion laughs as a dict key", "open $D/billion-laughs-key.pt", error: "a dict key that is a tuple", at: "1:1"),
        BadInput("pytorch: a list that holds itself", "open $D/self-list.pt", error: "no state dict (a dict of tensors) in this file: it holds a list", at: "1:1"),
        BadInput("pytorch: 10,000 nested lists", "open $D/deep-nesting.pt", error: "no state dict (a dict of tensors) in this file: it holds a list", at: "1:1"),
        BadInput("save .pt: into a missing folder", "save $D/nowhere/m.pt", error: "cannot save (creating a temporary file beside it): no such file or directory", at: "1:1"),
    ]

    /// PyTorch VAEs whose structure or parameterisation the file cannot tell, and `open`'s options
    /// for saying it (Tests/VAEFormatsTests/Fixtures/torch/layouts, written by layouts.py).
    static let ownModels: [BadInput] = [
        BadInput("open: a σ head, how σ is made not said", "open $D/softplus_std.pt", error: "the head 'sigma' gives σ, but whether as σ itself, softplus(head) or exp(head) the file cannot tell", at: "1:1"),
        BadInput("open: a convolutional VAE, strides unknown", "open $D/conv.pt", error: "'encoder.0' is a convolution [4, 1, 3, 3], whose stride, padding and output padding its weights cannot tell", at: "1:1"),
        BadInput("open: a tensor that belongs to no layer", "open $D/leftover.pt", error: "the tensor 'prior_scale' [3] belongs to no layer", at: "1:1"),
        BadInput("open: a μ head without its partner", "open $D/lone_head.pt", error: "'fc_mu' is named like a latent head, but its partner", at: "1:1"),
        BadInput("open: layers that chain in two orders", "open $D/ambiguous_chain.pt", error: "the shapes chain in more than one way", at: "1:1"),
        BadInput("open: sigma= without likelihood=gaussian", "open sigma=0.1 $D/examples.pt", error: "sigma= is the σ of likelihood=gaussian", at: "1:12"),
        BadInput("open: likelihood=gaussian without sigma=", "open likelihood=gaussian $D/examples.pt", error: "likelihood=gaussian needs its σ", at: "1:17"),
        BadInput("open: an unknown variance parameterisation", "open variance=log $D/examples.pt", error: "invalid value 'log' for 'variance' of 'open'", at: "1:15"),
        BadInput("open: an unknown activation", "open activation=swish $D/examples.pt", error: "invalid value 'swish' for 'activation' of 'open'", at: "1:17"),
        BadInput("open into=model: tensors that do not fit the model", "open into=model $D/sequential.safetensors", error: "its tensors do not fit the model described (16-8-2) in order and shape", at: "1:1"),
        BadInput("open: options for a file that records its model", "open activation=tanh $D/wrong-shape.safetensors", error: "the file records its model (16-8-2, saved by vaesh): activation=, variance= and likelihood= are for files that do not", at: "1:1"),
    ]


    /// Architectures written in PyTorch's layer names (`model encoder="…" decoder="…"`) on the
    /// setup's 1×4×4 data: each error is one line located at the layer's text inside the string.
    static let architecture: [BadInput] = [
        BadInput("model: an unknown layer, with a suggestion", "model latent=2 encoder=\"Flatten Linaer(16,4)\" decoder=\"Linear(2,16)\"",
                 error: "unknown layer 'Linaer'; did you mean 'Linear'?", at: "1:33"),
        BadInput("model: a Keras layer name", "model latent=2 encoder=\"Flatten Dense(4)\" decoder=\"Linear(2,16)\"",
                 error: "unknown layer 'Dense': that is Keras's name", at: "1:33"),
        BadInput("model: a missing layer argument", "model latent=2 encoder=\"Conv2d(1,2) Flatten Linear(8,4)\" decoder=\"Linear(2,16)\"",
                 error: "Conv2d() missing required argument 'kernel_size'", at: "1:25"),
        BadInput("model: too many layer arguments", "model latent=2 encoder=\"Flatten Linear(16,4,True,5)\" decoder=\"Linear(2,16)\"",
                 error: "Linear() takes 3 positional arguments but 4 were given", at: "1:50"),
        BadInput("model: a layer argument of the wrong type", "model latent=2 encoder=\"Flatten Linear(16,'four')\" decoder=\"Linear(2,16)\"",
                 error: "Linear() argument 'out_features' must be an integer, not 'four'", at: "1:43"),
        BadInput("model: an unknown keyword, with a suggestion", "model latent=2 encoder=\"Conv2d(1,2,3,strides=2) Flatten Linear(2,4)\" decoder=\"Linear(2,16)\"",
                 error: "Conv2d() got an unexpected keyword argument 'strides'; did you mean 'stride'?", at: "1:38"),
        BadInput("model: a parenthesis never closed", "model latent=2 encoder=\"Flatten Linear(16,4\" decoder=\"Linear(2,16)\"",
                 error: "'(' after Linear is never closed", at: "1:39"),
        BadInput("model: a layer's value nested a million deep", "model latent=2 encoder=\"Conv2d(1,2," + String(repeating: "(", count: 1 << 20)
                    + "\" decoder=\"Linear(2,16)\"",
                 error: "a value nested too deeply: at most 100 levels", at: "1:136"),
        BadInput("model: a shape that does not fit", "model latent=2 encoder=\"Conv2d(1,2,3) ReLU Flatten Linear(16,4)\" decoder=\"Linear(2,16)\"",
                 error: "encoder.3 Linear(16, 4) receives 8 values: the convolutions above leave 2×2×2", at: "1:52"),
        BadInput("model: channels that do not chain", "model latent=2 encoder=\"Conv2d(3,2,3) Flatten Linear(8,4)\" decoder=\"Linear(2,16)\"",
                 error: "encoder.0 Conv2d(3, 2, 3) receives 1 channel: the data is 1×4×4", at: "1:25"),
        BadInput("model: a kernel larger than its input", "model latent=2 encoder=\"Conv2d(1,2,5) Flatten Linear(8,4)\" decoder=\"Linear(2,16)\"",
                 error: "encoder.0 Conv2d(1, 2, 5)", at: "1:25"),
        BadInput("model: a zero size", "model latent=2 encoder=\"Flatten Linear(16,0)\" decoder=\"Linear(2,16)\"",
                 error: "encoder.1 Linear(16, 0) has out_features=0; it must be at least 1", at: "1:33"),
        BadInput("model: a negative stride", "model latent=2 encoder=\"Conv2d(1,2,3,stride=-1) Flatten Linear(8,4)\" decoder=\"Linear(2,16)\"",
                 error: "has stride=", at: "1:25"),
        BadInput("model: a size over the engine's limit", "model latent=2 encoder=\"Flatten Linear(16,4)\" decoder=\"Linear(2,4000000) ReLU Linear(4000000,16)\"",
                 error: "decoder.0 Linear(2, 4000000) has out_features=4000000; the engine takes at most 1048576", at: "1:56"),
        BadInput("model: activations over the memory cap", "model latent=2 encoder=\"Flatten Linear(16,4)\" decoder=\"Linear(2,1048576) ReLU Linear(1048576,16)\"",
                 error: "the model would need", at: "1:1"),
        BadInput("model: a decoder that does not end with the data", "model latent=2 encoder=\"Flatten Linear(16,4)\" decoder=\"Linear(2,15)\"",
                 error: "decoder.0 Linear(2, 15) ends the decoder with 15 values, but the data is 1×4×4", at: "1:56"),
        BadInput("model: a final Sigmoid on a Bernoulli decoder", "model latent=2 encoder=\"Flatten Linear(16,4)\" decoder=\"Linear(2,16) Sigmoid\"",
                 error: "the decoder ends with Sigmoid, but the Bernoulli likelihood takes logits", at: "1:69"),
        BadInput("model: decoder layers without an encoder", "model latent=2 decoder=\"Linear(2,16)\"",
                 error: "decoder= layers need encoder= layers too", at: "1:25"),
        BadInput("model: hidden= beside layers", "model latent=2 hidden=8 encoder=\"Flatten Linear(16,4)\" decoder=\"Linear(2,16)\"",
                 error: "hidden= is for the MLP form", at: "1:23"),
        BadInput("open: a conv model for images of another shape", "open /tmp/vaesh-catalogue-wide-conv.safetensors",
                 error: "holds a model for examples of 1×2×8, but the loaded data's are 1×4×4", at: "1:6",
                 after: """
                 load idx images=$D/wide.idx
                 model latent=2 encoder="Conv2d(1,2,3,padding=1) Flatten Linear(32,4)" decoder="Linear(2,16)"
                 save /tmp/vaesh-catalogue-wide-conv.safetensors
                 load csv $D/tiny.csv test=$D/tiny-test.csv
                 model hidden=8 latent=2
                 """),
        BadInput("model: no layers", "model latent=2 encoder=\"\" decoder=\"Linear(2,16)\"",
                 error: "no layers", at: "1:24"),
    ]

    /// The latent space's pictures (`latent`, `manifold`, `interpolate`) on the 16-8-2 model.
    static let latentSpace: [BadInput] = [
        BadInput("latent: a dimension out of range", "latent dims=0,2",
                 error: "dimension 2 is out of range: the model has 2 latent dimensions (0…1)", at: "1:13"),
        BadInput("latent: one dimension", "latent dims=1", error: "dims= takes two dimensions, not 1", at: "1:13"),
        BadInput("latent: the same dimension twice", "latent dims=1,1", error: "dims=1,1 names one dimension twice", at: "1:13"),
        BadInput("latent: one example", "latent limit=1", error: "the scatter needs at least 2 examples, and there is 1", at: "1:14"),
        BadInput("latent: an unwritable path", "latent out=/nonexistent-vaesh-folder/latent.png",
                 error: "/nonexistent-vaesh-folder/latent.png: cannot save", at: "1:1"),
        BadInput("latent: scale= without out=", "latent scale=3", error: "scale= sets the size of a PNG file, and latent is not writing one", at: "1:14"),
        BadInput("manifold: a grid too large", "manifold 65", error: "invalid value '65' for 'n' of 'manifold': must be in [2, 64]", at: "1:10"),
        BadInput("manifold: a picture too large", "manifold 64 out=$D/m.png scale=32", error: "scale=32 would make a picture of", at: "1:32"),
        BadInput("manifold: range= with quantiles", "manifold range=3", error: "range= sets the ends of a linear grid, and spacing=quantile has none", at: "1:16"),
        BadInput("manifold: split= without index=", "manifold split=train", error: "split= says where the index= example comes from, and no index= was given", at: "1:16"),
        BadInput("manifold: index= with nothing to hold", "manifold index=3",
                 error: "index= sets the dimensions the grid does not vary, and a model with 2 latent dimensions has none", at: "1:16"),
        BadInput("interpolate: an example past the end", "interpolate 0 99", error: "to=99, but the test split has 8 examples (0…7)", at: "1:15"),
        BadInput("interpolate: one index", "interpolate 3", error: "missing required argument 'to' for 'interpolate'", at: "1:1"),
        BadInput("interpolate: a path misspelt", "interpolate 0 1 path=slurp", error: "invalid value 'slurp' for 'path' of 'interpolate'", at: "1:22"),
    ]

    static let all = arguments + extremes + syntax + files + corrupt + whatis + state + pytorch + ownModels + architecture + latentSpace
}

// MARK: - The run

@Suite("Bad input catalogue") struct BadInputCatalogueTests {
    @Test(arguments: Catalogue.all)
    func badInput(_ bad: BadInput) throws {
        let sandbox = try Sandbox()
        let directory = sandbox.directory.path
        try Fixtures.write(into: sandbox)
        let setup = try sandbox.write("setup.vae", """
            load csv \(directory)/tiny.csv test=\(directory)/tiny-test.csv
            model hidden=8 latent=2
            let sentinel = 42
            \(bad.preamble.replacingOccurrences(of: "$D", with: directory))
            echo "=== state"
            info
            kl index=0
            vars
            echo "=== end"

            """)
        let after = try sandbox.write("after.vae", "echo \"=== state\"\ninfo\nkl index=0\nvars\necho \"=== end\"\n")
        let script: String
        switch String(decoding: bad.script, as: UTF8.self) {
        case "@directory": script = sandbox.path("folder")
        case "@unreadable": script = sandbox.path("unreadable.csv")
        case "@missing": script = sandbox.path("nothing.vae")
        case "@empty": script = sandbox.path("empty.csv")
        default:
            let text = bad.script.split(separator: 0x24, omittingEmptySubsequences: false)  // "$"
            var bytes: [UInt8] = text.first.map(Array.init) ?? []
            for part in text.dropFirst() {
                bytes += part.first == 0x44 ? Array(directory.utf8) + part.dropFirst() : [0x24] + part  // "$D"
            }
            script = try sandbox.write("bad.vae", bytes: bytes)
        }

        let result = try runAsUnprivilegedUser(sandbox, ["--no-rc", "--keep-going", setup, script, after])

        // 1. The exit status, and no signal.
        #expect(result.termination == .exited(bad.status), "\(result)")
        // 2. One error, on the first line, naming what is wrong and where.
        let errorLines = result.stderr.split(separator: "\n").filter { $0.contains("error: ") || $0.hasPrefix("vaesh: ") }
        if bad.status == 0 {
            #expect(result.stderr.isEmpty, "\(result)")
        } else {
            let first = String(result.stderr.prefix { $0 != "\n" })
            #expect(errorLines.count == 1, "expected one error:\n\(result.stderr.prefix(2000))")
            #expect(first.contains(bad.error), "\(first.prefix(500))")
            if let at = bad.at {
                let location = expanded(at, in: bad.script, directory: directory)
                #expect(first.hasPrefix("\(script):\(location): error: "), "\(first.prefix(500))")
            } else {
                #expect(first.contains(": error: ") || first.hasPrefix("vaesh: cannot read"), "\(first.prefix(500))")
            }
            #expect(first.count <= 400, "the error line is \(first.count) characters")
        }
        // For docs/RELIABILITY.md: VAESH_CATALOGUE_DUMP=FILE collects each case's error line.
        if let dump = ProcessInfo.processInfo.environment["VAESH_CATALOGUE_DUMP"] {
            let line = String(result.stderr.prefix { $0 != "\n" }).replacingOccurrences(of: directory, with: "$D")
            var input = String(decoding: bad.script.prefix(70), as: UTF8.self).debugDescription.dropFirst().dropLast()
            if bad.script.count > 70 { input += "… (\(bad.script.count) bytes)" }
            let preamble = bad.preamble.replacingOccurrences(of: "\n", with: "; ").replacingOccurrences(of: directory, with: "$D")
            let entry = "\(bad.name)\t\(input)\t\(result.termination)\t\(line.prefix(300))\t\(preamble)\n"
            if let handle = FileHandle(forWritingAtPath: dump) ?? (FileManager.default.createFile(atPath: dump, contents: nil) ? FileHandle(forWritingAtPath: dump) : nil) {
                handle.seekToEndOfFile()
                handle.write(Data(entry.utf8))
                handle.closeFile()
            }
        }
        // 3. The state the error found is the state after it (what the preamble printed before
        // the first state, and what the bad script printed after it, are not state).
        let states = result.stdout.components(separatedBy: "=== state\n").dropFirst().map { $0.components(separatedBy: "=== end\n")[0] }
        #expect(states.count == 2, "\(result)")
        if states.count == 2 {
            #expect(states[0] == states[1], "the session changed:\n--- before\n\(states[0])--- after\n\(states[1])")
            #expect(states[1].contains("sentinel") && states[1].contains("16-8-2"))
        }
    }

    @Test func theCatalogueIsLargeAndEachNameUnique() {
        #expect(Catalogue.all.count >= 60)
        #expect(Set(Catalogue.all.map(\.name)).count == Catalogue.all.count)
    }
}

/// `line:column` in the script as run: each `$D` before the column on that line became the
/// sandbox's path.
private func expanded(_ at: String, in script: [UInt8], directory: String) -> String {
    let parts = at.split(separator: ":").compactMap { Int($0) }
    guard parts.count == 2 else { return at }
    let lines = String(decoding: script, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard parts[0] - 1 < lines.count else { return at }
    let before = lines[parts[0] - 1].prefix(parts[1] - 1)
    let occurrences = before.components(separatedBy: "$D").count - 1
    return "\(parts[0]):\(parts[1] + occurrences * (directory.count - 2))"
}

/// Runs vaesh; as root, through `setpriv` as nobody, since root reads a file whatever its mode
/// and the unreadable cases need a reader the mode stops.
private func runAsUnprivilegedUser(_ sandbox: Sandbox, _ arguments: [String]) throws -> ShellResult {
    let setpriv = "/usr/bin/setpriv"
    guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else {
        return try sandbox.run(arguments, timeout: 120)
    }
    chmod(sandbox.directory.path, 0o755)
    return try RunningShell(
        sandbox: sandbox, executable: setpriv,
        arguments: ["--reuid=65534", "--regid=65534", "--clear-groups", ShellBinary.require()] + arguments,
        stdin: .text(""), environment: [:]
    ).finish(timeout: 120)
}

// MARK: - Fixtures

/// The files the cases name, written into each sandbox (a few kilobytes).
enum Fixtures {
    static func write(into sandbox: Sandbox) throws {
        func csv(rows: Int, offset: Int) -> String {
            "label," + (0..<16).map { "p\($0)" }.joined(separator: ",") + "\n"
                + (0..<rows).map { n in
                    String((n + offset) % 10) + "," + (0..<16).map { String(((n + offset) * 37 + $0 * 11) % 256) }.joined(separator: ",")
                }.joined(separator: "\n") + "\n"
        }
        try sandbox.write("tiny.csv", csv(rows: 24, offset: 0))
        try sandbox.write("tiny-test.csv", csv(rows: 8, offset: 24))
        try FileManager.default.createDirectory(atPath: sandbox.path("folder"), withIntermediateDirectories: true)
        for name in ["empty.csv", "empty.idx", "empty.safetensors"] { try sandbox.write(name, "") }
        try sandbox.write("script.pt", "load mnist\nmodel\n")
        for name in ["unreadable.csv", "unreadable.safetensors"] {
            try sandbox.write(name, "1,2\n")
            chmod(sandbox.path(name), 0)
        }
        mkfifo(sandbox.path("fifo"), 0o644)

        // Scripts
        try sandbox.write("nul.vae", bytes: Array("echo \"not run\"\necho \"\0\"\n".utf8))
        try sandbox.write("not-utf8.vae", bytes: Array("echo ".utf8) + [0xC3, 0x28, 0x0A])
        try sandbox.write("self.vae", "source self.vae\n")
        try sandbox.write("ping.vae", "source pong.vae\n")
        try sandbox.write("pong.vae", "source ping.vae\n")

        // IDX, raw and gzip'd
        let images = idx([3, 4, 4], (0..<48).map { UInt8(($0 * 29) % 256) })
        try sandbox.write("images.idx", bytes: images)
        try sandbox.write("labels.idx", bytes: idx([3], [7, 1, 0]))
        try sandbox.write("labels2.idx", bytes: idx([2], [7, 1]))
        try sandbox.write("flat.idx", bytes: idx([2, 6], Array(0..<12)))
        try sandbox.write("wide.idx", bytes: idx([3, 2, 8], (0..<48).map { UInt8(($0 * 37) % 256) }))  // 2×8: as many values as 4×4
        try sandbox.write("int32.idx", bytes: idx([2], Array(0..<8), type: 0x0C))
        try sandbox.write("rank0.idx", bytes: [0, 0, 8, 0])
        try sandbox.write("zero-width.idx", bytes: idx([3, 0, 4], []))
        try sandbox.write("zero-count.idx", bytes: idx([0, 4, 4], []))
        try sandbox.write("overflow.idx", bytes: [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12))
        try sandbox.write("empty-overflow.idx", bytes: [0, 0, 8, 3, 0, 0, 0, 0, 0xF7, 0xFF, 0xFF, 0xFF, 0xFF, 0xD9, 0x04, 0x04])
        try sandbox.write("truncated.idx", bytes: Array(images.dropLast(5)))
        try sandbox.write("trailing.idx", bytes: images + [9])
        try sandbox.write("huge-header.idx", bytes: [0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF] + images[8..<16])
        let gzipped = try gzip(images)
        try sandbox.write("truncated.idx.gz", bytes: Array(gzipped.dropLast(12)))
        var damaged = gzipped
        damaged[damaged.count / 2] ^= 0xFF
        try sandbox.write("damaged.idx.gz", bytes: damaged)
        var badCRC = gzipped
        badCRC[badCRC.count - 8] ^= 0xFF
        try sandbox.write("bad-crc.idx.gz", bytes: badCRC)
        try sandbox.write("garbage-after.idx.gz", bytes: gzipped + Array("junk".utf8))
        try sandbox.write("lie.idx.gz", bytes: try gzip([0, 0, 8, 3, 0x00, 0x10, 0x00, 0x00] + images[8..<16]))
        try sandbox.write("short.idx.gz", bytes: try gzip(Array(images.dropLast(5))))
        try sandbox.write("long.idx.gz", bytes: try gzip(images + [9]))
        var damagedCSV = try gzip(Array(csv(rows: 24, offset: 0).utf8))
        damagedCSV[damagedCSV.count / 2] ^= 0xFF
        try sandbox.write("damaged.csv.gz", bytes: damagedCSV)

        // CSV
        try sandbox.write("text.csv", "1,2\nx,3\n")
        try sandbox.write("ragged.csv", "1,2,3\n4,5\n")
        try sandbox.write("range.csv", "0.5,2\n")
        try sandbox.write("two-columns.csv", "1,2\n3,4\n")
        try sandbox.write("bad-label.csv", "256.5,1,2\n")
        try sandbox.write("labels-only.csv", "3\n4\n")
        try sandbox.write("blank.csv", "\n \n\t\n")

        // safetensors
        let model = vaeshModel(inputs: 16, hidden: 8, latent: 2)
        try sandbox.write("short.safetensors", bytes: [8, 0, 0])
        try sandbox.write("huge-header.safetensors", bytes: [0, 0, 0, 0x80, 0, 0, 0, 0] + Array("{}".utf8))
        try sandbox.write("not-utf8.safetensors", bytes: header([0x7B, 0xFF, 0x7D]))
        try sandbox.write("not-json.safetensors", bytes: header(Array("{\"a\":[1,".utf8)))
        try sandbox.write("array.safetensors", bytes: header(Array("[]".utf8)))
        try sandbox.write("duplicate.safetensors", bytes: header(Array("{\"a\":1,\"a\":2}".utf8)))
        try sandbox.write("unknown-dtype.safetensors", bytes: safetensors([("a", "X9", [1], [0, 0, 0, 0])]))
        try sandbox.write("int-dtype.safetensors", bytes: safetensors([("a", "I32", [1], [0, 0, 0, 0])]))
        try sandbox.write("reversed.safetensors", bytes: header(Array(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#.utf8)) + [0, 0, 0, 0])
        try sandbox.write("beyond.safetensors", bytes: header(Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)) + [0, 0, 0, 0])
        try sandbox.write("size-mismatch.safetensors", bytes: header(Array(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#.utf8)) + [UInt8](repeating: 0, count: 8))
        try sandbox.write("overlap.safetensors", bytes: header(Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#.utf8)) + [UInt8](repeating: 0, count: 8))
        try sandbox.write("gap.safetensors", bytes: header(Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)) + [UInt8](repeating: 0, count: 8))
        try sandbox.write("truncated.safetensors", bytes: Array(safetensors(model.tensors, metadata: model.metadata).dropLast(10)))
        try sandbox.write("not-a-vae.safetensors", bytes: safetensors([("weights", "F32", [1], [0, 0, 0, 0])]))
        var wrong = vaeshModel(inputs: 5, hidden: 8, latent: 2)
        wrong.metadata = model.metadata
        try sandbox.write("wrong-shape.safetensors", bytes: safetensors(wrong.tensors, metadata: wrong.metadata))
        let other = vaeshModel(inputs: 4, hidden: 3, latent: 2)
        try sandbox.write("other-size.safetensors", bytes: safetensors(other.tensors, metadata: other.metadata))

        // PyTorch checkpoints: the committed fixtures, refused and hostile ones alike.
        let torch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("VAEFormatsTests/Fixtures/torch")
        for folder in [torch, torch.appendingPathComponent("hostile"), torch.appendingPathComponent("layouts")] {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".pt") || name.hasSuffix(".safetensors") {
                try FileManager.default.copyItem(atPath: folder.appendingPathComponent(name).path, toPath: sandbox.path(name))
            }
        }
    }

    static func idx(_ dimensions: [Int], _ elements: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for dimension in dimensions { bytes += withUnsafeBytes(of: UInt32(dimension).bigEndian, Array.init) }
        return bytes + elements
    }

    /// `gzip -n`: the test target has no zlib of its own.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let sandbox = try Sandbox()
        let input = try sandbox.write("in", bytes: bytes)
        let result = try sandbox.runShellScript("gzip -n -9 -c '\(input)' > '\(input).gz'")
        guard result.status == 0, let data = FileManager.default.contents(atPath: input + ".gz") else {
            throw ChildProcess.SpawnError(description: "gzip failed: \(result)")
        }
        return Array(data)
    }

    /// A safetensors file: 8-byte length, the header padded to 8 bytes, the data.
    static func header(_ json: [UInt8]) -> [UInt8] {
        let padded = json + [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        return withUnsafeBytes(of: UInt64(padded.count).littleEndian, Array.init) + padded
    }

    static func safetensors(_ tensors: [(String, String, [Int], [UInt8])], metadata: [String: String]? = nil) -> [UInt8] {
        var fields: [String] = []
        if let metadata {
            let entries = metadata.keys.sorted().map { "\(json($0)):\(json(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(entries.joined(separator: ","))}")
        }
        var offset = 0
        var data: [UInt8] = []
        for (name, dtype, shape, bytes) in tensors {
            fields.append("\(json(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes.count)]}")
            offset += bytes.count
            data += bytes
        }
        return header(Array("{\(fields.joined(separator: ","))}".utf8)) + data
    }

    static func json(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The tensors and metadata of a vaesh checkpoint of an inputs-hidden-latent Bernoulli model.
    static func vaeshModel(inputs: Int, hidden: Int, latent: Int) -> (tensors: [(String, String, [Int], [UInt8])], metadata: [String: String]) {
        let configuration = #"{"activation":"relu","encoderHidden":[\#(hidden)],"inputSize":\#(inputs),"latentSize":\#(latent),"likelihood":{"bernoulli":{}}}"#
        let metadata = ["vaesh.format": "1", "vaesh.configuration": configuration]
        let shapes: [(String, [Int])] = [
            ("fc1.weight", [hidden, inputs]), ("fc1.bias", [hidden]), ("fc21.weight", [latent, hidden]),
            ("fc22.weight", [latent, hidden]), ("fc21.bias", [latent]), ("fc22.bias", [latent]),
            ("fc3.weight", [hidden, latent]), ("fc3.bias", [hidden]), ("fc4.weight", [inputs, hidden]), ("fc4.bias", [inputs]),
        ]
        let tensors = shapes.map { name, shape in
            let count = shape.reduce(1, *)
            let values = (0..<count).flatMap { withUnsafeBytes(of: Float(Double($0 % 7) * 0.01 - 0.03).bitPattern.littleEndian, Array.init) }
            return (name, "F32", shape, values)
        }
        return (tensors, metadata)
    }
}
