#!/usr/bin/python3
"""Writes the torchvision cross-check fixtures of vision/models (run with /usr/bin/python3,
which has torch 1.13 and torchvision 0.14; nothing else runs torch).

    cd vision/models/testdata && /usr/bin/python3 make_fixtures.py

For ResNet-18, VGG-11-BN and MobileNetV2 (1000 classes) it fills every parameter and buffer of
torchvision's model with values that are a deterministic function of the tensor's Paddle/oar
state-dict key and element index (gen below; zoo_fixture_test.go computes the same function
bit for bit), runs the model in eval mode on an input made the same way, and writes

    zoo/<model>.keys  one line per oar key: "<key> <dim> <dim> ...", shapes in oar's layout
    zoo/<model>.out   the output [2, 1000] as little-endian float32

so no weights are committed (VGG-11-BN's are 530 MB). torchvision's keys are mapped to Paddle's
(oar's): BatchNorm running_mean/running_var are _mean/_variance, num_batches_tracked is dropped,
and a Linear weight is [out, in] in torch and [in, out] in Paddle (values are generated in
Paddle's layout and transposed for torch). Paddle's and torchvision's networks are the same for
these three in eval mode (dropout off; MobileNetV2's last channel makeDivisible(1280*max(1,
scale)) in both; BatchNorm epsilon 1e-5 in both).
"""
import os

import numpy as np
import torch
import torchvision

MASK = (1 << 64) - 1


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(key, n):
    """n values in [-1, 1), multiples of 2^-23: splitmix64 of fnv1a64(key) + (i+1)*golden."""
    out = np.empty(n, dtype=np.float64)
    seed = np.uint64(fnv1a64(key))
    chunk = 1 << 22
    with np.errstate(over="ignore"):
        for lo in range(0, n, chunk):
            i = np.arange(lo + 1, min(n, lo + chunk) + 1, dtype=np.uint64)
            z = seed + i * np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            out[lo:lo + len(i)] = (z >> np.uint64(40)).astype(np.float64) / 2.0**23 - 1.0
    return out


def gen(key, shape, bn):
    """The value of the oar tensor key of the given (oar) shape; bn says key belongs to a
    BatchNorm2D. Computed in float64 and rounded once to float32, as the Go test does."""
    n = int(np.prod(shape))
    u = uniform(key, n)
    last = key.rsplit(".", 1)[1]
    if last == "_mean":
        v = 0.1 * u
    elif last == "_variance":
        v = 1.0 + 0.25 * (u + 1.0)
    elif bn and last == "weight":
        v = 1.0 + 0.2 * u
    elif bn and last == "bias":
        v = 0.1 * u
    elif len(shape) == 1:  # conv or linear bias
        v = 0.05 * u
    elif len(shape) == 4:  # conv weight [out, in/groups, kh, kw]
        v = u * np.sqrt(6.0 / (shape[1] * shape[2] * shape[3]))
    elif len(shape) == 2:  # linear weight [in, out]
        v = u * np.sqrt(6.0 / shape[0])
    else:
        raise ValueError(key)
    return v.astype(np.float32).reshape(shape)


def fill(model):
    """Fills model's state dict; returns the oar keys with their oar shapes."""
    sd = model.state_dict()
    bns = {k.rsplit(".", 1)[0] for k in sd if k.endswith("running_mean")}
    linears = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    keys = []
    new = {}
    for k, t in sd.items():
        prefix, last = k.rsplit(".", 1)
        if last == "num_batches_tracked":
            new[k] = t
            continue
        key = prefix + "." + {"running_mean": "_mean", "running_var": "_variance"}.get(last, last)
        transpose = prefix in linears and last == "weight"
        shape = list(t.shape)[::-1] if transpose else list(t.shape)
        v = gen(key, shape, prefix in bns)
        new[k] = torch.from_numpy(v.T.copy() if transpose else v)
        keys.append((key, shape))
    model.load_state_dict(new)
    return keys


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(here, "zoo"), exist_ok=True)
    x = torch.from_numpy(uniform("input", 2 * 3 * 64 * 64).astype(np.float32).reshape(2, 3, 64, 64))
    for name, build in [("resnet18", torchvision.models.resnet18),
                        ("vgg11_bn", torchvision.models.vgg11_bn),
                        ("mobilenet_v2", torchvision.models.mobilenet_v2)]:
        model = build()
        keys = fill(model)
        model.eval()
        with torch.no_grad():
            y = model(x).numpy().astype("<f4")
        with open(os.path.join(here, "zoo", name + ".keys"), "w") as f:
            for k, s in keys:
                f.write(k + " " + " ".join(map(str, s)) + "\n")
        y.tofile(os.path.join(here, "zoo", name + ".out"))
        print(name, y.shape, "max |y| %.4g" % np.abs(y).max(), "std %.4g" % y.std())


if __name__ == "__main__":
    main()
