#!/usr/bin/python3
"""Parity fixtures between doggogan's generator and PyTorch's, both ways.

Run by hand from the repository root with Debian's Python and PyTorch
(apt-get install python3-torch), after the doggogan side has been written:

    go test ./cyclegan -run TestParityFixtures -write-parity-fixtures
    /usr/bin/python3 scripts/make_parity_fixtures.py

The outputs are committed under cyclegan/testdata/parity/; CI runs only the
Go tests that read them (go test ./cyclegan -run Parity), not Python.

PyTorch -> doggogan. The reference ResnetGenerator of
junyanz/pytorch-CycleGAN-and-pix2pix is rebuilt below module for module
(ReflectionPad2d, 7x7 Conv2d, InstanceNorm2d(affine=False,
track_running_stats=False), ReLU, two stride-2 Conv2d, ResnetBlocks whose
body is the Sequential `conv_block`, two ConvTranspose2d(..., output_padding=1),
ReflectionPad2d, 7x7 Conv2d, Tanh), so its state_dict keys are the
reference's. Its weights and biases are drawn from normal(0, 0.1) (not the
reference's tiny init, so the output is not trivially near zero) and saved
with torch.save (zip format):

  torch_G.pth               ngf 8, 2 blocks
  torch_G_dropout.pth       ngf 4, 1 block, use_dropout=True: the block's
                            second conv is conv_block.6, not conv_block.5
  torch_G_dataparallel.pth  ngf 4, 1 block, the state_dict of
                            nn.DataParallel(net): every key starts "module."
  torch_io.safetensors      "input" (1x3x32x32, uniform in [-1, 1]) and
                            PyTorch's outputs output_G, output_G_dropout,
                            output_G_dataparallel (eval mode)

doggogan -> PyTorch. doggogan_G.safetensors (a generator checkpoint written
by doggogan's SaveModule) is loaded into the same PyTorch module with
load_state_dict(strict=True) and run on "input" of doggogan_io.safetensors;
the result is compared with doggogan's "output" there and saved as

  doggogan_torch_out.safetensors  "output": PyTorch's output
  parity.json                     the max abs differences measured here

The script fails if any difference exceeds 1e-4. safetensors is read and
written by hand (8-byte little-endian header length, JSON header, raw
little-endian data), as Debian has no python3-safetensors.
"""

import functools
import json
import os
import re
import struct
import sys

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "cyclegan", "testdata", "parity")
TOLERANCE = 1e-4


# --- The reference ResnetGenerator, rebuilt -------------------------------


class ResnetBlock(nn.Module):
    """x + conv_block(x), with conv_block as the reference lays it out."""

    def __init__(self, dim, norm_layer, use_dropout, use_bias):
        super().__init__()
        layers = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            norm_layer(dim),
            nn.ReLU(True),
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            norm_layer(dim),
        ]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """The reference's ResnetGenerator with padding_type='reflect' and two
    down/upsampling steps; self.model is one Sequential, so the state_dict
    names are model.<index>.<param>."""

    def __init__(self, input_nc, output_nc, ngf, norm_layer, use_dropout, n_blocks):
        super().__init__()
        # The reference uses conv biases exactly when the norm is instance norm.
        use_bias = norm_layer.func == nn.InstanceNorm2d
        layers = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
            norm_layer(ngf),
            nn.ReLU(True),
        ]
        n_down = 2
        for i in range(n_down):
            mult = 2 ** i
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                norm_layer(ngf * mult * 2),
                nn.ReLU(True),
            ]
        mult = 2 ** n_down
        for _ in range(n_blocks):
            layers.append(ResnetBlock(ngf * mult, norm_layer, use_dropout, use_bias))
        for i in range(n_down):
            mult = 2 ** (n_down - i)
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                   output_padding=1, bias=use_bias),
                norm_layer(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


NORM = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)


def make_generator(ngf, n_blocks, use_dropout=False):
    return ResnetGenerator(3, 3, ngf, NORM, use_dropout, n_blocks)


def randomize(net, seed, std=0.1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)


# --- safetensors by hand ---------------------------------------------------


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> float32 tensor. Data in name order."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns dict name -> float32 tensor (F32 entries only)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit("%s: tensor %s has dtype %s, want F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32)
        out[name] = t.reshape(info["shape"]).clone()
    return out


# --- Fixtures --------------------------------------------------------------


def max_abs(a, b):
    return float((a - b).abs().max())


def torch_to_doggogan():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 32, 32, generator=g) * 2 - 1
    io = {"input": x}

    net = make_generator(8, 2)
    randomize(net, 11)
    net.eval()
    torch.save(net.state_dict(), os.path.join(OUT, "torch_G.pth"))
    with torch.no_grad():
        io["output_G"] = net(x)

    drop = make_generator(4, 1, use_dropout=True)
    randomize(drop, 12)
    drop.eval()  # dropout is the identity at inference
    sd = drop.state_dict()
    assert "model.10.conv_block.6.weight" in sd and "model.10.conv_block.5.weight" not in sd, list(sd)
    torch.save(sd, os.path.join(OUT, "torch_G_dropout.pth"))
    with torch.no_grad():
        io["output_G_dropout"] = drop(x)

    plain = make_generator(4, 1)
    randomize(plain, 13)
    plain.eval()
    wrapped = nn.DataParallel(plain)
    sd = wrapped.state_dict()
    assert all(k.startswith("module.") for k in sd), list(sd)
    torch.save(sd, os.path.join(OUT, "torch_G_dataparallel.pth"))
    with torch.no_grad():
        io["output_G_dataparallel"] = plain(x)

    for k, v in io.items():
        if k != "input":
            assert float(v.abs().max()) > 0.5, (k, float(v.abs().max()))
    write_safetensors(os.path.join(OUT, "torch_io.safetensors"), io,
                      {"torch": torch.__version__, "note": "written by scripts/make_parity_fixtures.py"})
    return net


def doggogan_to_torch():
    st = read_safetensors(os.path.join(OUT, "doggogan_G.safetensors"))
    io = read_safetensors(os.path.join(OUT, "doggogan_io.safetensors"))
    ngf = st["model.1.weight"].shape[0]
    blocks = sum(1 for k in st if re.fullmatch(r"model\.\d+\.conv_block\.1\.weight", k))
    net = make_generator(ngf, blocks)
    net.load_state_dict(st, strict=True)  # every name and shape must match
    net.eval()
    with torch.no_grad():
        y = net(io["input"])
    write_safetensors(os.path.join(OUT, "doggogan_torch_out.safetensors"), {"output": y},
                      {"torch": torch.__version__, "note": "PyTorch's output for doggogan_G.safetensors"})
    return ngf, blocks, max_abs(y, io["output"]), float(y.abs().max())


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for need in ("doggogan_G.safetensors", "doggogan_io.safetensors"):
        if not os.path.exists(os.path.join(OUT, need)):
            raise SystemExit("%s is missing: run go test ./cyclegan -run TestParityFixtures "
                             "-write-parity-fixtures first" % need)
    torch_to_doggogan()
    ngf, blocks, diff, spread = doggogan_to_torch()
    record = {
        "torch": torch.__version__,
        "tolerance": TOLERANCE,
        "doggogan_to_torch": {
            "checkpoint": "doggogan_G.safetensors",
            "ngf": ngf,
            "blocks": blocks,
            "input_shape": [1, 3, 32, 32],
            "max_abs_diff": diff,
            "max_abs_output": spread,
        },
        "torch_to_doggogan": "measured by go test ./cyclegan -run TestPthParity -v",
    }
    with open(os.path.join(OUT, "parity.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print("doggogan_G.safetensors (ngf %d, %d blocks) in PyTorch %s: max |PyTorch - doggogan| = %.3g "
          "(max |output| %.3f)" % (ngf, blocks, torch.__version__, diff, spread))
    if diff > TOLERANCE:
        raise SystemExit("parity FAILED: %.3g > %g" % (diff, TOLERANCE))


if __name__ == "__main__":
    sys.exit(main())
