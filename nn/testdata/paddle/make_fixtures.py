"""Writes the .pdparams fixtures nn's Paddle tests read, exactly as Paddle 2.x's paddle.save
writes a Layer's state_dict, and checks files oar wrote as paddle.load reads them. Paddle is not
needed: its save path for a state dict is plain pickle and numpy, reproduced below from
PaddlePaddle/Paddle's python/paddle/framework/io.py and io_utils.py (the functions named in each
docstring). Run with /usr/bin/python3 from this directory:

    /usr/bin/python3 make_fixtures.py           # writes the fixtures
    /usr/bin/python3 make_fixtures.py check F   # checks F (written by nn.SavePaddle) loads as lenet()

The network is LeNet-shaped (paddle.vision.models.LeNet's layers, narrower so that the files stay
small): features = Sequential(Conv2D(1, 2, 3, padding=1), ReLU, MaxPool2D(2, 2), Conv2D(2, 4, 5),
ReLU, MaxPool2D(2, 2)); fc = Sequential(Linear(100, 12), Linear(12, 8), Linear(8, 10)). Paddle
names its parameters conv2d_0.w_0, conv2d_0.b_0, ..., linear_2.b_0 (unique_name), which
StructuredToParameterName@@ records. nn/paddle_test.go's lenet() builds the same network and
value() mirrors the values.
"""
import math
import pickle
import sys

import numpy as np

# (structured name, Paddle parameter name, shape), in Layer.state_dict() order.
LENET = [
    ("features.0.weight", "conv2d_0.w_0", (2, 1, 3, 3)),
    ("features.0.bias", "conv2d_0.b_0", (2,)),
    ("features.3.weight", "conv2d_1.w_0", (4, 2, 5, 5)),
    ("features.3.bias", "conv2d_1.b_0", (4,)),
    ("fc.0.weight", "linear_0.w_0", (100, 12)),
    ("fc.0.bias", "linear_0.b_0", (12,)),
    ("fc.1.weight", "linear_1.w_0", (12, 8)),
    ("fc.1.bias", "linear_1.b_0", (8,)),
    ("fc.2.weight", "linear_2.w_0", (8, 10)),
    ("fc.2.bias", "linear_2.b_0", (10,)),
]


def value(k, shape, dtype=np.float32):
    """Tensor k's values: multiples of 1/64 in [-0.75, 0.75], exact in float16, 32 and 64."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    return (((i * 37 + k * 11) % 97 - 48) / 64.0).astype(dtype).reshape(shape)


def lenet(dtype=np.float32):
    """The state dict as paddle.save sees it: key -> (Tensor.name, np.array(Tensor))."""
    return {key: (name, value(k, shape, dtype)) for k, (key, name, shape) in enumerate(LENET)}


def build_saved_state_dict(state_dict):
    """io.py _build_saved_state_dict: arrays by structured key, then the name table."""
    save_dict = {}
    name_table = {}
    for key, (name, value) in state_dict.items():
        save_dict[key] = value  # np.array(value.cpu())
        name_table[key] = name  # value.name
    save_dict["StructuredToParameterName@@"] = name_table
    return save_dict


def unpack_saved_dict(saved_obj, protocol, max_bytes=2**30 - 1):
    """io_utils.py _unpack_saved_dict. max_bytes is 2**30 - 1 in Paddle; the split fixture
    lowers it so that a small array is split the same way a > 1 GiB one is."""
    temp_saved_obj = {}
    unpack_infor = {}
    # When pickle protocol=2 or protocol=3 the serialized object cannot be larger than 4G.
    if 1 < protocol < 4:
        if isinstance(saved_obj, dict):
            for key, value in saved_obj.items():
                if isinstance(value, np.ndarray):
                    MAX_NUMBER_OF_ELEMENT = int(max_bytes / value.dtype.itemsize)
                    num_element = np.prod(value.shape)
                    if num_element > MAX_NUMBER_OF_ELEMENT:
                        unpack_infor[key] = {}
                        unpack_infor[key]["OriginShape"] = value.shape
                        unpack_infor[key]["slices"] = []
                        value = value.flatten()
                        for i in range(int(math.ceil(num_element * 1.0 / MAX_NUMBER_OF_ELEMENT))):
                            part_name = key + "@@." + str(i)
                            unpack_infor[key]["slices"].append(part_name)
                            temp_saved_obj[part_name] = value[
                                i * MAX_NUMBER_OF_ELEMENT : MAX_NUMBER_OF_ELEMENT * (i + 1)
                            ]

    if unpack_infor:
        for key, value in unpack_infor.items():
            if key in saved_obj:
                saved_obj.pop(key)
                for part in value["slices"]:
                    saved_obj[part] = temp_saved_obj[part]
        saved_obj["UnpackBigParamInfor@@"] = unpack_infor
    return saved_obj


def legacy_save(state_dict, path, protocol=4, max_bytes=2**30 - 1):
    """io.py save -> _legacy_save for a dygraph state dict (protocol 2 to 4, default 4)."""
    if protocol < 2 or protocol > 4:
        raise ValueError(f"Expected 1<'protocol'<5, but received protocol={protocol}")
    saved_obj = build_saved_state_dict(state_dict)
    saved_obj = unpack_saved_dict(saved_obj, protocol, max_bytes)
    with open(path, "wb") as f:
        pickle.dump(saved_obj, f, protocol=protocol)


def pack_loaded_dict(load_obj):
    """io_utils.py _pack_loaded_dict."""
    if isinstance(load_obj, dict):
        unpack_info = "UnpackBigParamInfor@@"
        if unpack_info in load_obj:
            removes = []
            for key, value in load_obj[unpack_info].items():
                slices = [load_obj[part] for part in value["slices"]]
                load_obj[key] = np.concatenate(slices).reshape(value["OriginShape"])
                removes += value["slices"]
            for key in removes:
                load_obj.pop(key)
            load_obj.pop(unpack_info)
    return load_obj


def paddle_load(path):
    """io.py load(path, return_numpy=True, keep_name_table=True) of a paddle.save'd state dict."""
    with open(path, "rb") as f:
        load_result = pickle.load(f, encoding="latin1")
    return pack_loaded_dict(load_result)


def check(path, names=None):
    """Checks that path loads as lenet() (every array bit for bit, float32, C order) with the
    name table names (default: every key named by itself, nn.SavePaddle's default)."""
    got = paddle_load(path)
    table = got.pop("StructuredToParameterName@@")
    want = lenet()
    # (after joining split arrays, paddle.load's dict has them last)
    assert sorted(got.keys()) == sorted(want.keys()), (list(got), list(want))
    for key, (_, arr) in want.items():
        g = got[key]
        assert isinstance(g, np.ndarray), (key, type(g))
        assert g.dtype == np.float32 and g.shape == arr.shape, (key, g.dtype, g.shape)
        assert g.tobytes() == arr.tobytes(), key
    want_names = {key: (names or {}).get(key, key) for key in want}
    assert table == want_names, (table, want_names)
    print("ok")


def main():
    sd = lenet()
    legacy_save(sd, "lenet_p4.pdparams", protocol=4)  # paddle.save's default
    legacy_save(sd, "lenet_p2.pdparams", protocol=2)
    # Protocol 2 with arrays of more than 64 float32 elements split, as paddle.save splits arrays
    # of more than (2**30 - 1) // 4 elements: fc.0.weight (1200) into 19 slices, features.3.weight
    # (200) into 4, fc.1.weight (96) and fc.2.weight (80) into 2.
    legacy_save(sd, "lenet_p2_split.pdparams", protocol=2, max_bytes=4 * 64 + 3)
    # float16 and float64 parameters (a model saved after .astype()), protocol 4.
    mixed = {key: (name, arr.astype(np.float16 if i % 2 == 0 else np.float64)) for i, (key, (name, arr)) in enumerate(sd.items())}
    legacy_save(mixed, "lenet_f16_f64.pdparams", protocol=4)
    for name in ["lenet_p4", "lenet_p2", "lenet_p2_split"]:
        names = {key: pname for key, pname, _ in LENET}
        check(name + ".pdparams", names)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        main()
