#!/usr/bin/env python3
"""Writes the safetensors fixtures that SafeTensorsTests.swift reads, and the values they hold.

    pip install safetensors numpy
    python3 Tests/VAEFormatsTests/Fixtures/safetensors/make_safetensors_fixture.py

safetensors.numpy.save_file is the writer safetensors.torch.save_file uses (torch is not needed),
so vae_tiny.safetensors has the exact bytes PyTorch would write for a state_dict in the
pytorch/examples VAE layout (fc1, fc21 = mean head, fc22 = log-variance head, fc3, fc4; each
.weight [out, in] and .bias [out], float32, no __metadata__), with tiny sizes D=6, H=4, Z=2.

Each FILE.safetensors comes with FILE.expected, the float32 values VAEKit must read, one line
per tensor in file order:

    NAME [DIM,DIM,...] BITS BITS ...      BITS: each element's float32 bit pattern, 8 hex digits
    __metadata__ KEYHEX VALUEHEX          UTF-8 bytes in hex, one line per metadata entry

The values are deterministic (a fixed seed, then fixed), and the files are committed, so the
tests never need Python; rerunning this script must reproduce them byte for byte.
"""
import os

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def bits(array):
    return " ".join(f"{int(b):08x}" for b in np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).ravel())


def write(name, tensors, metadata=None):
    path = os.path.join(HERE, name + ".safetensors")
    save_file(tensors, path, metadata=metadata)
    # The file order: the writer sorts by dtype alignment, then name. Read it back from the header.
    with open(path, "rb") as f:
        import json
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    order = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])
    lines = [f"# {name}.safetensors, written by make_safetensors_fixture.py"]
    for key in order:
        shape = ",".join(str(d) for d in tensors[key].shape)
        lines.append(f"{key} [{shape}] {bits(tensors[key].astype(np.float32))}".rstrip())
    for key, value in sorted((metadata or {}).items()):
        lines.append(f"__metadata__ {key.encode().hex()} {value.encode().hex()}")
    with open(os.path.join(HERE, name + ".expected"), "w") as f:
        f.write("\n".join(lines) + "\n")


def linear(rng, fan_out, fan_in):
    """Initialised as torch.nn.Linear does: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / np.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
    bias = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
    return weight, bias


def vae_tiny():
    rng = np.random.default_rng(20240917)
    D, H, Z = 6, 4, 2
    tensors = {}
    for name, fan_out, fan_in in [("fc1", H, D), ("fc21", Z, H), ("fc22", Z, H), ("fc3", H, Z), ("fc4", D, H)]:
        tensors[f"{name}.weight"], tensors[f"{name}.bias"] = linear(rng, fan_out, fan_in)
    write("vae_tiny", tensors)


def dtypes():
    """F64 and F16 tensors (VAEKit converts them to Float), an F32 scalar and an empty tensor."""
    with np.errstate(over="ignore"):
        f64 = np.array([0.1, -2.5, 1e300, -1e300, 1e-40, 1e-50, 3.4028234663852886e38, np.nan, -0.0], dtype=np.float64)
        f16 = np.array([1.0, -2.0, 65504.0, 2.0 ** -24, -0.0, np.inf, -np.inf, 1 / 3], dtype=np.float16)
        tensors = {
            "f64": f64.reshape(3, 3),
            "f16": f16.reshape(2, 4),
            "scalar": np.array(42.5, dtype=np.float32),
            "empty": np.zeros((0, 3), dtype=np.float32),
        }
        # One metadata key: the Rust writer orders keys by hash, so two would not reproduce.
        write("dtypes", tensors, metadata={"note": "F64 and F16 read as Float"})


if __name__ == "__main__":
    vae_tiny()
    dtypes()
