#!/usr/bin/python3
"""Writes the PyTorch 1.13 trajectories that torch_test.go compares Adagrad and Adadelta with.

Run from anywhere with the Python that has torch (here /usr/bin/python3):

    /usr/bin/python3 optim/testdata/make_fixtures.py

PyTorch's Adagrad and Adadelta updates equal Paddle's kernels' (only the defaults differ, and
PyTorch's Adagrad has an lr_decay, left at 0 here); its Adamax places epsilon differently and it
has no Lamb, so those are checked against float64 implementations of Paddle's formulas only.
Each case runs 20 steps on the fixed gradients of rules_test.go's seqGrad, sin(1.3·s + 0.7·i) ·
(1 + 0.5·i) rounded to float32, from rules_test.go's seqStart, and records the parameter after
each step. Values are float32, written exactly.
"""
import json
import math
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
START = [0.5, -1.2, 2.0, 0.3, -0.05]


def grad(s, i):
    return float(np.float32(math.sin(1.3 * s + 0.7 * i) * (1 + 0.5 * i)))


def run(make):
    p = torch.nn.Parameter(torch.tensor(START, dtype=torch.float32))
    opt = make([p])
    steps = []
    for s in range(1, 21):
        p.grad = torch.tensor([grad(s, i) for i in range(len(START))], dtype=torch.float32)
        opt.step()
        steps.append([float(np.format_float_scientific(v, unique=True)) for v in p.detach().numpy()])
    return steps


def main():
    cases = [
        {"name": "Adagrad", "lr": 0.05, "epsilon": 1e-6, "initial_accumulator_value": 0.1, "weight_decay": 0.01,
         "steps": run(lambda ps: torch.optim.Adagrad(ps, lr=0.05, eps=1e-6, initial_accumulator_value=0.1, weight_decay=0.01))},
        {"name": "Adadelta", "lr": 0.5, "rho": 0.9, "epsilon": 1e-6, "weight_decay": 0.02,
         "steps": run(lambda ps: torch.optim.Adadelta(ps, lr=0.5, rho=0.9, eps=1e-6, weight_decay=0.02))},
    ]
    path = os.path.join(HERE, "torch_optim.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
