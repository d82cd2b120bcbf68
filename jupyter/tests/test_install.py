"""`vaesh kernel install`: the kernelspec Jupyter lists, pointing at the real binary and this folder."""

import json
import os
import subprocess
import sys
import venv

from conftest import REPO, SCRATCH, vaesh_binary


def install(*arguments, env=None):
    return subprocess.run([vaesh_binary(), "kernel", "install", *arguments], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_the_kernelspec_is_listed_and_names_the_real_binary_and_this_python():
    listed = subprocess.run([sys.executable, "-m", "jupyter_client.kernelspecapp", "list", "--json"],
                            capture_output=True, text=True, check=True)
    spec = json.loads(listed.stdout)["kernelspecs"]["vaesh"]["spec"]
    assert spec["argv"] == [sys.executable, str(REPO / "jupyter" / "launch_kernel.py"), "-f", "{connection_file}"]
    assert spec["env"]["VAESH_KERNEL_BINARY"] == os.path.realpath(vaesh_binary())
    assert spec["language"] == "vaesh" and spec["interrupt_mode"] == "message"


def test_user_installs_under_the_users_jupyter_folder():
    home = SCRATCH / "home"
    result = install("--user", "--python", sys.executable, env={"HOME": str(home), "JUPYTER_DATA_DIR": ""})
    assert result.returncode == 0, result.stderr
    assert (home / ".local" / "share" / "jupyter" / "kernels" / "vaesh" / "kernel.json").is_file()


def test_a_python_without_jupyter_is_refused_with_what_to_do():
    bare = SCRATCH / "bare-python"
    venv.create(bare, with_pip=False)
    result = install("--prefix", str(SCRATCH / "unused"), "--python", str(bare / "bin" / "python"))
    assert result.returncode == 1
    assert "cannot import ipykernel" in result.stderr and "--python PATH" in result.stderr
    assert not (SCRATCH / "unused").exists()


def test_usage_errors():
    result = install("--user", "--prefix", "/tmp/x")
    assert result.returncode == 2
    assert "give at most one of --user, --prefix and --sys-prefix" in result.stderr
    result = install("--python", "/no/such/python")
    assert result.returncode == 1
    assert "name its python with --python PATH" in result.stderr
