# Pooling and convolution cases where ONNX's rules are subtle (ceil_mode with padding, dilations,
# auto_pad, Indices with storage_order), with ONNX Runtime's outputs as the reference. Regenerate
# (Debian's python3 with onnx and numpy; ONNX Runtime for node):
#   /usr/bin/python3 gen.py && node run.js && /usr/bin/python3 conv.py
import onnx, numpy as np, os, json
from onnx import helper, TensorProto, numpy_helper
rng = np.random.default_rng(7)
cases = {
 "maxpool_2d_ceil_pads": ("MaxPool", [1,2,5,5], dict(kernel_shape=[2,2], strides=[2,2], pads=[1,1,1,1], ceil_mode=1), 2),
 "maxpool_2d_ceil_pads_indices": ("MaxPool", [1,2,5,5], dict(kernel_shape=[2,2], strides=[2,2], pads=[1,1,1,1], ceil_mode=1), 2),
 "maxpool_2d_indices_storage_order": ("MaxPool", [2,2,4,5], dict(kernel_shape=[2,3], strides=[1,2], storage_order=1), 2),
 "maxpool_2d_ceil_dilations": ("MaxPool", [1,1,7,7], dict(kernel_shape=[2,2], strides=[2,2], dilations=[2,2], ceil_mode=1), 1),
 "maxpool_1d_ceil_pads": ("MaxPool", [2,3,8], dict(kernel_shape=[3], strides=[2], pads=[1,1], ceil_mode=1), 1),
 "averagepool_2d_ceil_pads_include": ("AveragePool", [1,2,6,6], dict(kernel_shape=[3,3], strides=[2,2], pads=[1,1,1,1], ceil_mode=1, count_include_pad=1), 1),
 "averagepool_2d_ceil_pads_exclude": ("AveragePool", [1,2,6,6], dict(kernel_shape=[3,3], strides=[2,2], pads=[1,1,1,1], ceil_mode=1), 1),
 "averagepool_3d_pads": ("AveragePool", [1,1,4,5,3], dict(kernel_shape=[2,3,2], strides=[1,2,1], pads=[1,1,0,0,1,1]), 1),
 "maxpool_2d_same_lower_strides": ("MaxPool", [1,1,5,6], dict(kernel_shape=[3,2], strides=[2,2], auto_pad="SAME_LOWER"), 1),
 "averagepool_2d_same_upper_strides": ("AveragePool", [1,1,5,6], dict(kernel_shape=[3,2], strides=[2,2], auto_pad="SAME_UPPER"), 1),
 "conv_1d_same_lower_strides": ("Conv", [2,2,7], dict(strides=[2], auto_pad="SAME_LOWER"), 1),
 "conv_2d_groups_dilations_asym": ("Conv", [1,4,7,6], dict(group=2, dilations=[2,1], pads=[1,0,2,1], strides=[1,2]), 1),
}
for name, (op, shape, attrs, nout) in cases.items():
    d = "test_ort_"+name; os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    x = rng.standard_normal(shape).astype(np.float32)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    ins = ["x"]; feeds = {"x": x}
    inits = []
    if op == "Conv":
        c = shape[1]; g = attrs.get("group", 1)
        w = rng.standard_normal([4, c//g, 3] + ([3] if len(shape)==4 else [])).astype(np.float32) if len(shape)==4 else rng.standard_normal([3, c, 3]).astype(np.float32)
        b = rng.standard_normal([w.shape[0]]).astype(np.float32)
        inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
        ins += ["w", "b"]
    outs = ["y", "i"][:nout]
    node = helper.make_node(op, ins, outs, **attrs)
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["d%d" % k for k in range(len(shape))])]
    if nout == 2: outputs.append(helper.make_tensor_value_info("i", TensorProto.INT64, ["d%d" % k for k in range(len(shape))]))
    graph = helper.make_graph([node], name, inputs, outputs, initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="oar-import-test")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "model.onnx"))
    onnx.save_tensor(numpy_helper.from_array(x, "x"), os.path.join(d, "test_data_set_0", "input_0.pb"))
    x.tofile(os.path.join(d, "x.raw")); json.dump({"shape": shape, "nout": nout}, open(os.path.join(d, "meta.json"), "w"))
