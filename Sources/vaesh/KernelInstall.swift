import ArgumentParser
@preconcurrency import Foundation
@preconcurrency import Glibc

/// `vaesh kernel install`: makes this binary a Jupyter kernel.
///
/// The kernelspec is written by Jupyter's own code (`KernelSpecManager.install_kernel_spec`, run
/// by jupyter/install_kernelspec.py in the Python that will run the kernel), so `--user`,
/// `--prefix` and `--sys-prefix` mean exactly what they mean to `jupyter kernelspec install`, on
/// every platform and with every `JUPYTER_*` variable. This side finds the three things the
/// kernelspec names: the real path of this binary, the kernel's Python files, and the Python.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vaesh kernel",
        abstract: "vaesh as a Jupyter kernel.",
        discussion: "Then 'jupyter kernelspec list' lists it, and notebooks can choose 'vaesh'. See jupyter/README.md.",
        subcommands: [Install.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a kernelspec that runs this vaesh binary in Jupyter.",
            discussion: """
                Without --user, --prefix or --sys-prefix it installs for every user of the machine \
                (as 'jupyter kernelspec install' does), which needs write access there. The kernel \
                runs on ipykernel: the Python named by --python must have Jupyter (pip install \
                ipykernel). Run it again after moving the binary or the source tree.
                """
        )

        @Flag(help: "Install for the current user only (e.g. ~/.local/share/jupyter/kernels).")
        var user = false

        @Option(help: ArgumentHelp("Install under this prefix (PREFIX/share/jupyter/kernels).", valueName: "prefix"))
        var prefix: String?

        @Flag(name: .customLong("sys-prefix"), help: "Install into the Python environment of --python (its sys.prefix).")
        var sysPrefix = false

        @Option(help: ArgumentHelp("The Python that runs the kernel; it needs ipykernel.", valueName: "path"))
        var python = "python3"

        @Option(help: ArgumentHelp("The kernelspec's name.", valueName: "name"))
        var name = "vaesh"

        func validate() throws {
            if [user, prefix != nil, sysPrefix].filter({ $0 }).count > 1 {
                throw ValidationError("give at most one of --user, --prefix and --sys-prefix")
            }
        }

        /// Runs the installer; the exit status.
        func install() -> Int32 {
            guard let binary = Self.executablePath() else {
                fputs("vaesh kernel install: cannot tell where this vaesh binary is\n", stderr)
                return 1
            }
            guard let folder = Self.kernelFolder(near: binary) else {
                fputs("""
                    vaesh kernel install: the kernel's Python files (jupyter/install_kernelspec.py) are not near \(binary)
                    hint: run the vaesh built in its source tree (.build/release/vaesh), or copy the source tree's jupyter/ folder to PREFIX/share/vaesh/jupyter for a vaesh installed in PREFIX/bin

                    """, stderr)
                return 1
            }
            var arguments = [python, folder + "/install_kernelspec.py", "--vaesh", binary, "--name", name]
            if user { arguments.append("--user") }
            if sysPrefix { arguments.append("--sys-prefix") }
            if let prefix { arguments += ["--prefix", prefix] }

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            do {
                try process.run()
            } catch {
                fputs("vaesh kernel install: cannot run \(python): \(error.localizedDescription)\n", stderr)
                return 1
            }
            process.waitUntilExit()
            // env says "No such file or directory" itself; say what to do about it.
            if process.terminationStatus == 127 {
                fputs("hint: install Python 3 with Jupyter (pip install ipykernel), or name its python with --python PATH\n", stderr)
            }
            return process.terminationStatus == 0 ? 0 : 1
        }

        /// This binary with every symbolic link resolved: what the kernelspec must name, so that
        /// it keeps working when `.build/release` (itself a link) points elsewhere.
        static func executablePath() -> String? {
            for candidate in ["/proc/self/exe", CommandLine.arguments[0]] {
                if let resolved = realpath(candidate, nil) {
                    defer { free(resolved) }
                    return String(cString: resolved)
                }
            }
            return nil
        }

        /// The folder holding the kernel's Python files: `jupyter/` in the source tree this binary
        /// was built in (an ancestor of `.build/…/release/vaesh`), or `share/vaesh/jupyter` beside
        /// the `bin/` of an installed one.
        static func kernelFolder(near binary: String) -> String? {
            var directory = URL(fileURLWithPath: binary).deletingLastPathComponent()
            for _ in 0..<8 {
                for candidate in ["jupyter", "share/vaesh/jupyter"] {
                    let folder = directory.appendingPathComponent(candidate).path
                    if FileManager.default.fileExists(atPath: folder + "/install_kernelspec.py") { return folder }
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
            return nil
        }
    }
}
