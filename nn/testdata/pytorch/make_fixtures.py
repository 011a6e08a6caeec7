"""PyTorch state dicts in safetensors for nn/pytorch_test.go, and the torch side of its round trip.

Run it from this directory with Debian's Python, which has torch 1.13:

    cd nn/testdata/pytorch && /usr/bin/python3 make_fixtures.py

writes, deterministically (torch.manual_seed), next to itself:

  lenet.safetensors    the state dict of Paddle's LeNet in torch (oar's models.LeNet(10):
                       features = Conv2d(1,6,3,padding=1), ReLU, MaxPool2d(2,2), Conv2d(6,16,5),
                       ReLU, MaxPool2d(2,2); flatten; fc = Linear(400,120), Linear(120,84),
                       Linear(84,10)), with torch's random initial weights
  bn.safetensors       the state dict of a small net with a BatchNorm2d: Sequential(
                       Conv2d(1,4,3,padding=1), BatchNorm2d(4), ReLU, MaxPool2d(2,2), Flatten,
                       Linear(784,10)), after three training-mode passes over random batches (so
                       its running_mean, running_var and num_batches_tracked = 3 are not the
                       defaults) and with random BatchNorm weight and bias; it is saved in eval
                       mode
  input.safetensors    {"x": [4,1,28,28] float32 from N(0,1)}
  lenet_output.safetensors, bn_output.safetensors
                       {"y": [4,10]}: each net's output for x in eval mode

    /usr/bin/python3 make_fixtures.py forward MODEL WEIGHTS OUT

builds MODEL ("lenet" or "bn") in torch, loads WEIGHTS (a safetensors state dict, as oar's
nn.SavePyTorch writes it) with load_state_dict(strict=True), runs it in eval mode on
input.safetensors and writes {"y": output} to OUT.

torch 1.13 here has no safetensors package, so the format is written and read by hand as its spec
says: an 8-byte little-endian header length N, N bytes of JSON {name: {"dtype", "shape",
"data_offsets": [begin, end]}} (offsets into the data that follows; "__metadata__" optional),
then the tensors' little-endian bytes. Writing sorts the names and pads the header with spaces to
a multiple of 8 bytes, as safetensors.torch.save_file does; F32 and I64 (num_batches_tracked) are
the only dtypes used.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = {torch.float32: ("F32", np.float32), torch.int64: ("I64", np.int64)}
NP_DTYPES = {"F32": np.float32, "I64": np.int64, "F64": np.float64, "F16": np.float16}


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        code, npdt = DTYPES[t.dtype]
        b = t.numpy().astype(npdt).astype(np.dtype(npdt).newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(NP_DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(NP_DTYPES[info["dtype"]]).reshape(info["shape"]))
    return out


class LeNet(nn.Module):
    """Paddle's LeNet, as oar's models.LeNet(10)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.fc = nn.Sequential(nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10))

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def bn_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(784, 10))


MODELS = {"lenet": LeNet, "bn": bn_net}


def forward(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)


def make():
    torch.manual_seed(7)
    x = torch.randn(4, 1, 28, 28)
    save_safetensors(os.path.join(HERE, "input.safetensors"), {"x": x})

    lenet = LeNet()
    bn = bn_net()
    with torch.no_grad():
        bn[1].weight.uniform_(0.5, 1.5)
        bn[1].bias.uniform_(-0.5, 0.5)
    bn.train()
    with torch.no_grad():
        for _ in range(3):
            bn(torch.randn(8, 1, 28, 28) * 2 + 0.5)
    for name, model in (("lenet", lenet), ("bn", bn)):
        y = forward(model, x)
        save_safetensors(os.path.join(HERE, name + ".safetensors"), model.state_dict())
        save_safetensors(os.path.join(HERE, name + "_output.safetensors"), {"y": y})
        print("%s: %d tensors, output %s" % (name, len(model.state_dict()), list(y.shape)))


def run_forward(name, weights, out):
    model = MODELS[name]()
    model.load_state_dict(load_safetensors(weights), strict=True)
    x = load_safetensors(os.path.join(HERE, "input.safetensors"))["x"]
    save_safetensors(out, {"y": forward(model, x)})


if __name__ == "__main__":
    if len(sys.argv) == 1:
        make()
    elif len(sys.argv) == 5 and sys.argv[1] == "forward" and sys.argv[2] in MODELS:
        run_forward(*sys.argv[2:])
    else:
        sys.exit("usage: make_fixtures.py [forward lenet|bn WEIGHTS OUT]")
