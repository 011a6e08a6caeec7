#!/usr/bin/python3
"""Writes the PyTorch 1.13 fixtures of nn's Conv1D, Conv2DTranspose, AdaptiveAvgPool2D,
AdaptiveMaxPool2D, AvgPool1D and MaxPool1D tests (convpool_fixture_test.go).

Run from this directory with the Python that has torch: /usr/bin/python3 make_fixtures.py.
Each case holds float32 inputs, weights and an output gradient gy drawn here, and the output and
the gradients of sum(y*gy) with respect to the input and the parameters, computed by torch in
float64 from those float32 values. Where Paddle's semantics differ from torch's, the case
applies Paddle's rule with torch's plain ops and says so (see the comments); every other case is
torch's own op with the same options.
"""
import json
import math

import torch
import torch.nn.functional as F

torch.manual_seed(14)


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float32).to(torch.float64)


def enc(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.reshape(-1).tolist()]}


def run(fn, inputs, out_shape_from=None):
    """Evaluates fn(*inputs) and the gradients of sum(y*gy) for a random gy."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    y = fn(*leaves)
    gy = rand(*y.shape)
    (y * gy).sum().backward()
    return y, gy, [l.grad for l in leaves]


def paddle_same(n, k, s):
    """Paddle's UpdatePaddingAndDilation for "SAME": (before, after); the dilation becomes 1."""
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv1d_cases():
    cases = []
    specs = [
        # name, N, in, out, k, stride, padding, dilation, groups, bias, L
        ("basic", 2, 3, 4, 3, 1, [0], 1, 1, True, 9),
        ("stride 2 pad 1", 2, 2, 3, 3, 2, [1], 1, 1, True, 10),
        ("pad before after", 1, 2, 2, 4, 1, [2, 1], 1, 1, True, 7),
        ("dilation 2", 1, 2, 3, 3, 1, [2], 2, 1, False, 9),
        ("groups 2", 2, 4, 6, 3, 1, [1], 1, 2, True, 8),
        ("same stride 1", 1, 2, 2, 4, 1, "same", 1, 1, True, 7),
        ("same stride 2", 2, 2, 3, 3, 2, "same", 1, 1, True, 9),
        ("same stride 2 even", 1, 2, 2, 4, 2, "same", 1, 1, True, 8),
        ("same stride 3 dilation 2", 1, 2, 2, 3, 3, "same", 2, 1, True, 10),
        ("valid stride 2", 1, 3, 2, 3, 2, "valid", 1, 1, True, 9),
        # padding_mode: torch's Conv1d and Paddle's both pad with F.pad in the mode, then convolve
        ("reflect pad 2", 1, 2, 2, 3, 1, ["reflect", 2], 1, 1, True, 6),
        ("replicate pad 2 stride 2", 2, 2, 3, 3, 2, ["replicate", 2], 1, 1, True, 7),
        ("circular pad 3 dilation 2", 1, 2, 2, 3, 1, ["circular", 3], 2, 1, False, 5),
    ]
    for name, n, cin, cout, k, s, p, d, g, bias, L in specs:
        mode = "constant"
        if isinstance(p, list) and isinstance(p[0], str):
            mode, p = p[0], [p[1]]
        x, w = rand(n, cin, L), rand(cout, cin // g, k)
        b = rand(cout) if bias else None
        if p == "same":
            # Paddle: pad by max((ceil(L/s)-1)*s + k - L, 0), the extra element last, dilation 1.
            # torch has padding='same' only for stride 1 (where it pads by d*(k-1)): here the
            # padding is applied by hand with Paddle's amounts.
            before, after = paddle_same(L, k, s)
            d_eff = 1
        elif p == "valid":
            before, after, d_eff = 0, 0, d
        else:
            before, after = (p[0], p[0]) if len(p) == 1 else (p[0], p[1])
            d_eff = d

        def fn(x, w, *b, before=before, after=after, s=s, d=d_eff, g=g, mode=mode):
            return F.conv1d(F.pad(x, (before, after), mode=mode), w, b[0] if b else None, stride=s, dilation=d, groups=g)

        inputs = [x, w] + ([b] if bias else [])
        y, gy, grads = run(fn, inputs)
        c = {"name": name, "in": cin, "out": cout, "kernel": k, "stride": s, "dilation": d, "groups": g,
             "padding": p if isinstance(p, list) else [], "padmode": p if isinstance(p, str) else "",
             "padding_mode": "zeros" if mode == "constant" else mode, "x": enc(x), "w": enc(w), "y": enc(y), "gy": enc(gy), "gx": enc(grads[0]), "gw": enc(grads[1])}
        if bias:
            c["b"], c["gb"] = enc(b), enc(grads[2])
        cases.append(c)
    return cases


def conv_transpose_cases():
    cases = []
    specs = [
        # name, N, in, out, (kh, kw), stride, padding (1, 2 or 4 values or "same"), output_padding,
        # dilation, groups, bias, (H, W), output_size
        ("basic", 2, 3, 2, (3, 3), [1], [0], [0], [1], 1, True, (2, 3), None),
        ("stride 2 pad 1", 1, 2, 3, (3, 3), [2], [1], [0], [1], 1, True, (3, 3), None),
        ("stride 2 output_padding 1", 1, 2, 2, (3, 3), [2], [1], [1], [1], 1, True, (3, 3), None),
        ("stride (2,3) output_padding (1,2)", 1, 2, 2, (2, 3), [2, 3], [0, 1], [1, 2], [1], 1, False, (3, 2), None),
        ("dilation 2", 1, 2, 2, (3, 3), [1], [1], [0], [2], 1, True, (4, 3), None),
        ("dilation 2 stride 2 output_padding 1", 1, 2, 2, (2, 2), [2], [0], [1], [2], 1, True, (3, 3), None),
        ("groups 2", 1, 4, 6, (3, 3), [2], [1], [0], [1], 2, True, (3, 3), None),
        ("4-sided padding", 1, 2, 2, (3, 3), [2], [1, 0, 2, 1], [0], [1], 1, True, (3, 4), None),
        ("output_size", 1, 2, 2, (3, 3), [3], [1], [0], [1], 1, True, (3, 3), (9, 8)),
        ("same stride 2", 1, 2, 2, (3, 3), [2], "same", [0], [1], 1, True, (5, 4), None),
    ]
    for name, n, cin, cout, (kh, kw), s, p, op, d, g, bias, (H, W), osize in specs:
        x, w = rand(n, cin, H, W), rand(cin, cout // g, kh, kw)
        b = rand(cout) if bias else None
        sh, sw = (s * 2)[:2]
        dh, dw = (d * 2)[:2]
        oph, opw = (op * 2)[:2]
        if p == "same":
            # Paddle: the padding of a SAME conv2d of x itself (its own size, the undilated kernel),
            # dilation 1; torch has no padding='same' for transposed convolutions.
            pt, pb = paddle_same(H, kh, sh)
            pl, pr = paddle_same(W, kw, sw)
            dh = dw = 1
        elif len(p) == 1:
            pt = pb = pl = pr = p[0]
        elif len(p) == 2:
            pt = pb = p[0]
            pl = pr = p[1]
        else:
            pt, pb, pl, pr = p
        full_h = (H - 1) * sh + dh * (kh - 1) + 1
        full_w = (W - 1) * sw + dw * (kw - 1) + 1
        if osize is not None:
            # torch's ConvTranspose2d.forward(x, output_size) turns output_size into output_padding.
            oph, opw = osize[0] - (full_h - pt - pb), osize[1] - (full_w - pl - pr)

        def fn(x, w, *b, a=(pt, pb, pl, pr, sh, sw, dh, dw, oph, opw, g)):
            pt, pb, pl, pr, sh, sw, dh, dw, oph, opw, g = a
            bias = b[0] if b else None
            if pt == pb and pl == pr:
                return F.conv_transpose2d(x, w, bias, stride=(sh, sw), padding=(pt, pl), output_padding=(oph, opw),
                                          groups=g, dilation=(dh, dw))
            # torch pads symmetrically only: run unpadded, with the output padding that reaches past
            # the bottom/right padding, and crop: the same arithmetic as Paddle's col2im, which
            # offsets by the top/left padding and writes what fits.
            y = F.conv_transpose2d(x, w, bias, stride=(sh, sw), groups=g, dilation=(dh, dw),
                                   output_padding=(max(oph - pb, 0), max(opw - pr, 0)))
            hh = full_h - pt - pb + oph
            ww = full_w - pl - pr + opw
            return y[:, :, pt:pt + hh, pl:pl + ww]

        inputs = [x, w] + ([b] if bias else [])
        y, gy, grads = run(fn, inputs)
        c = {"name": name, "in": cin, "out": cout, "kernel": [kh, kw], "stride": s, "dilation": d, "groups": g,
             "padding": p if isinstance(p, list) else [], "padmode": p if isinstance(p, str) else "",
             "output_padding": op, "output_size": list(osize) if osize else [],
             "x": enc(x), "w": enc(w), "y": enc(y), "gy": enc(gy), "gx": enc(grads[0]), "gw": enc(grads[1])}
        if bias:
            c["b"], c["gb"] = enc(b), enc(grads[2])
        cases.append(c)
    return cases


def adaptive_cases():
    cases = []
    specs = [
        # name, x shape, output size (None keeps the axis)
        ("divides 6x6 to (2,3)", (2, 2, 6, 6), (2, 3)),
        ("7 to 3", (1, 2, 7, 7), (3, 3)),
        ("5 to 2, 6 to 4", (2, 1, 5, 6), (2, 4)),
        ("global", (2, 3, 3, 5), (1, 1)),
        ("None keeps H", (1, 2, 4, 7), (None, 3)),
        ("more bins than inputs", (1, 1, 3, 2), (5, 3)),
    ]
    for name, shape, osize in specs:
        x = rand(*shape)
        torch_size = tuple(shape[2 + i] if v is None else v for i, v in enumerate(osize))
        y_avg, gy_avg, g_avg = run(lambda x: F.adaptive_avg_pool2d(x, torch_size), [x])
        y_max, gy_max, g_max = run(lambda x: F.adaptive_max_pool2d(x, torch_size), [x])
        _, mask = F.adaptive_max_pool2d(x, torch_size, return_indices=True)
        cases.append({"name": name, "output_size": [0 if v is None else v for v in osize], "x": enc(x),
                      "avg_y": enc(y_avg), "avg_gy": enc(gy_avg), "avg_gx": enc(g_avg[0]),
                      "max_y": enc(y_max), "max_gy": enc(gy_max), "max_gx": enc(g_max[0]),
                      "max_mask": enc(mask.to(torch.float64))})
    return cases


def pool1d_cases():
    cases = []
    specs = [
        # name, x shape, kernel, stride (None: kernel), padding, ceil_mode, exclusive (avg)
        ("k2", (2, 3, 8), 2, None, 0, False, True),
        ("k3 s2 pad 1 exclusive", (1, 2, 9), 3, 2, 1, False, True),
        ("k3 s2 pad 1 inclusive", (1, 2, 9), 3, 2, 1, False, False),
        ("k3 s2 ceil", (1, 2, 8), 3, 2, 0, True, True),
        ("k4 s3 pad 1 ceil", (2, 1, 10), 4, 3, 1, True, True),
        ("k3 s1 pad 1", (1, 2, 5), 3, 1, 1, False, True),
        ("k3 s2 pad 1 ceil inclusive", (1, 2, 8), 3, 2, 1, True, False),
    ]
    for name, shape, k, s, p, ceil, excl in specs:
        x = rand(*shape)
        L = shape[2]
        stride = k if s is None else s
        if ceil:
            # The last ceil-mode window starts inside input + left padding, where torch keeps it as
            # Paddle does (torch drops a window starting in the right padding; Paddle keeps it: the
            # Go tests compute that case by hand). An inclusive window reaching past the padded
            # input counts only its cells inside input and padding in both torch and Paddle's CPU
            # kernel.
            out = (L + 2 * p - k + stride - 1) // stride + 1
            assert (out - 1) * stride < L + p, name
        y_avg, gy_avg, g_avg = run(lambda x: F.avg_pool1d(x, k, s, p, ceil_mode=ceil, count_include_pad=not excl), [x])
        y_max, gy_max, g_max = run(lambda x: F.max_pool1d(x, k, s, p, ceil_mode=ceil), [x])
        cases.append({"name": name, "kernel": k, "stride": 0 if s is None else s, "padding": p, "ceil_mode": ceil,
                      "exclusive": excl, "x": enc(x),
                      "avg_y": enc(y_avg), "avg_gy": enc(gy_avg), "avg_gx": enc(g_avg[0]),
                      "max_y": enc(y_max), "max_gy": enc(gy_max), "max_gx": enc(g_max[0])})
    return cases


def write(name, cases):
    with open(name, "w") as f:
        json.dump({"generator": "make_fixtures.py", "torch": torch.__version__, "cases": cases}, f,
                  separators=(",", ":"))
        f.write("\n")


write("conv1d.json", conv1d_cases())
write("conv_transpose2d.json", conv_transpose_cases())
write("adaptive_pool2d.json", adaptive_cases())
write("pool1d.json", pool1d_cases())
