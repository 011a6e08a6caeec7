#!/usr/bin/python3
"""The PyTorch side of bench/resnet/compare.sh: training steps (forward, cross-entropy, backward,
SGD with momentum 0.9 and lr 0.01) of torchvision.models.resnet18(num_classes=10) in training
mode, on a fixed random batch of 32 images 3x32x32 with random labels, as bench/resnet/main.go
does with oar's models.ResNet18 (the same network: Paddle's resnet18 is torchvision's). Prints
"resnet18: <ms> ms/step (median of <n>), <samples/s> samples/s, <cpu> CPU ms/step, last loss <l>".

Run: /usr/bin/python3 bench/resnet/torch_resnet.py [--steps 10] [--warmup 2] [--threads 2]
OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 unless set), with torch's two threads, as in
bench/torch_mnist.py and bench/seq/torch_seq.py: the two thread pools otherwise fight over the
cores.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # must precede the torch import

import argparse
import time

import torch
import torchvision

BATCH, SIZE, CLASSES = 32, 32, 10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, mkldnn {torch.backends.mkldnn.is_available()}")
    net = torchvision.models.resnet18(num_classes=CLASSES)
    net.train()
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    y = torch.randint(0, CLASSES, (BATCH,))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    last = [0.0]

    def step():
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        last[0] = loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    cpu0 = time.process_time()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / args.steps
    times.sort()
    med = times[len(times) // 2]
    print(f"resnet18: {med*1e3:.2f} ms/step (median of {len(times)}), {BATCH/med:.0f} samples/s, "
          f"{cpu*1e3:.2f} CPU ms/step, last loss {last[0]:.4f}")


if __name__ == "__main__":
    main()
