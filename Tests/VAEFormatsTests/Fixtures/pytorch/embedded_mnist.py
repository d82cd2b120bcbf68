"""The embedded MNIST subset as the fixture scripts read it: vaesh compiles its four gzip'd IDX
files into Sources/VAEFormats/EmbeddedMNIST+Data.swift as base64 string literals (written by
scripts/make-embedded-mnist; the first records of the full MNIST, byte for byte), so that file is
the one copy of the data both vaesh and these scripts use.
"""
import base64
import gzip
import os
import re
import sys

SWIFT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "..", "..", "..", "..", "Sources", "VAEFormats", "EmbeddedMNIST+Data.swift")
PROPERTIES = {"train-images-idx3-ubyte": "trainImages", "train-labels-idx1-ubyte": "trainLabels",
              "t10k-images-idx3-ubyte": "testImages", "t10k-labels-idx1-ubyte": "testLabels"}


def idx_bytes(name):
    """The uncompressed IDX file `name` (e.g. "t10k-images-idx3-ubyte") of the embedded subset."""
    with open(SWIFT) as f:
        source = f.read()
    found = re.search(r'static let %s = "([A-Za-z0-9+/=]*)"' % PROPERTIES[name], source)
    if found is None:
        sys.exit(f"{SWIFT}: no literal for {name}")
    return gzip.decompress(base64.b64decode(found.group(1)))
