"""Writes the PyTorch-exported ONNX fixtures that onnx/torch_test.go checks oar's importer against.

Run it from this directory with Debian's Python, which has torch 1.13 and onnx 1.12:

    cd onnx/testdata/torch && /usr/bin/python3 make_fixtures.py

It is deterministic (torch.manual_seed; the same torch build writes the same bytes) and writes,
next to itself:

  lenet_opset13.onnx, lenet_opset17.onnx
      Paddle's LeNet as oar has it (vision/models/lenet.go): features = Conv2d(1,6,3,padding=1),
      ReLU, MaxPool2d(2,2), Conv2d(6,16,5), ReLU, MaxPool2d(2,2); torch.flatten(x, 1);
      fc = Linear(400,120), Linear(120,84), Linear(84,10). torch exports Conv, Relu, MaxPool,
      Flatten and Gemm (transB=1, so the weights keep torch's [out, in] layout).
  lenet_view_opset13.onnx
      The same network (other random weights) whose forward flattens with x.view(x.size(0), -1):
      torch exports that as Shape -> Gather -> Unsqueeze -> Concat -> Reshape on int64 tensors.
  cnn_opset13.onnx, cnn_opset17.onnx
      The tutorial's CNN (examples/cnn/main.go newNet): conv1 Conv2d(1,20,5,padding=2), relu1,
      max_pool1 MaxPool2d(2,2), conv2 Conv2d(20,20,5,padding=2), relu2, max_pool2, flatten,
      fc Linear(980,10).
  bn_opset13.onnx
      A net with a BatchNorm2d that torch cannot fold into the convolution before it (ReLU comes
      between): Sequential(Conv2d(1,4,3,padding=1), ReLU, BatchNorm2d(4), MaxPool2d(2,2), Flatten,
      Linear(784,10)), after three training-mode passes over random batches (so its running
      statistics are not the defaults) and with random BatchNorm weight and bias; exported in
      eval mode, as a BatchNormalization node whose running_mean and running_var are initializers
      ("2.running_mean", "2.running_var"; torch leaves num_batches_tracked out).
  mix_opset13.onnx, mix_opset17.onnx
      A net of many of the operators torch emits (class Mix below): Conv with its BatchNorm2d
      folded in, Relu, LeakyRelu, Add, Sigmoid, Concat, Pad + AveragePool (avg_pool2d),
      MaxPool with ceil_mode, ReduceMean, Flatten, Gemm, Tanh, Dropout (gone in eval mode),
      BatchNormalization on [N, C] (BatchNorm1d), LogSoftmax. Folding bn1 into conv1 leaves
      two initializers that torch names "onnx::Conv_39" and "onnx::Conv_40" (conv1's folded
      weight and bias); the others keep their state-dict keys.
  input.pb
      The input batch, [4,1,28,28] float32 drawn from N(0,1).
  lenet_output.pb, lenet_view_output.pb, cnn_output.pb, bn_output.pb, mix_output.pb
      torch's output for input.pb in eval mode, [4,10] float32 (the same for every opset).

Every model has one input "x" [N,1,28,28] and one output "y" [N,10] with a dynamic batch axis N
(dynamic_axes), and is exported with export_params=True and do_constant_folding=True. torch 1.13
names each initializer by its state-dict key ("features.0.weight", "fc.2.bias", "conv1.weight"),
except those that constant folding computes (a BatchNorm2d folded into the Conv before it), which
it names "onnx::<Op>_<n>"; it emits its other constants (Reshape's shape, Pad's pads) as Constant
nodes. num_batches_tracked is never exported. The script checks the names and runs onnx.checker
on each model.

The .pb files are ONNX TensorProto messages (as ONNX's own backend tests store their data), made
by onnx.numpy_helper.from_array: data_type 1 (FLOAT), dims, and the values as little-endian
float32 in raw_data.
"""

import collections
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OPSETS = (13, 17)


class LeNet(nn.Module):
    """Paddle's LeNet (oar's models.LeNet(10)); view=True flattens with x.view(x.size(0), -1)."""

    def __init__(self, view=False):
        super().__init__()
        self.view = view
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5, stride=1, padding=0),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        self.fc = nn.Sequential(nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10))

    def forward(self, x):
        x = self.features(x)
        if self.view:
            x = x.view(x.size(0), -1)
        else:
            x = torch.flatten(x, 1)
        return self.fc(x)


def tutorial_cnn():
    """The tutorial's network with oar's layer names (examples/cnn/main.go newNet)."""
    return nn.Sequential(collections.OrderedDict([
        ("conv1", nn.Conv2d(1, 20, 5, stride=1, padding=2)),
        ("relu1", nn.ReLU()),
        ("max_pool1", nn.MaxPool2d(2, 2)),
        ("conv2", nn.Conv2d(20, 20, 5, stride=1, padding=2)),
        ("relu2", nn.ReLU()),
        ("max_pool2", nn.MaxPool2d(2, 2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(980, 10)),
    ]))


def bn_net():
    """A Conv2d, then a BatchNorm2d with trained running statistics, kept apart by a ReLU."""
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        net[2].weight.uniform_(0.5, 1.5)
        net[2].bias.uniform_(-0.5, 0.5)
        net.train()
        for _ in range(3):
            net(torch.randn(8, 1, 28, 28) * 2 + 0.5)
    return net


class Mix(nn.Module):
    """Many of the operators torch emits, in one small net; see the docstring."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc1 = nn.Linear(784, 32)
        self.drop = nn.Dropout(0.5)
        self.bn2 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(48, 10)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        z = F.leaky_relu(self.conv2(y), 0.1) + y
        z = torch.cat([z, torch.sigmoid(z)], 1)  # [N,16,28,28]
        z = F.avg_pool2d(z, 2)  # [N,16,14,14]
        z = F.max_pool2d(z, 2, ceil_mode=True)  # [N,16,7,7]
        g = z.mean((2, 3))  # [N,16]
        h = self.bn2(self.drop(torch.tanh(self.fc1(z.flatten(1)))))  # [N,32]
        return F.log_softmax(self.fc2(torch.cat([h, g], 1)), 1)


def mix_net():
    """Mix with running statistics from three training-mode passes over random batches."""
    net = Mix()
    with torch.no_grad():
        net.train()
        for _ in range(3):
            net(torch.randn(8, 1, 28, 28) * 2 + 0.5)
    return net


def save_tensor(name, t):
    proto = onnx.numpy_helper.from_array(t.detach().numpy().astype(np.float32), name)
    with open(os.path.join(HERE, name + ".pb"), "wb") as f:
        f.write(proto.SerializeToString())


def export(model, name, opset, x, folded=()):
    """Exports model; folded lists the state-dict keys that constant folding replaces."""
    path = os.path.join(HERE, "%s_opset%d.onnx" % (name, opset))
    torch.onnx.export(
        model, x, path,
        export_params=True,
        do_constant_folding=True,
        opset_version=opset,
        training=torch.onnx.TrainingMode.EVAL,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    names = [i.name for i in m.graph.initializer]
    computed = sorted(n for n in names if n.startswith("onnx::"))
    got = sorted(n for n in names if not n.startswith("onnx::"))
    want = sorted(k for k in model.state_dict()
                  if not k.endswith("num_batches_tracked") and k not in folded)
    if got != want or bool(computed) != bool(folded):
        raise SystemExit("%s: initializers %s, want the state-dict keys %s" % (path, names, want))
    ops = [n.op_type for n in m.graph.node]
    print("%s: opset %d, %d nodes (%s), initializers = state-dict keys%s"
          % (os.path.basename(path), opset, len(ops), " ".join(sorted(set(ops))),
             " + " + " ".join(computed) if computed else ""))


def main():
    torch.manual_seed(13)
    x = torch.randn(4, 1, 28, 28)
    save_tensor("input", x)
    models = [
        ("lenet", LeNet(), OPSETS),
        ("lenet_view", LeNet(view=True), (13,)),
        ("cnn", tutorial_cnn(), OPSETS),
        ("bn", bn_net(), (13,)),
        ("mix", mix_net(), OPSETS),
    ]
    folded = {"mix": ("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var")}
    for name, model, opsets in models:
        model.eval()
        with torch.no_grad():
            y = model(x)
        save_tensor(name + "_output", y)
        for opset in opsets:
            export(model, name, opset, x, folded.get(name, ()))


if __name__ == "__main__":
    main()
