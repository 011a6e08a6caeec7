const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
const fs = require('fs'), path = require('path');
(async () => {
  for (const t of fs.readdirSync('.').filter(t => t.startsWith('test_ort_'))) {
    const d = t;
    const meta = JSON.parse(fs.readFileSync(path.join(d, 'meta.json')));
    const buf = fs.readFileSync(path.join(d, 'x.raw'));
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const s = await ort.InferenceSession.create(path.join(d, 'model.onnx'));
    const r = await s.run({x: new ort.Tensor('float32', Float32Array.from(x), meta.shape)});
    for (const [k, name] of [[0, 'y'], [1, 'i']].slice(0, meta.nout)) {
      const o = r[name];
      fs.writeFileSync(path.join(d, `out_${k}.json`), JSON.stringify({dims: o.dims, type: o.type, data: Array.from(o.data, v => typeof v === 'bigint' ? Number(v) : v)}));
    }
    console.log(t, r.y.dims);
  }
})();
