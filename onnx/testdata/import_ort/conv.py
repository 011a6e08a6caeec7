import json, os, numpy as np, onnx
from onnx import numpy_helper
for t in sorted(x for x in os.listdir('.') if x.startswith('test_ort_')):
    d = t
    for k in range(2):
        p = os.path.join(d, f'out_{k}.json')
        if not os.path.exists(p): continue
        o = json.load(open(p))
        dt = np.float32 if o['type'] == 'float32' else np.int64
        a = np.array(o['data'], dtype=dt).reshape(o['dims'])
        onnx.save_tensor(numpy_helper.from_array(a), os.path.join(d, 'test_data_set_0', f'output_{k}.pb'))
        os.remove(p)
    os.remove(os.path.join(d, 'x.raw'))
    os.remove(os.path.join(d, 'meta.json'))
