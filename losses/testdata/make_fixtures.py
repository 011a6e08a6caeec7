#!/usr/bin/python3
"""Writes the PyTorch 1.13 fixtures that losses_torch_test.go reads.

Run from anywhere with the Python that has torch (here /usr/bin/python3):

    /usr/bin/python3 losses/testdata/make_fixtures.py

losses.json holds a list of cases. A case names the loss ("loss"), its settings ("args", in
Paddle's terms: reduction, margin, delta, log_target) and tensors as {"shape": [...], "data":
[...]}: the inputs ("input", "other" for the second input of a pair, "label", "weight"), the output
"out", the output gradient "g" that backward is seeded with (all ones for a reduced loss), and the
gradients "grad_input" and "grad_other". Only settings where PyTorch computes what Paddle does are
written:

  - L1Loss, MarginRankingLoss, BCELoss (weight), KLDivLoss (mean, batchmean, sum, none,
    log_target) as they are;
  - Paddle's SmoothL1Loss(delta) is PyTorch's HuberLoss(delta) (SmoothL1Loss(beta) only for 1);
  - CosineEmbeddingLoss: PyTorch adds 1e-12 to the squared norms where Paddle adds 1e-11,
    invisible in float32 for the norms used here;
  - HingeEmbeddingLoss with labels 1 and -1 only (they differ on other labels);
  - cosine_similarity with norms well above eps (they bound different quantities by eps);
  - Paddle's ctc_loss takes logits and applies the softmax itself (warpctc): PyTorch's ctc_loss of
    log_softmax(logits), with label lengths >= 1.

Values are float32, written exactly (the shortest decimal that reads back as the same float32).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    data = [float(np.format_float_scientific(v, unique=True)) for v in t.reshape(-1).numpy()]
    return {"shape": list(t.shape), "data": data}


def case(loss, args, fn, tensors, grads):
    """Runs fn on the tensors, those named in grads requiring a gradient, and seeds backward."""
    ts = {k: v.clone().requires_grad_(k in grads) for k, v in tensors.items()}
    out = fn(**ts)
    g = torch.ones(out.shape) if out.dim() == 0 else torch.randn(out.shape)
    out.backward(g)
    c = {"loss": loss, "args": args, "out": t2j(out), "g": t2j(g)}
    for k, v in ts.items():
        c[k] = t2j(v)
        if k in grads:
            c["grad_" + k] = t2j(v.grad)
    return c


def main():
    cases = []
    reductions = ["mean", "sum", "none"]
    for red in reductions:
        x, y = torch.randn(3, 4), torch.randn(3, 4)
        cases.append(case("L1", {"reduction": red},
                          lambda input, label: F.l1_loss(input, label, reduction=red),
                          {"input": x, "label": y}, ["input", "label"]))
    for red in reductions:
        for delta in [1.0, 0.5, 2.0]:
            x, y = 2 * torch.randn(3, 5), torch.randn(3, 5)
            cases.append(case("SmoothL1", {"reduction": red, "delta": delta},
                              lambda input, label: F.huber_loss(input, label, reduction=red, delta=delta),
                              {"input": x, "label": y}, ["input", "label"]))
    # Paddle's default delta 1 is also PyTorch's smooth_l1_loss
    x, y = 2 * torch.randn(4, 3), torch.randn(4, 3)
    cases.append(case("SmoothL1", {"reduction": "mean", "delta": 1.0},
                      lambda input, label: F.smooth_l1_loss(input, label, beta=1.0),
                      {"input": x, "label": y}, ["input", "label"]))
    for red in ["mean", "batchmean", "sum", "none"]:
        for log_target in [False, True]:
            x = torch.randn(3, 5).log_softmax(1)
            y = torch.rand(3, 5)
            y = y / y.sum(1, keepdim=True)
            y[0, 1] = 0  # a zero probability contributes 0
            if log_target:
                y = torch.randn(3, 5).log_softmax(1)
            cases.append(case("KLDiv", {"reduction": red, "log_target": log_target},
                              lambda input, label: F.kl_div(input, label, reduction=red, log_target=log_target),
                              {"input": x, "label": y}, ["input"]))
    for red in reductions:
        for weighted in [False, True]:
            x = torch.rand(4, 3) * 0.98 + 0.01
            y = torch.rand(4, 3)
            y[0] = torch.tensor([0.0, 1.0, 1.0])
            ts = {"input": x, "label": y}
            if weighted:
                ts["weight"] = torch.rand(3) + 0.5
                fn = lambda input, label, weight: F.binary_cross_entropy(input, label, weight=weight, reduction=red)
            else:
                fn = lambda input, label: F.binary_cross_entropy(input, label, reduction=red)
            cases.append(case("BCE", {"reduction": red}, fn, ts, ["input"]))
    for red in reductions:
        for margin in [0.0, 0.3]:
            x, o = torch.randn(6), torch.randn(6)
            y = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
            cases.append(case("MarginRanking", {"reduction": red, "margin": margin},
                              lambda input, other, label: F.margin_ranking_loss(input, other, label, margin=margin, reduction=red),
                              {"input": x, "other": o, "label": y}, ["input", "other"]))
    for red in reductions:
        for margin in [0.0, 0.2]:
            x1, x2 = torch.randn(5, 4), torch.randn(5, 4)
            x2[1] = x1[1] * 0.5 + 0.1 * x2[1]  # a similar pair, cos near 1
            y = torch.tensor([1.0, 1.0, -1.0, -1.0, 1.0])
            cases.append(case("CosineEmbedding", {"reduction": red, "margin": margin},
                              lambda input, other, label: F.cosine_embedding_loss(input, other, label, margin=margin, reduction=red),
                              {"input": x1, "other": x2, "label": y}, ["input", "other"]))
    for red in reductions:
        for margin in [1.0, 0.5]:
            x = torch.rand(3, 4) * 2
            y = torch.where(torch.rand(3, 4) > 0.5, 1.0, -1.0)
            cases.append(case("HingeEmbedding", {"reduction": red, "margin": margin},
                              lambda input, label: F.hinge_embedding_loss(input, label, margin=margin, reduction=red),
                              {"input": x, "label": y}, ["input"]))
    for axis, s1, s2 in [(1, (3, 4), (3, 4)), (0, (5, 2), (5, 2)), (-1, (2, 3, 4), (2, 1, 4)), (1, (2, 3, 2), (2, 3, 2))]:
        x1, x2 = torch.randn(*s1), torch.randn(*s2)
        cases.append(case("CosineSimilarity", {"axis": axis},
                          lambda input, other: F.cosine_similarity(input, other, dim=axis, eps=1e-8),
                          {"input": x1, "other": x2}, ["input", "other"]))
    for red in reductions:
        for blank in [0, 2]:
            x = torch.randn(6, 3, 5)
            # a repeated label (1, 1) needs a blank between; rows are padded with 0
            labels = torch.tensor([[1, 1, 3], [4, 3, 0], [3 if blank == 0 else 0, 0, 0]])
            in_lens, lab_lens = [6, 5, 4], [3, 2, 1]
            cases.append(case("CTC", {"reduction": red, "blank": blank, "input_lengths": in_lens, "label_lengths": lab_lens},
                              lambda input, label: F.ctc_loss(input.log_softmax(2), label.long(), torch.tensor(in_lens),
                                                               torch.tensor(lab_lens), blank=blank, reduction=red),
                              {"input": x, "label": labels.float()}, ["input"]))
    path = os.path.join(HERE, "losses.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
