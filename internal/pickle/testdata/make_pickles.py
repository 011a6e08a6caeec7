"""Writes the pickles internal/pickle's tests read: one value at protocols 0 to 5, and pickles
that must be refused. Run with /usr/bin/python3 (pickle and numpy only) from this directory:

    /usr/bin/python3 make_pickles.py

The value is mirrored by want() in decode_test.go; change both together.
"""
import collections
import pickle

import numpy as np


def value():
    return {
        "none": None,
        "true": True,
        "false": False,
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, -(2**31), 2**40, -(2**62), 2**63 - 1],
        "float": 1.5,
        "neg_float": -2.25e-300,
        "str": "héllo ☃",
        "bytes": b"\x00\x01\xff",
        "empty_bytes": b"",
        "bytearray": bytearray(b"ab"),
        "tuple": (1, "two", (3.0,)),
        "long_tuple": (1, 2, 3, 4, 5),
        "set": {7},
        "frozenset": frozenset([8]),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "nested": {"k": [1, {"z": None}]},
        "int_key": {1: "one"},
        "f4": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "f8": np.array([1.0 / 3, -0.0, np.inf], dtype=np.float64),
        "f2": np.array([0.5, -65504.0, 6e-08], dtype=np.float16),
        "i8": np.array([[-3], [2**24]], dtype=np.int64),
        "u1": np.array([0, 200], dtype=np.uint8),
        "b1": np.array([True, False]),
        "be_f4": np.array([1.25, -3.0], dtype=">f4"),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "zero_d": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "scalar": np.float32(0.75),
        "shared": None,  # replaced below by an alias of "f4"
    }


def main():
    for proto in range(6):
        v = value()
        v["shared"] = v["f4"]  # written once, then fetched from the memo
        with open(f"value_p{proto}.pkl", "wb") as f:
            pickle.dump(v, f, protocol=proto)

    # Refused: a global outside the whitelist (what an attacker's pickle calls).
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("true",))

    with open("evil_global.pkl", "wb") as f:
        pickle.dump({"x": Evil()}, f, protocol=2)
    # Refused: an object array (its data is a list of Python objects).
    with open("object_array.pkl", "wb") as f:
        pickle.dump(np.array([1, "a"], dtype=object), f, protocol=4)


if __name__ == "__main__":
    main()
