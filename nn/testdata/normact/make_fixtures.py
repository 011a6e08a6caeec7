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


def group_norm():
    cases = []
    for shape, groups in [((2, 4, 3, 3), 1), ((2, 4, 3, 3), 2), ((2, 4, 3, 3), 4), ((3, 6, 5), 3)]:
        m = torch.nn.GroupNorm(groups, shape[1], eps=1e-5, affine=True)
        randomize(m)
        x = torch.randn(shape) * 1.5 - 0.3
        cases.append(run(m, x, {"num_groups": groups, "num_channels": shape[1]},
                         "GroupNorm%s/groups=%d" % (list(shape), groups), params=("weight", "bias")))
    write("groupnorm", cases)


def instance_norm():
    # Paddle's InstanceNorm2D has affine parameters (named scale and bias) by default and no
    # running statistics: PyTorch's affine=True, track_running_stats=False.
    cases = []
    for shape in [(2, 3, 4, 4), (1, 2, 3, 5)]:
        m = torch.nn.InstanceNorm2d(shape[1], eps=1e-5, affine=True, track_running_stats=False)
        randomize(m)
        x = torch.randn(shape) * 2 + 1
        cases.append(run(m, x, {"num_features": shape[1]}, "InstanceNorm2D%s" % list(shape),
                         params=("weight", "bias")))
    write("instancenorm", cases)


def batch_norm_1d():
    # One training step from fresh running statistics, then evaluation. PyTorch's momentum 0.1 is
    # Paddle's 0.9. PyTorch updates the running variance with the unbiased batch variance and
    # Paddle with the biased one: running_var here is Paddle's, computed from the batch, and the
    # evaluation output is PyTorch's with that running variance put in.
    cases = []
    for shape in [(6, 3), (4, 3, 5)]:
        m = torch.nn.BatchNorm1d(shape[1], eps=1e-5, momentum=0.1)
        randomize(m)
        x = torch.randn(shape) * 2 + 0.7
        m.train()
        case = run(m, x, {"num_features": shape[1]}, "BatchNorm1D%s" % list(shape), params=("weight", "bias"))
        axes = [0] if len(shape) == 2 else [0, 2]
        biased = x.var(dim=axes, unbiased=False)
        case["running_mean"] = t2j(m.running_mean)
        paddle_var = 0.9 * torch.ones(shape[1]) + 0.1 * biased
        case["running_var"] = t2j(paddle_var)
        with torch.no_grad():
            m.running_var.copy_(paddle_var)
        m.eval()
        case["eval_out"] = t2j(m(x))
        cases.append(case)
    write("batchnorm1d", cases)


def embedding():
    cases = []
    for num, dim, pad, ids_shape in [(10, 4, None, (3, 5)), (10, 4, 2, (3, 5)), (7, 3, -1, (2, 2, 3))]:
        m = torch.nn.Embedding(num, dim, padding_idx=pad)
        with torch.no_grad():
            w = torch.randn(num, dim)
            if pad is not None:
                w[pad] = 0  # zero at construction, in Paddle and PyTorch alike
            m.weight.copy_(w)
        ids = torch.randint(0, num, ids_shape)
        if pad is not None:
            ids.view(-1)[::4] = pad % num  # make sure the padding id occurs, and repeats
        ids.view(-1)[1] = ids.view(-1)[2]  # a repeated id accumulates its gradient
        out = m(ids)
        g = torch.randn(out.shape)
        out.backward(g)
        cases.append({
            "name": "Embedding(%d, %d, padding_idx=%s)%s" % (num, dim, pad, list(ids_shape)),
            "args": {"num_embeddings": num, "embedding_dim": dim, "padding_idx": pad},
            "x": t2j(ids.float()), "weight": t2j(m.weight), "out": t2j(out), "g": t2j(g),
            "grad_weight": t2j(m.weight.grad),
        })
    write("embedding", cases)


def activations():
    F = torch.nn.functional
    cases = []
    # a grid with step 0.5 that misses every kink (0, ±1, ±3, 6), and random values
    x = torch.cat([torch.linspace(-6.95, 7.05, 29), torch.randn(11) * 3]).reshape(4, 10)
    for name, module, args in [
        ("GELU", torch.nn.GELU(), {"approximate": False}),
        ("GELU", torch.nn.GELU(approximate="tanh"), {"approximate": True}),
        ("SiLU", torch.nn.SiLU(), {}),
        ("ELU", torch.nn.ELU(), {"alpha": 1.0}),
        ("ELU", torch.nn.ELU(alpha=0.4), {"alpha": 0.4}),
        ("SELU", torch.nn.SELU(), {}),
        ("Softplus", torch.nn.Softplus(), {"beta": 1.0, "threshold": 20.0}),
        ("Softplus", torch.nn.Softplus(beta=2.0, threshold=5.0), {"beta": 2.0, "threshold": 5.0}),
        ("Mish", torch.nn.Mish(), {}),
        ("Hardswish", torch.nn.Hardswish(), {}),
        ("Softsign", torch.nn.Softsign(), {}),
        ("Tanhshrink", torch.nn.Tanhshrink(), {}),
        ("LogSigmoid", torch.nn.LogSigmoid(), {}),
        ("Hardtanh", torch.nn.Hardtanh(), {"min": -1.0, "max": 1.0}),
        ("ReLU6", torch.nn.ReLU6(), {}),
    ]:
        args["op"] = name
        cases.append(run(module, x, args, "%s%s" % (name, args)))
    for shape, num in [((2, 3, 4), 1), ((2, 3, 4), 3), ((2, 3, 2, 2), 3)]:
        m = torch.nn.PReLU(num_parameters=num, init=0.25)
        with torch.no_grad():
            m.weight.copy_(torch.rand(num) * 0.5)
        cases.append(run(m, torch.randn(shape), {"op": "PReLU", "num_parameters": num},
                         "PReLU%s/num_parameters=%d" % (list(shape), num), params=("weight",)))
    write("activations", cases)


if __name__ == "__main__":
    layer_norm()
    group_norm()
    instance_norm()
    batch_norm_1d()
    embedding()
    activations()
