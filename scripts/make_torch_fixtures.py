#!/usr/bin/python3
"""Write the small test fixtures that the Go tests of torchpth and safetensors read.

Run by hand from the repository root with Debian's Python and PyTorch
(apt-get install python3-torch):

    /usr/bin/python3 scripts/make_torch_fixtures.py

The outputs are committed; CI does not need Python. Every fixture comes with
its expected values as JSON written from the tensors themselves (not by any
doggogan code), so the Go tests compare against an independent source.

torchpth/testdata/
  state_dict.pth        torch.save of an OrderedDict state_dict (zip format):
                        float32 conv weights in OIHW layout, a transposed
                        (non-contiguous) view, a strided slice with a storage
                        offset sharing storage with another entry, float16,
                        float64, bfloat16, a 0-d scalar, an int64 counter and an
                        empty tensor.
  state_dict.json       expected names (in order), dtypes, shapes, values.
  checkpoint.pth        {"epoch": 3, "state_dict": <the same state_dict>, ...}
  multi.pth             {"netG_A": <small state_dict>, "netD_A": ..., "epoch": 1,
                        "extra": {"scale": nn.Parameter}, "history": [...]}
  multi.json            expected flattened names "netG_A.model.1.weight", ...,
                        "extra.scale"
  legacy.pth            the same state_dict in the pre-1.6 (non-zip) format,
                        which torchpth refuses with a clear message.

safetensors/testdata/
  python_written.safetensors  written by write_safetensors() below, an
                        independent implementation of the safetensors spec in
                        plain Python (Debian has no python3-safetensors), laid
                        out as the reference library does (metadata first,
                        data sorted by dtype size then name, header padded with
                        spaces to a multiple of 8).
  python_written.json   expected dtypes, shapes and values.
"""

import collections
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_DIR = os.path.join(ROOT, "torchpth", "testdata")
ST_DIR = os.path.join(ROOT, "safetensors", "testdata")


def num(x):
    """A JSON-safe exact number: floats as repr (round-trips binary64)."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def expected(t):
    """Values of t in row-major order as float32 (how torchpth returns them)."""
    if t.dtype in (torch.float16, torch.bfloat16, torch.float64, torch.float32):
        vals = t.detach().to(torch.float32).contiguous().reshape(-1).tolist()
    else:
        vals = [float(v) for v in t.contiguous().reshape(-1).tolist()]
    return [num(v) for v in vals]


DTYPE_NAMES = {
    torch.float32: "float32", torch.float16: "float16", torch.float64: "float64",
    torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32",
    torch.uint8: "uint8", torch.bool: "bool",
}


def describe(sd):
    return {"tensors": [
        {"name": k, "dtype": DTYPE_NAMES[v.dtype], "shape": list(v.shape),
         "contiguous": v.is_contiguous(), "data": expected(v)}
        for k, v in sd.items()]}


def dump_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def make_state_dict():
    g = torch.Generator().manual_seed(1234)
    sd = collections.OrderedDict()
    # A conv layer in the reference's naming and OIHW layout.
    sd["model.1.weight"] = torch.randn(3, 2, 3, 3, generator=g)
    sd["model.1.bias"] = torch.randn(3, generator=g)
    # A transposed view saved as is: shape (4, 3), strides (1, 4).
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
    sd["transposed"] = base.t()
    assert not sd["transposed"].is_contiguous()
    # A strided slice with a storage offset, sharing its storage with "big".
    big = torch.randn(5, 6, generator=g)
    sd["big"] = big
    sd["slice"] = big[1:4, 1::2]
    assert sd["slice"].storage_offset() == 7 and not sd["slice"].is_contiguous()
    # Other floating dtypes, with values that exercise the conversions.
    sd["half"] = torch.tensor([[0.0, -0.0, 1.5], [65504.0, 6.0e-8, -2.0 ** -14]],
                              dtype=torch.float16)
    sd["half_special"] = torch.tensor([float("inf"), float("-inf"), float("nan")],
                                      dtype=torch.float16)
    sd["double"] = torch.tensor([1.0 / 3.0, -2.5, 1e-40, 3.4e38], dtype=torch.float64)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16)
    sd["scalar"] = torch.tensor(0.25)
    sd["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["empty"] = torch.zeros(0, 3)
    return sd


def small_state_dict(seed, out_ch):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    sd["model.1.weight"] = torch.randn(out_ch, 1, 2, 2, generator=g)
    sd["model.1.bias"] = torch.randn(out_ch, generator=g)
    return sd


def make_torch_fixtures():
    os.makedirs(TORCH_DIR, exist_ok=True)
    sd = make_state_dict()
    # A real state_dict carries _metadata; keep it so the loader must skip it.
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "model.1": {"version": 1}})
    torch.save(sd, os.path.join(TORCH_DIR, "state_dict.pth"))
    dump_json(os.path.join(TORCH_DIR, "state_dict.json"), describe(sd))

    torch.save({"epoch": 3, "lr": 2e-4, "state_dict": sd, "note": "wrapped"},
               os.path.join(TORCH_DIR, "checkpoint.pth"))

    g_a, d_a = small_state_dict(1, 2), small_state_dict(2, 1)
    # nn.Parameter values (pickled via torch._utils._rebuild_parameter).
    extra = {"scale": torch.nn.Parameter(torch.tensor([2.0, -0.5]))}
    torch.save({"netG_A": g_a, "netD_A": d_a, "epoch": 1, "extra": extra,
                "history": [1.0, 0.5]},
               os.path.join(TORCH_DIR, "multi.pth"))
    flat = collections.OrderedDict()
    for prefix, part in (("netG_A", g_a), ("netD_A", d_a), ("extra", extra)):
        for k, v in part.items():
            flat[prefix + "." + k] = v
    dump_json(os.path.join(TORCH_DIR, "multi.json"), describe(flat))

    torch.save(small_state_dict(3, 1), os.path.join(TORCH_DIR, "legacy.pth"),
               _use_new_zipfile_serialization=False)


ST_DTYPES = {
    torch.float64: ("F64", 8), torch.float32: ("F32", 4), torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2), torch.int64: ("I64", 8), torch.int32: ("I32", 4),
    torch.uint8: ("U8", 1), torch.bool: ("BOOL", 1),
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        # No numpy bfloat16: reinterpret as int16 (same bits, little-endian).
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata):
    """Write tensors (name -> torch.Tensor) per the safetensors spec."""
    order = sorted(tensors, key=lambda k: (-ST_DTYPES[tensors[k].dtype][1], k))
    header = collections.OrderedDict()
    header["__metadata__"] = metadata
    chunks, off = [], 0
    for k in order:
        b = tensor_bytes(tensors[k])
        header[k] = {"dtype": ST_DTYPES[tensors[k].dtype][0],
                     "shape": list(tensors[k].shape),
                     "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def make_safetensors_fixture():
    os.makedirs(ST_DIR, exist_ok=True)
    g = torch.Generator().manual_seed(99)
    ts = collections.OrderedDict()
    ts["model.1.weight"] = torch.randn(2, 1, 3, 3, generator=g)
    ts["model.1.bias"] = torch.tensor([0.5, -0.25])
    ts["half"] = torch.tensor([1.0, -2.0, 6.1035156e-05, 5.9604645e-08, 65504.0], dtype=torch.float16)
    ts["bf16"] = torch.tensor([1.0, -0.0078125, 3.0e38], dtype=torch.bfloat16)
    ts["double"] = torch.tensor([[0.1, 0.2], [0.3, -1e300]], dtype=torch.float64)
    ts["step"] = torch.tensor([1, -2, 2 ** 40], dtype=torch.int64)
    ts["i32"] = torch.tensor([-7, 2 ** 31 - 1], dtype=torch.int32)
    ts["bytes"] = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    ts["mask"] = torch.tensor([True, False, True])
    ts["scalar"] = torch.tensor(-1.5)
    ts["empty"] = torch.zeros(2, 0)
    write_safetensors(os.path.join(ST_DIR, "python_written.safetensors"), ts,
                      {"format": "pt", "source": "scripts/make_torch_fixtures.py"})
    out = {"metadata": {"format": "pt", "source": "scripts/make_torch_fixtures.py"},
           "tensors": []}
    for k, v in ts.items():
        e = {"name": k, "dtype": ST_DTYPES[v.dtype][0], "shape": list(v.shape)}
        if v.dtype.is_floating_point:
            # Exact values: float64 for F64, the float32 conversion otherwise.
            vals = v.reshape(-1).tolist() if v.dtype == torch.float64 else \
                v.to(torch.float32).reshape(-1).tolist()
        else:
            vals = [int(x) for x in v.reshape(-1).tolist()]
        e["data"] = [num(x) for x in vals]
        out["tensors"].append(e)
    dump_json(os.path.join(ST_DIR, "python_written.json"), out)


def main():
    torch.manual_seed(0)
    make_torch_fixtures()
    make_safetensors_fixture()
    for d in (TORCH_DIR, ST_DIR):
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                print(f"{os.path.relpath(p, ROOT)}: {os.path.getsize(p)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
