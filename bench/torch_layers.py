#!/usr/bin/python3
"""Times the layers oar's kernels must beat, in PyTorch on CPU, for side-by-side ratios.

Set-up once:  apt-get update && apt-get install -y python3-torch
Run:          /usr/bin/python3 bench/torch_layers.py [--threads 2]
Prints one line per case: name, median milliseconds per call, and GFLOP/s where it applies.
Run it in the same session as the Go benchmarks and quote ratios, never absolute times alone.
OpenBLAS runs single-threaded unless OPENBLAS_NUM_THREADS is set (see torch_mnist.py).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the torch import

import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def bench(fn, repeat=15, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")

    for n in (64, 256, 1024):
        a, b = torch.randn(n, n), torch.randn(n, n)
        s = bench(lambda: a @ b)
        print(f"matmul {n}x{n}x{n}: {s*1e3:.3f} ms  {2*n**3/s/1e9:.1f} GFLOP/s")

    # (name, input shape, out channels, kernel, padding)
    convs = [
        ("lenet.conv1 b64", (64, 1, 28, 28), 6, 3, 1),
        ("lenet.conv2 b64", (64, 6, 14, 14), 16, 5, 0),
        ("cnn.conv1 b100", (100, 1, 28, 28), 20, 5, 2),
        ("cnn.conv2 b100", (100, 20, 14, 14), 20, 5, 2),
    ]
    for name, shape, cout, k, pad in convs:
        x = torch.randn(*shape)
        w = torch.randn(cout, shape[1], k, k)
        bias = torch.randn(cout)
        fwd = bench(lambda: F.conv2d(x, w, bias, padding=pad))
        xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), bias.clone().requires_grad_()

        def fwd_bwd():
            y = F.conv2d(xg, wg, bg, padding=pad)
            y.sum().backward()
            xg.grad = wg.grad = bg.grad = None

        fb = bench(fwd_bwd)
        print(f"conv2d {name} {list(shape)} -> {cout}@{k}x{k} pad {pad}: forward {fwd*1e3:.3f} ms, forward+backward {fb*1e3:.3f} ms")

    x = torch.randn(64, 6, 28, 28)
    print(f"maxpool2d 2x2 [64,6,28,28]: forward {bench(lambda: F.max_pool2d(x, 2, 2))*1e3:.3f} ms")


if __name__ == "__main__":
    main()
