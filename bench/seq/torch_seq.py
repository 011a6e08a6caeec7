#!/usr/bin/python3
"""The PyTorch side of bench/seq/compare.sh: training steps (forward, backward, Adam) of

  lstm:        torch.nn.LSTM(128, 128, batch_first=True), batch 32, 64 time steps;
  transformer: torch.nn.TransformerEncoderLayer(128, 4, 512, dropout=0.1, batch_first=True),
               batch 32, 64 positions;

each on a random input with the loss mean(y**2), as bench/seq/main.go does with oar. Prints one
line per model, "<model>: <ms> ms/step (median of <n>), <samples/s> samples/s".

Run: /usr/bin/python3 bench/seq/torch_seq.py [--model lstm|transformer|all] [--steps 20] [--threads 2]
OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 unless set), with torch's two threads, as in
bench/torch_mnist.py: the two thread pools otherwise fight over the cores.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the torch import

import argparse
import statistics
import time

import torch

BATCH, SEQ, WIDTH = 32, 64, 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="all")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    models = ["lstm", "transformer"] if args.model == "all" else [args.model]
    for m in models:
        if m == "lstm":
            layer = torch.nn.LSTM(WIDTH, WIDTH, batch_first=True)
            fwd = lambda x: layer(x)[0]
        elif m == "transformer":
            layer = torch.nn.TransformerEncoderLayer(WIDTH, 4, 4 * WIDTH, dropout=0.1, batch_first=True)
            fwd = layer
        else:
            raise SystemExit(f"unknown model {m}")
        layer.train()
        x = torch.randn(BATCH, SEQ, WIDTH)
        opt = torch.optim.Adam(layer.parameters(), lr=1e-3)

        def step():
            y = fwd(x)
            (y * y).mean().backward()
            opt.step()
            opt.zero_grad()

        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        times.sort()
        med = times[len(times) // 2]
        print(f"{m}: {med*1e3:.2f} ms/step (median of {len(times)}), {BATCH/med:.0f} samples/s")


if __name__ == "__main__":
    main()
