"""The kernel under test, installed the way a user installs it, into a private place.

Before any test: `vaesh kernel install --prefix TMP --python <this Python>` writes the kernelspec,
and JUPYTER_PATH points at it, so jupyter_client, jupyter_kernel_test and nbclient all start the
kernel through its kernelspec. Jupyter's runtime files and vaesh's data folder are private too:
an empty data folder makes `load mnist` use the subset embedded in vaesh, the same on every machine.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

REPO = Path(__file__).resolve().parents[2]
SCRATCH = Path(tempfile.mkdtemp(prefix="vaesh-jupyter-tests-"))


def vaesh_binary():
    """$VAESH_BINARY, else the release build scripts/test makes (.build-testing), else the one
    `swift build -c release` and scripts/tour make (.build)."""
    if os.environ.get("VAESH_BINARY"):
        return os.environ["VAESH_BINARY"]
    candidates = [REPO / ".build-testing" / "release" / "vaesh", REPO / ".build" / "release" / "vaesh"]
    return str(next((path for path in candidates if os.access(path, os.X_OK)), candidates[0]))


def pytest_sessionstart(session):
    binary = vaesh_binary()
    if not os.access(binary, os.X_OK):
        pytest.exit(f"no vaesh binary at {binary}: run scripts/test (or `swift build -c release`) first, or set VAESH_BINARY", returncode=1)
    prefix = SCRATCH / "prefix"
    subprocess.run([binary, "kernel", "install", "--prefix", str(prefix), "--python", sys.executable],
                   check=True, stdout=subprocess.DEVNULL)
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(SCRATCH / "runtime")
    os.environ["VAESH_DATA"] = str(SCRATCH / "no-mnist")
    (SCRATCH / "no-mnist").mkdir(exist_ok=True)


@pytest.fixture
def kernel():
    """A fresh vaesh kernel and a blocking client; shut down afterwards, whatever happened."""
    manager, client = start_new_kernel(kernel_name="vaesh", cwd=str(SCRATCH))
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture
def workdir(tmp_path):
    return tmp_path
