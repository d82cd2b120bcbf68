"""Writes the vaesh kernelspec: what `vaesh kernel install` runs, in the Python that will run the kernel.

    python install_kernelspec.py --vaesh /real/path/to/vaesh [--user | --prefix P | --sys-prefix] [--name vaesh]

Jupyter's own KernelSpecManager.install_kernel_spec decides where the kernelspec goes, so --user,
--prefix and --sys-prefix mean what they mean to `jupyter kernelspec install`. The kernelspec runs
launch_kernel.py (beside this file) with this Python, and names the vaesh binary in its env.
"""

import argparse
import json
import os
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaesh", required=True, help="the vaesh binary the kernel runs")
    parser.add_argument("--name", default="vaesh", help="the kernelspec's name")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for the current user only")
    where.add_argument("--prefix", help="under PREFIX/share/jupyter/kernels")
    where.add_argument("--sys-prefix", action="store_true", help="in this Python's environment (sys.prefix)")
    arguments = parser.parse_args()

    try:
        import ipykernel  # noqa: F401  (the kernel runs on it)
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError as missing:
        print(f"vaesh kernel install: {sys.executable} cannot import {missing.name}, which the kernel runs on\n"
              f"hint: {sys.executable} -m pip install ipykernel, or name the Python of your Jupyter with --python PATH",
              file=sys.stderr)
        return 1

    here = os.path.dirname(os.path.realpath(__file__))
    spec = {
        "argv": [sys.executable, os.path.join(here, "launch_kernel.py"), "-f", "{connection_file}"],
        "display_name": "vaesh",
        "language": "vaesh",
        # Interrupts come as messages, which the kernel turns into one SIGINT for vaesh while a
        # cell runs: no signal reaches the kernel's Python, and none reaches an idle vaesh.
        "interrupt_mode": "message",
        "env": {"VAESH_KERNEL_BINARY": arguments.vaesh},
        "metadata": {"debugger": False},
    }
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "kernel.json"), "w", encoding="utf-8") as file:
            json.dump(spec, file, indent=1)
        prefix = sys.prefix if arguments.sys_prefix else arguments.prefix
        try:
            destination = KernelSpecManager().install_kernel_spec(folder, arguments.name, user=arguments.user, prefix=prefix)
        except OSError as error:
            print(f"vaesh kernel install: cannot write the kernelspec: {error}\n"
                  "hint: --user installs for you alone, without needing write access elsewhere", file=sys.stderr)
            return 1
    print(f"installed kernelspec {arguments.name} in {destination}\n"
          f"  runs {arguments.vaesh} through {sys.executable}; `jupyter kernelspec list` shows it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
