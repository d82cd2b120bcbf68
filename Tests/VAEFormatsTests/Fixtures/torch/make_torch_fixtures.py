#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures that TorchCheckpointTests.swift and the bad-input
catalogue read, with real PyTorch (torch.save), and the values each one holds.

    /work/torchenv/bin/python Tests/VAEFormatsTests/Fixtures/torch/make_torch_fixtures.py

Needs torch and numpy (CI has neither: the files are committed). Every model is tiny (the
pytorch/examples VAE layout with D=6, H=4, Z=2, or a few-element tensor), so each file is a few
kilobytes. The values come from fixed seeds, and the one random record torch.save writes
(`.data/serialization_id`, which nothing reads) is pinned to zeros, so rerunning the script
reproduces every file byte for byte (but legacy.pt, whose format names storages by their memory
addresses).

Each FILE.pt that vaesh must read comes with FILE.expected, what vaesh must make of it:

    unwrap entry KEY OTHER,OTHER      the state dict was checkpoint[KEY]; the dict's other keys (or -)
    unwrap prefix PREFIX              every name started with PREFIX, which is removed
    tensor NAME DTYPE [D,D] V V ...   one tensor, in the state dict's order: float dtypes as the
                                      float32 bit pattern vaesh holds (8 hex digits; float64
                                      rounded to nearest, float16 and bfloat16 widened exactly),
                                      integer dtypes as decimal integers

The files vaesh must refuse (legacy format, a whole pickled model, a Python object, TorchScript,
a single tensor) have no .expected: their messages are tables in the Swift tests. hostile/ holds
damaged and malicious files made by hand (zip and pickle bytes written directly), for the error
tables, the bad-input catalogue and the fuzzers' seeds.

allowed_globals.txt lists the globals torch.load(weights_only=True) accepts in this PyTorch
version; a Swift test checks that vaesh knows every one of them.
"""
import argparse
import io
import os
import shutil
import struct
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = os.path.join(HERE, "hostile")


class TinyVAE(nn.Module):
    """The pytorch/examples VAE's layout, 6-4-2."""

    def __init__(self, d=6, h=4, z=2):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc21 = nn.Linear(h, z)
        self.fc22 = nn.Linear(h, z)
        self.fc3 = nn.Linear(z, h)
        self.fc4 = nn.Linear(h, d)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        return self.fc4(torch.relu(self.fc3(mu))), mu, logvar


def model(seed=7):
    torch.manual_seed(seed)
    return TinyVAE()


# MARK: - Expected values

def value_text(tensor):
    t = tensor.detach().resolve_neg().contiguous()
    if t.dtype.is_floating_point:
        as32 = t.to(torch.float32).numpy().astype(np.float32).ravel()
        return " ".join(f"{int(b):08x}" for b in as32.view(np.uint32))
    return " ".join(str(int(v)) for v in t.to(torch.int64).numpy().ravel())


def expected_lines(state_dict, unwraps):
    lines = []
    for kind, *rest in unwraps:
        lines.append(" ".join(["unwrap", kind] + list(rest)))
    for name, tensor in state_dict.items():
        dtype = str(tensor.dtype).replace("torch.", "")
        shape = ",".join(str(d) for d in tensor.shape)
        lines.append(f"tensor {name} {dtype} [{shape}] {value_text(tensor)}".rstrip())
    return lines


def save(name, obj, state_dict, unwraps=(), **options):
    """torch.save(obj) to NAME.pt, and NAME.expected from the state dict vaesh must find in it."""
    path = os.path.join(HERE, name + ".pt")
    torch_save(obj, path, **options)
    write_expected(name, state_dict, unwraps)
    return path


def torch_save(obj, path, **options):
    torch.save(obj, path, **options)
    pin_serialization_id(path)


def pin_serialization_id(path):
    """Rewrites the random `.data/serialization_id` record as zeros, with its CRC-32 fixed in the
    data descriptor (or local header) and the central directory, leaving every offset as it was."""
    data = bytearray(open(path, "rb").read())
    if not data.startswith(b"PK"):
        return
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = next((i for i in archive.infolist() if i.filename.endswith("/.data/serialization_id")), None)
    if info is None:
        return
    start = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[start + 26:start + 30])
    begin = start + 30 + name_length + extra_length
    zeros = b"0" * info.file_size
    data[begin:begin + info.file_size] = zeros
    crc = struct.pack("<I", zlib.crc32(zeros))
    if struct.unpack("<H", data[start + 6:start + 8])[0] & 8:
        descriptor = begin + info.compress_size
        descriptor += 4 if data[descriptor:descriptor + 4] == b"PK\x07\x08" else 0
        data[descriptor:descriptor + 4] = crc
    else:
        data[start + 14:start + 18] = crc
    record = data.find(b"PK\x01\x02")
    while record >= 0:
        length, = struct.unpack("<H", data[record + 28:record + 30])
        if data[record + 46:record + 46 + length] == info.filename.encode():
            data[record + 16:record + 20] = crc
            break
        record = data.find(b"PK\x01\x02", record + 4)
    with open(path, "wb") as f:
        f.write(data)


def write_expected(name, state_dict, unwraps=()):
    header = [f"# {name}.pt, written by make_torch_fixtures.py with torch {torch.__version__}"]
    with open(os.path.join(HERE, name + ".expected"), "w") as f:
        f.write("\n".join(header + expected_lines(state_dict, unwraps)) + "\n")


def check_loads(name, expected_state_dict, pick=lambda loaded: loaded):
    """torch.load(weights_only=True) must give the same tensors (what vaesh is compared with)."""
    loaded = pick(torch.load(os.path.join(HERE, name + ".pt"), weights_only=True))
    assert list(loaded.keys()) == list(expected_state_dict.keys()), (name, list(loaded.keys()))
    for key, value in expected_state_dict.items():
        assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value.detach()), (name, key)


# MARK: - The save styles vaesh reads

def readable():
    sd = model().state_dict()
    save("state_dict", sd, sd)
    # The smallest torch.save archive, small enough to seed the fuzzers (their inputs are ≤ 4 KB).
    torch.manual_seed(3)
    tiny = nn.Linear(2, 1).state_dict()
    save("tiny", tiny, tiny)

    # The usual checkpoint dict, with an Adam state after one step (tensors, ints, floats, lists).
    vae = model()
    adam = torch.optim.Adam(vae.parameters(), lr=1e-3)
    vae(torch.rand(3, 6))[0].sum().backward()
    adam.step()
    checkpoint = {"epoch": 3, "model_state_dict": vae.state_dict(), "optimizer_state_dict": adam.state_dict(), "loss": 1.25}
    save("checkpoint", checkpoint, vae.state_dict(), [("entry", "model_state_dict", "epoch,optimizer_state_dict,loss")])

    save("wrapped_state_dict", {"state_dict": sd}, sd, [("entry", "state_dict", "-")])
    save("wrapped_model", {"model": sd, "step": 100}, sd, [("entry", "model", "step")])

    # nn.DataParallel adds 'module.' to every name (it needs no GPU to wrap a model).
    parallel = nn.DataParallel(model()).state_dict()
    save("dataparallel", parallel, sd, [("prefix", "module.")])
    # The pytorch-cifar style: {'net': DataParallel state dict, 'acc': …, 'epoch': …}.
    save("net_dataparallel", {"net": parallel, "acc": 91.5, "epoch": 7}, sd,
         [("entry", "net", "acc,epoch"), ("prefix", "module.")])
    # torch.compile wraps the model in an OptimizedModule: '_orig_mod.' (compiling waits for a call).
    save("compiled", torch.compile(model()).state_dict(), sd, [("prefix", "_orig_mod.")])

    # Lightning's .ckpt layout (written here without Lightning): its LightningModule holds the VAE
    # as self.model, so every name starts with 'model.'.
    lightning = {
        "epoch": 2, "global_step": 40, "pytorch-lightning_version": "2.4.0",
        "state_dict": OrderedDict(("model." + k, v) for k, v in sd.items()),
        "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": 2}}}},
        "callbacks": {}, "optimizer_states": [adam.state_dict()], "lr_schedulers": [],
        "hparams_name": "kwargs", "hyper_parameters": {"lr": 0.001, "latent": 2},
    }
    save("lightning", lightning, sd, [("entry", "state_dict", "epoch,global_step,pytorch-lightning_version,loops,callbacks,"
                                       "optimizer_states,lr_schedulers,hparams_name,hyper_parameters"),
                                      ("prefix", "model.")])

    # Parameters rather than tensors: _rebuild_parameter.
    params = model().state_dict(keep_vars=True)
    save("keep_vars", params, sd)

    # Other dtypes.
    for dtype, name in [(torch.float16, "half"), (torch.bfloat16, "bfloat16"), (torch.float64, "double")]:
        typed = model().to(dtype).state_dict()
        save(name, typed, typed)

    # Views: offsets, strides, transposes, shared storages, a neg-bit view, a scalar, an empty
    # tensor, an expanded (stride 0) view. torch.save keeps views of one storage as one storage.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.25
    other = torch.linspace(-1, 1, 10)
    views = OrderedDict([
        ("base", base), ("rows", base[1:3]), ("transposed", base.t()), ("every_other_column", base[:, ::2]),
        ("column", base[1:, 2]), ("element", base[2, 3]), ("shared", other), ("shared_tail", other[4:]),
        ("negated", torch._neg_view(other[:3])), ("scalar", torch.tensor(3.5)), ("empty", torch.zeros(0, 3)),
        ("expanded", torch.tensor([1.5, -2.0]).expand(3, 2)),
    ])
    save("views", views, views)

    # BatchNorm's counter is int64; a count beyond 2^32 shows it is read exactly.
    norm = nn.BatchNorm1d(3)
    norm(torch.randn(5, 3))
    norm.num_batches_tracked.fill_(123456789012)
    save("batchnorm", norm.state_dict(), norm.state_dict())

    # Integer and boolean tensors, and the newer form (UntypedStorage + a dtype, _rebuild_tensor_v3)
    # that torch uses for uint16/uint32.
    ints = OrderedDict([
        ("int32", torch.tensor([-7, 0, 2147483647], dtype=torch.int32)), ("int16", torch.tensor([-300, 12], dtype=torch.int16)),
        ("int8", torch.tensor([-128, 127], dtype=torch.int8)), ("uint8", torch.tensor([0, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("uint16", torch.tensor([1, 60000, 3]).to(torch.uint16)), ("uint32", torch.tensor([4000000000, 5]).to(torch.uint32)),
    ])
    save("integers", ints, ints)

    # Pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL). torch.load(weights_only=True)
    # refuses these opcodes; vaesh reads them (the same objects, the same restrictions).
    save("protocol4", sd, sd, pickle_protocol=4)

    # Written to a stream: the top folder is 'archive', not the file's name.
    buffer = io.BytesIO()
    torch.save(sd, buffer)
    with open(os.path.join(HERE, "archive_folder.pt"), "wb") as f:
        f.write(buffer.getvalue())
    pin_serialization_id(os.path.join(HERE, "archive_folder.pt"))
    write_expected("archive_folder", sd)

    # The same archive repacked by a zip tool: every entry deflated. torch reads it.
    repack("state_dict", "deflated", compression=zipfile.ZIP_DEFLATED)
    write_expected("deflated", sd)
    # Before PyTorch 2.1 there was no byteorder record: little-endian is assumed, as torch does.
    repack("state_dict", "no_byteorder", drop=lambda name: name.endswith("/byteorder"))
    write_expected("no_byteorder", sd)
    # Written on a big-endian machine: byteorder 'big' and every element byte-swapped. torch
    # converts on load, and so does vaesh.
    repack("state_dict", "big_endian", rewrite=big_endian)
    write_expected("big_endian", sd)

    for name, expected, pick in [
        ("state_dict", sd, None), ("tiny", tiny, None), ("checkpoint", vae.state_dict(), lambda c: c["model_state_dict"]),
        ("wrapped_state_dict", sd, lambda c: c["state_dict"]), ("dataparallel", parallel, None),
        ("compiled", OrderedDict(("_orig_mod." + k, v) for k, v in sd.items()), None), ("keep_vars", params, None),
        ("views", views, None), ("batchnorm", norm.state_dict(), None), ("integers", ints, None),
        ("archive_folder", sd, None), ("deflated", sd, None), ("no_byteorder", sd, None), ("big_endian", sd, None),
    ]:
        check_loads(name, expected, pick or (lambda loaded: loaded))


def write_entry(archive, name, data):
    """archive.writestr with a fixed time (zipfile would stamp the current one), so reruns match."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = archive.compression
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def repack(source, name, compression=zipfile.ZIP_STORED, drop=lambda name: False, rewrite=lambda name, data: data):
    with zipfile.ZipFile(os.path.join(HERE, source + ".pt")) as original, \
            zipfile.ZipFile(os.path.join(HERE, name + ".pt"), "w", compression) as copy:
        for info in original.infolist():
            if not drop(info.filename):
                write_entry(copy, info.filename.replace(source + "/", name + "/", 1), rewrite(info.filename, original.read(info)))


def big_endian(name, data):
    if name.endswith("/byteorder"):
        return b"big"
    if "/data/" in name:
        return np.frombuffer(data, dtype="<f4").astype(">f4").tobytes()
    return data


# MARK: - Files vaesh refuses, with the way out

def refused():
    sd = model().state_dict()
    torch.save(sd, os.path.join(HERE, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch_save(model(), os.path.join(HERE, "whole_model.pt"))
    torch_save({"state_dict": sd, "args": argparse.Namespace(lr=0.1)}, os.path.join(HERE, "python_object.pt"))
    torch.jit.save(torch.jit.trace(model(), torch.rand(1, 6)), os.path.join(HERE, "torchscript.pt"))
    torch_save(torch.arange(3.0), os.path.join(HERE, "one_tensor.pt"))
    torch_save([sd, {"lr": 0.1}], os.path.join(HERE, "list.pt"))
    torch_save({"encoder": sd, "decoder": sd}, os.path.join(HERE, "two_state_dicts.pt"))
    torch_save({"state_dict": sd, "model": sd}, os.path.join(HERE, "ambiguous.pt"))
    # The conversions the error messages suggest work.
    assert isinstance(torch.load(os.path.join(HERE, "legacy.pt"), weights_only=True), OrderedDict)


# MARK: - Hostile files, made byte by byte

class Pickle:
    """Assembles pickle opcodes by hand (protocol 2, as torch writes them)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")

    def op(self, *chunks):
        for chunk in chunks:
            self.out += chunk if isinstance(chunk, (bytes, bytearray)) else bytes(chunk)
        return self

    def global_(self, module, name):
        return self.op(b"c", f"{module}\n{name}\n".encode())

    def text(self, value):
        data = value.encode()
        return self.op(b"X", struct.pack("<I", len(data)), data)

    def int(self, value):
        if 0 <= value < 256:
            return self.op(b"K", [value])
        if -2 ** 31 <= value < 2 ** 31:
            return self.op(b"J", struct.pack("<i", value))
        data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        return self.op(b"\x8a", [len(data)], data)

    def ints(self, values):
        self.op(b"(")
        for value in values:
            self.int(value)
        return self.op(b"t")

    def tensor(self, key, numel, offset, shape, stride, storage="FloatStorage"):
        self.global_("torch._utils", "_rebuild_tensor_v2").op(b"(")
        self.op(b"(").text("storage").global_("torch", storage).text(key).text("cpu").int(numel).op(b"t", b"Q")
        self.int(offset).ints(shape).ints(stride).op(b"\x89")
        return self.global_("collections", "OrderedDict").op(b")R", b"t", b"R")

    def state_dict(self, tensors):
        """tensors: [(name, key, numel, offset, shape, stride)]"""
        self.global_("collections", "OrderedDict").op(b")R", b"(")
        for name, *spec in tensors:
            self.text(name).tensor(*spec)
        return self.op(b"u")

    def stop(self):
        return bytes(self.out + b".")


def torch_zip(entries, folder="archive", compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            write_entry(archive, f"{folder}/{name}", data)
    return buffer.getvalue()


def floats(n, scale=0.25):
    return struct.pack(f"<{n}f", *[(i - n / 2) * scale for i in range(n)])


def one_tensor_file(pkl, storage=None):
    return torch_zip({"data.pkl": pkl, "byteorder": b"little", "data/0": storage if storage is not None else floats(6), "version": b"3\n"})


def hostile():
    shutil.rmtree(HOSTILE, ignore_errors=True)
    os.makedirs(HOSTILE)

    def put(name, data):
        with open(os.path.join(HOSTILE, name), "wb") as f:
            f.write(data)

    good = open(os.path.join(HERE, "state_dict.pt"), "rb").read()
    tensor = lambda **k: Pickle().state_dict([("w", k.get("key", "0"), k.get("numel", 6), k.get("offset", 0),
                                              k.get("shape", [2, 3]), k.get("stride", [3, 1]), k.get("storage", "FloatStorage"))]).stop()
    put("good.pt", one_tensor_file(tensor()))

    # The container
    put("truncated-end.pt", good[:-30])
    put("truncated-half.pt", good[:len(good) // 2])
    put("empty-zip.pt", b"PK\x05\x06" + bytes(18))
    put("no-data-pkl.pt", torch_zip({"byteorder": b"little", "data/0": floats(6)}))
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as archive:
        write_entry(archive, "a/data.pkl", tensor())
        write_entry(archive, "b/data/0", floats(6))
    put("two-folders.pt", two.getvalue())
    flat = io.BytesIO()
    with zipfile.ZipFile(flat, "w") as archive:
        write_entry(archive, "data.pkl", tensor())
    put("no-folder.pt", flat.getvalue())
    put("byteorder-middle.pt", torch_zip({"data.pkl": tensor(), "byteorder": b"middle", "data/0": floats(6)}))
    damaged = bytearray(one_tensor_file(tensor()))
    damaged[damaged.index(floats(6)) + 5] ^= 0xFF
    put("bad-crc.pt", bytes(damaged))
    put("zip-huge-size.pt", claim_huge_size(one_tensor_file(tensor())))
    put("zip-huge-deflated.pt", claim_huge_size(torch_zip({"data.pkl": tensor(), "data/0": floats(6)}, compression=zipfile.ZIP_DEFLATED)))
    put("zip64-huge-offset.pt", zip64_offset(one_tensor_file(tensor())))
    put("encrypted.pt", encrypted_flag(one_tensor_file(tensor())))
    put("overlapping-entries.pt", overlapping(torch_zip({"data.pkl": tensor(), "data/0": floats(6), "data/1": floats(6)})))
    put("missing-storage.pt", torch_zip({"data.pkl": tensor(key="5"), "data/0": floats(6)}))

    # Storages and views
    put("short-storage.pt", one_tensor_file(tensor(), storage=floats(5)))
    put("lying-stride.pt", one_tensor_file(tensor(stride=[3, 100])))
    put("lying-offset.pt", one_tensor_file(tensor(offset=4)))
    put("negative-stride.pt", one_tensor_file(tensor(stride=[3, -1])))
    put("huge-shape.pt", one_tensor_file(tensor(shape=[2 ** 40, 2 ** 40], stride=[1, 1])))
    put("huge-view.pt", one_tensor_file(tensor(shape=[1_000_000_000], stride=[0])))
    put("huge-numel.pt", one_tensor_file(tensor(numel=2 ** 60)))
    put("mismatched-storage.pt", one_tensor_file(Pickle().state_dict([("a", "0", 6, 0, [6], [1]), ("b", "0", 3, 0, [3], [1], "DoubleStorage")]).stop()))
    put("complex-storage.pt", one_tensor_file(tensor(storage="ComplexFloatStorage"), storage=floats(12)))

    # The pickle
    put("unknown-opcode.pt", one_tensor_file(Pickle().op(b"\xff").stop()))
    put("inst-opcode.pt", one_tensor_file(Pickle().op(b"(ios\nsystem\n").stop()))
    put("os-system.pt", one_tensor_file(Pickle().global_("os", "system").text("echo owned").op(b"\x85R").stop()))
    put("truncated-pickle.pt", one_tensor_file(tensor()[:-20]))
    put("huge-string.pt", one_tensor_file(Pickle().op(b"X", struct.pack("<I", 0xFFFFFFF0), b"abc").stop()))
    put("huge-memo-index.pt", one_tensor_file(Pickle().op(b"}", b"r", struct.pack("<I", 0xFFFFFFFF), b"j", struct.pack("<I", 0xFFFFFFFE)).stop()))
    put("stack-underflow.pt", one_tensor_file(Pickle().op(b"s").stop()))
    # A billion laughs: each tuple holds the one before twice, 64 deep (2^64 leaves, 600 bytes).
    def laughs():
        bomb = Pickle().text("lol").op(b"q\x010")
        for level in range(64):
            bomb.op(b"h", [level + 1], b"h", [level + 1], b"\x86", b"q", [level + 2], b"0")
        return bomb
    bomb = laughs()
    bomb.out[2:2] = Pickle().op(b"}").text("bomb").out[2:]
    put("billion-laughs.pt", one_tensor_file(bomb.op(b"h", [65], b"s").stop()))
    # The same as a dict key (hashing it would walk every leaf).
    key = laughs()
    key.out[2:2] = b"}"
    put("billion-laughs-key.pt", one_tensor_file(key.op(b"h", [65], b"N", b"s").stop()))
    # A list that holds itself, 200 times over.
    cycle = Pickle().op(b"]q\x00(")
    for _ in range(200):
        cycle.op(b"h\x00")
    put("self-list.pt", one_tensor_file(cycle.op(b"e").stop()))
    # Deep nesting: 10,000 lists inside each other.
    put("deep-nesting.pt", one_tensor_file(Pickle().op(b"]" * 10_000, b"a" * 9_999).stop()))


def claim_huge_size(archive):
    """Every entry's uncompressed size in the central directory and local headers becomes 4 GB - 16."""
    data = bytearray(archive)
    for signature, field in [(b"PK\x01\x02", 24), (b"PK\x03\x04", 22)]:
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + field:start + field + 4] = struct.pack("<I", 0xFFFFFFF0)
            start += 4
    return bytes(data)


def zip64_offset(archive):
    """The first central directory record's local-header offset moves to a ZIP64 extra field
    holding 2^63 + 5 (an offset no file has; ZIPFoundation would trap converting it to off_t)."""
    data = bytearray(archive)
    record = data.find(b"PK\x01\x02")
    name_length, extra_length, comment_length = struct.unpack("<HHH", data[record + 28:record + 34])
    assert extra_length == 0 and comment_length == 0
    data[record + 42:record + 46] = struct.pack("<I", 0xFFFFFFFF)
    data[record + 30:record + 32] = struct.pack("<H", 12)
    insert = record + 46 + name_length
    data[insert:insert] = struct.pack("<HHQ", 1, 8, 2 ** 63 + 5)
    end = data.rfind(b"PK\x05\x06")
    size, = struct.unpack("<I", data[end + 12:end + 16])
    data[end + 12:end + 16] = struct.pack("<I", size + 12)
    return bytes(data)


def overlapping(archive):
    """The last central directory record points at the local header of the one before it: two
    names for one entry's bytes (an overlap zip bomb repeats this thousands of times)."""
    data = bytearray(archive)
    records = []
    start = data.find(b"PK\x01\x02")
    while start >= 0:
        records.append(start)
        start = data.find(b"PK\x01\x02", start + 4)
    data[records[-1] + 42:records[-1] + 46] = data[records[-2] + 42:records[-2] + 46]
    return bytes(data)


def encrypted_flag(archive):
    data = bytearray(archive)
    for signature, field in [(b"PK\x01\x02", 8), (b"PK\x03\x04", 6)]:
        start = data.find(signature)
        data[start + field] |= 1
    return bytes(data)


def allowed_globals():
    from torch._weights_only_unpickler import _get_allowed_globals
    with open(os.path.join(HERE, "allowed_globals.txt"), "w") as f:
        f.write(f"# torch.load(weights_only=True)'s allowed globals in torch {torch.__version__}\n")
        f.write("\n".join(sorted(_get_allowed_globals().keys())) + "\n")


if __name__ == "__main__":
    readable()
    refused()
    hostile()
    allowed_globals()
    from layouts import write_layouts   # the VAE layouts users save, with PyTorch's numbers (layouts/)
    write_layouts()
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".pt"):
            print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")
