"""Writes the PyTorch 1.13 reference values that nn's recurrent and attention tests compare with.

Run from the repository root with the Python that has torch:

    /usr/bin/python3 nn/testdata/seq/make_fixtures.py

Each case writes nn/testdata/seq/<case>.json: a map from name to {"shape", "data"} holding the
weights under oar's (Paddle's) names and layouts, the inputs, the outputs, the random weights R of
the checked scalar loss = Σ_k Σ R_k·output_k, and the gradients of that loss with respect to the
inputs ("grad.<input>") and to every weight ("grad.<param>"), mapped to oar's layouts.

Name and layout mapping (torch -> oar):
  * RNN/LSTM/GRU: the same names (weight_ih_l0, ..._reverse) and layouts; torch runs with
    batch_first=True unless the case is time-major; Paddle's "bidirect" is bidirectional=True.
    Sequence lengths go through pack_padded_sequence / pad_packed_sequence, which zero the
    outputs past each length and return the state at the length, as Paddle's rnn kernel does.
  * MultiheadAttention: torch packs q, k, v in in_proj_weight [3E, E] and in_proj_bias [3E];
    oar has q_proj, k_proj, v_proj and out_proj as Linear layers with weights [in, out], the
    transpose of torch's [out, in]. torch's float attn_mask is added to the scores as Paddle's is.
  * TransformerEncoderLayer: torch's norm_first is Paddle's normalize_before; linear1, linear2,
    norm1, norm2 keep their names, Linear weights transposed.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(14)


def t2l(t):
    t = t.detach().contiguous()
    return {"shape": list(t.shape), "data": [float("%.8g" % v) for v in t.reshape(-1).tolist()]}


def write(case, d):
    with open(os.path.join(HERE, case + ".json"), "w") as f:
        json.dump({k: t2l(v) for k, v in d.items()}, f, separators=(",", ":"))


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def loss_of(outputs, d):
    total = 0
    for i, o in enumerate(outputs):
        r = rand(*o.shape)
        d["R%d" % i] = r
        total = total + (o * r).sum()
    return total


def rnn_case(case, cls, input_size, hidden, B, T, num_layers=1, bidirectional=False,
             time_major=False, lengths=None, lstm=False, **kw):
    m = cls(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional,
            batch_first=not time_major, **kw)
    D = 2 if bidirectional else 1
    x = rand(*((T, B, input_size) if time_major else (B, T, input_size))).requires_grad_()
    h0 = (0.5 * rand(num_layers * D, B, hidden)).requires_grad_()
    c0 = (0.5 * rand(num_layers * D, B, hidden)).requires_grad_()
    init = (h0, c0) if lstm else h0
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.tensor(lengths), batch_first=not time_major, enforce_sorted=False)
        out, st = m(packed, init)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=not time_major, total_length=T)
    else:
        out, st = m(x, init)
    outs = [out] + (list(st) if lstm else [st])
    d = {"x": x, "h0": h0}
    if lstm:
        d["c0"] = c0
    if lengths is not None:
        d["lengths"] = torch.tensor(lengths, dtype=torch.float32)
    for name, p in m.named_parameters():
        d[name] = p
    d["out"] = out
    d["h"] = outs[1]
    if lstm:
        d["c"] = outs[2]
    loss = loss_of(outs, d)
    loss.backward()
    d["grad.x"] = x.grad
    d["grad.h0"] = h0.grad
    if lstm:
        d["grad.c0"] = c0.grad
    for name, p in m.named_parameters():
        d["grad." + name] = p.grad
    write(case, d)


def mha_params(prefix, mha, E, d, grads=False):
    get = (lambda p: p.grad) if grads else (lambda p: p)
    pre = "grad." + prefix if grads else prefix
    W, b = get(mha.in_proj_weight), get(mha.in_proj_bias)
    for i, n in enumerate(["q_proj", "k_proj", "v_proj"]):
        d[pre + n + ".weight"] = W[i * E:(i + 1) * E].t()
        d[pre + n + ".bias"] = b[i * E:(i + 1) * E]
    d[pre + "out_proj.weight"] = get(mha.out_proj.weight).t()
    d[pre + "out_proj.bias"] = get(mha.out_proj.bias)


def mha_case():
    E, heads, B, L, S = 8, 2, 2, 3, 4
    mha = torch.nn.MultiheadAttention(E, heads, batch_first=True)
    with torch.no_grad():  # non-zero biases, so that their mapping is checked
        mha.in_proj_bias.copy_(0.1 * rand(3 * E))
        mha.out_proj.bias.copy_(0.1 * rand(E))
    q = rand(B, L, E).requires_grad_()
    k = rand(B, S, E).requires_grad_()
    v = rand(B, S, E).requires_grad_()
    mask = rand(L, S)
    out, w = mha(q, k, v, attn_mask=mask, need_weights=True, average_attn_weights=False)
    d = {"query": q, "key": k, "value": v, "mask": mask}
    mha_params("", mha, E, d)
    d["out"], d["weights"] = out, w
    loss_of([out, w], d)
    loss = (out * d["R0"]).sum() + (w * d["R1"]).sum()
    loss.backward()
    d["grad.query"], d["grad.key"], d["grad.value"] = q.grad, k.grad, v.grad
    mha_params("", mha, E, d, grads=True)
    write("mha", d)


def encoder_case(case, norm_first, activation):
    E, heads, ff, B, L = 8, 2, 16, 2, 3
    layer = torch.nn.TransformerEncoderLayer(E, heads, ff, dropout=0.0, activation=activation,
                                             batch_first=True, norm_first=norm_first)
    with torch.no_grad():
        layer.self_attn.in_proj_bias.copy_(0.1 * rand(3 * E))
        for n in ["norm1", "norm2"]:
            getattr(layer, n).weight.copy_(1 + 0.1 * rand(E))
            getattr(layer, n).bias.copy_(0.1 * rand(E))
    x = rand(B, L, E).requires_grad_()
    mask = rand(L, L)
    out = layer(x, src_mask=mask)
    d = {"x": x, "mask": mask}

    def params(d, grads):
        get = (lambda p: p.grad) if grads else (lambda p: p)
        pre = "grad." if grads else ""
        mha_params("self_attn.", layer.self_attn, E, d, grads)
        for n in ["linear1", "linear2"]:
            d[pre + n + ".weight"] = get(getattr(layer, n).weight).t()
            d[pre + n + ".bias"] = get(getattr(layer, n).bias)
        for n in ["norm1", "norm2"]:
            d[pre + n + ".weight"] = get(getattr(layer, n).weight)
            d[pre + n + ".bias"] = get(getattr(layer, n).bias)

    params(d, False)
    d["out"] = out
    loss = loss_of([out], d)
    loss.backward()
    d["grad.x"] = x.grad
    params(d, True)
    write(case, d)


rnn_case("lstm_bi2", torch.nn.LSTM, 3, 4, B=2, T=3, num_layers=2, bidirectional=True, lstm=True)
rnn_case("lstm_seqlen", torch.nn.LSTM, 3, 4, B=3, T=4, bidirectional=True, lengths=[4, 2, 1], lstm=True)
rnn_case("gru_tm", torch.nn.GRU, 3, 4, B=2, T=3, num_layers=2, time_major=True)
rnn_case("gru_seqlen", torch.nn.GRU, 3, 4, B=2, T=3, lengths=[1, 3])
rnn_case("rnn_tanh_bi", torch.nn.RNN, 3, 4, B=2, T=3, bidirectional=True)
rnn_case("rnn_relu", torch.nn.RNN, 3, 4, B=2, T=3, num_layers=2, nonlinearity="relu")
mha_case()
encoder_case("encoder_post", False, "relu")
encoder_case("encoder_pre", True, "gelu")
