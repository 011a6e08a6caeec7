#!/usr/bin/python3
"""Writes the PyTorch 1.13 fixtures that nn's normalisation, embedding and activation tests read.

Run from anywhere with the Python that has torch (here /usr/bin/python3):

    /usr/bin/python3 nn/testdata/normact/make_fixtures.py

Each <family>.json holds a list of cases. A case has a name, the module's settings ("args"), and
tensors as {"shape": [...], "data": [...]}: the input "x", the module's parameters under their
Paddle names ("weight", "bias"; PyTorch's layouts are mapped to Paddle's here), the output "out",
the random output gradient "g" that backward is seeded with, and the gradients "grad_x",
"grad_weight", "grad_bias". Only cases where PyTorch's semantics equal Paddle's are written; the
Go tests say which settings they map to. Values are float32, written exactly.
"""
import json
import os

import numpy as np
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)
HERE = os.path.dirname(os.path.abspath(__file__))


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    # the shortest decimal that reads back as the same float32 (Go parses it with bit size 32)
    data = [float(np.format_float_scientific(v, unique=True)) for v in t.reshape(-1).numpy()]
    return {"shape": list(t.shape), "data": data}


def run(module, x, args, name, params=(), x_grad=True, x_scale=1.0, param_names=None):
    """Runs module on x, seeds backward with a random g and returns the case."""
    x = x.clone().requires_grad_(x_grad)
    out = module(x)
    g = torch.randn(out.shape)
    out.backward(g)
    case = {"name": name, "args": args, "x": t2j(x), "out": t2j(out), "g": t2j(g)}
    if x_grad:
        case["grad_x"] = t2j(x.grad)
    for pname in params:
        p = getattr(module, pname)
        key = (param_names or {}).get(pname, pname)
        case[key] = t2j(p.reshape(-1))
        case["grad_" + key] = t2j(p.grad.reshape(-1))
    return case


def write(family, cases):
    path = os.path.join(HERE, family + ".json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


def randomize(module):
    """Gives a module's weight and bias values away from their initial ones and 1/0."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape) * 0.5 + (1.0 if name == "weight" else 0.0))


def layer_norm():
    cases = []
    for shape, norm, affine in [
        ((4, 6), [6], True),
        ((4, 6), [6], False),
        ((2, 3, 5), [5], True),
        ((2, 3, 5), [3, 5], True),
        ((2, 3, 5), [3, 5], False),
    ]:
        m = torch.nn.LayerNorm(norm, eps=1e-5, elementwise_affine=affine)
        if affine:
            randomize(m)
        x = torch.randn(shape) * 2 + 0.5
        cases.append(run(m, x, {"normalized_shape": norm, "affine": affine},
                         "LayerNorm%s/%s/affine=%s" % (list(shape), norm, affine),
                         params=("weight", "bias") if affine else ()))
    write("layernorm", cases)


if __name__ == "__main__":
    layer_norm()
