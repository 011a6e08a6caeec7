#!/usr/bin/python3
"""Writes torchvision.json: torchvision 0.14's tensor rotate and resize on small ramps.

Paddle's tensor backend (paddle.vision.transforms.functional_tensor) computes rotate with the
same affine grid and grid_sample(align_corners=False) as torchvision's, and resize with
interpolate(align_corners=False) as torchvision's resize(antialias=False), so these outputs are
Paddle's too. Run with /usr/bin/python3 (torch 1.13, torchvision 0.14) from this directory.
"""
import json

import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode as IM

modes = {"nearest": IM.NEAREST, "bilinear": IM.BILINEAR}
cases = []


def ramp(c, h, w):
    return torch.arange(c * h * w, dtype=torch.float32).reshape(c, h, w) * 1.5 + 1


for shape in [(1, 8, 8), (2, 5, 7)]:
    x = ramp(*shape)
    for angle in [30.0, -47.5, 90.0, 123.0]:
        for mode in ["nearest", "bilinear"]:
            for expand in [False, True]:
                for center in [None, [2.0, 3.0]]:
                    if expand and center is not None:
                        continue  # torchvision and Paddle ignore center sizes for expand
                    y = F.rotate(x, angle, interpolation=modes[mode], expand=expand, center=center)
                    cases.append({"op": "rotate", "shape": list(shape), "angle": angle, "mode": mode,
                                  "expand": expand, "center": center,
                                  "out_shape": list(y.shape), "out": [round(v, 5) for v in y.flatten().tolist()]})
    for size in [[3, 4], [9, 11], [5, 2]]:
        for mode in ["nearest", "bilinear"]:
            y = F.resize(x, size, interpolation=modes[mode], antialias=False)
            cases.append({"op": "resize", "shape": list(shape), "size": size, "mode": mode,
                          "out_shape": list(y.shape), "out": [round(v, 5) for v in y.flatten().tolist()]})

# Colour adjustments on an RGB image in [0, 1] (torchvision's and Paddle's tensor formulas agree,
# except that both use 0.2989 for red in the grey image where oar uses 0.299).
g = torch.Generator().manual_seed(0)
rgb = torch.rand(3, 4, 5, generator=g)
rgb[:, 0, 0] = torch.tensor([0.5, 0.5, 0.5])  # a grey pixel
for op, factors in [("brightness", [0.0, 0.6, 1.7]), ("contrast", [0.0, 0.5, 1.8]),
                    ("saturation", [0.0, 0.4, 2.5]), ("hue", [-0.5, -0.2, 0.1, 0.45])]:
    fn = getattr(F, "adjust_" + op)
    for f in factors:
        y = fn(rgb, f)
        cases.append({"op": op, "shape": [3, 4, 5], "factor": f, "in": [round(v, 7) for v in rgb.flatten().tolist()],
                      "out_shape": list(y.shape), "out": [round(v, 7) for v in y.flatten().tolist()]})

with open("torchvision.json", "w") as f:
    json.dump(cases, f, separators=(",", ":"))
