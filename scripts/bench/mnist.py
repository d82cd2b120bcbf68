"""Full MNIST as float32 arrays in [0, 1] (grey levels x/255), read from the vaesh data folder.

Shared by the reference scripts. The folder is found as vaesh finds it: $VAESH_DATA, else
$XDG_DATA_HOME/vaesh/mnist, else ~/.local/share/vaesh/mnist (scripts/fetch-mnist installs it).
"""
import gzip
import os
import struct

import numpy as np


def data_folder():
    if os.environ.get("VAESH_DATA"):
        return os.path.expanduser(os.environ["VAESH_DATA"])
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, "vaesh", "mnist")
    return os.path.expanduser("~/.local/share/vaesh/mnist")


def read_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, count, rows, columns = struct.unpack(">IIII", f.read(16))
        if magic != 0x0803:
            raise ValueError(f"{path}: not an IDX image file")
        pixels = np.frombuffer(f.read(count * rows * columns), dtype=np.uint8)
    return (pixels.reshape(count, rows * columns).astype(np.float32) / 255.0)


def load():
    """(train (60000, 784), test (10000, 784)) as float32."""
    folder = data_folder()
    def find(stem):
        for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return path
        raise FileNotFoundError(f"{stem} not in {folder}; run scripts/fetch-mnist")
    return read_images(find("train-images-idx3-ubyte")), read_images(find("t10k-images-idx3-ubyte"))
