// ort_mnist.js: ONNX Runtime's inference on an MNIST model, under bench/mnist's and
// bench/torch_mnist.py's rules, for bench/compare.sh.
//
//   MNIST_DIR=DIR node bench/ort_mnist.js MODEL.onnx
//
// MODEL.onnx takes [N,1,28,28] float32 images with a dynamic N (torch_mnist.py --onnx writes
// one). The 10k test images (DIR/t10k-images-idx3-ubyte.gz, labels beside them) are converted to
// (x-127.5)/127.5 float32 before timing. Session: CPU, intraOpNumThreads 2, interOpNumThreads 1,
// sequential execution, all graph optimizations. At each batch size of 100, 250, 500 and 1000:
// one untimed warm-up pass, then two timed passes (arg-max and the count of correct answers
// inside the timing); the best pass gives the samples/s and its batch size, the last pass the
// accuracy. Batch-1 latency is the median time of 1,000 single-image session.run calls after 100
// untimed ones. It prints
//
//   onnxruntime-node V, node V, CPU, intraOpNumThreads 2, model MODEL.onnx
//   infer N samples/s, test accuracy X, (inference at batch B), batch-1 latency X ms
//
// onnxruntime-node is found in onnx/testdata/ort/node_modules (cd onnx/testdata/ort && npm ci
// --ignore-scripts) or in $ORT_NODE_MODULES.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const modules = process.env.ORT_NODE_MODULES ||
  path.join(__dirname, '..', 'onnx', 'testdata', 'ort', 'node_modules');
const ort = require(path.join(modules, 'onnxruntime-node'));
const ortVersion = require(path.join(modules, 'onnxruntime-node', 'package.json')).version;

const intraOpThreads = 2;
const batches = [100, 250, 500, 1000];

// readIDX returns an IDX file's dimensions and its uint8 payload.
function readIDX(file) {
  const raw = zlib.gunzipSync(fs.readFileSync(file));
  if (raw[2] !== 0x08) {
    throw new Error(`${file}: not an IDX file of uint8`);
  }
  const ndim = raw[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) {
    dims.push(raw.readUInt32BE(4 + 4 * i));
  }
  return { dims, data: raw.subarray(4 + 4 * ndim) };
}

async function main() {
  const modelPath = process.argv[2];
  const dir = process.env.MNIST_DIR;
  if (!modelPath || !dir) {
    throw new Error('usage: MNIST_DIR=DIR node bench/ort_mnist.js MODEL.onnx');
  }
  const images = readIDX(path.join(dir, 't10k-images-idx3-ubyte.gz'));
  const labels = readIDX(path.join(dir, 't10k-labels-idx1-ubyte.gz')).data;
  const n = images.dims[0];
  const per = images.dims[1] * images.dims[2];
  if (per !== 28 * 28 || labels.length !== n) {
    throw new Error(`${dir}: images ${images.dims}, ${labels.length} labels`);
  }
  // float32 arithmetic as numpy's (x - 127.5) / 127.5 on float32: a double quotient of two
  // float32 values rounded once to float32 is the float32 quotient.
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i++) {
    x[i] = (images.data[i] - 127.5) / 127.5;
  }

  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: intraOpThreads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  console.log(`onnxruntime-node ${ortVersion}, node ${process.version}, CPU, ` +
    `intraOpNumThreads ${intraOpThreads}, model ${modelPath}`);

  // feed holds images s..s+k-1 (a view of x, as torch's and oar's batches are).
  const feed = (s, k) => ({
    [inName]: new ort.Tensor('float32', x.subarray(s * per, (s + k) * per), [k, 1, 28, 28]),
  });
  // pass runs the test set at batch size batch and returns the number of correct arg-maxes.
  const pass = async (batch) => {
    let correct = 0;
    for (let s = 0; s < n; s += batch) {
      const k = Math.min(batch, n - s);
      const out = (await session.run(feed(s, k)))[outName];
      const classes = out.dims[1];
      const logits = out.data;
      for (let i = 0; i < k; i++) {
        let arg = 0;
        for (let c = 1; c < classes; c++) {
          if (logits[i * classes + c] > logits[i * classes + arg]) {
            arg = c;
          }
        }
        if (arg === labels[s + i]) {
          correct++;
        }
      }
    }
    return correct;
  };
  let best = Infinity;
  let bestBatch = 0;
  let correct = 0;
  for (const batch of batches) {
    await pass(batch); // warm-up
    for (let r = 0; r < 2; r++) {
      const t0 = process.hrtime.bigint();
      correct = await pass(batch);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (dt < best) {
        best = dt;
        bestBatch = batch;
      }
    }
  }
  const warmup = 100;
  const calls = 1000;
  const times = [];
  for (let i = 0; i < warmup + calls; i++) {
    const f = feed(i % n, 1);
    const t0 = process.hrtime.bigint();
    await session.run(f);
    if (i >= warmup) {
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  const latency = times[calls >> 1]; // the upper median, as bench/mnist and torch_mnist.py
  console.log(`infer ${(n / best).toFixed(0)} samples/s, test accuracy ${(correct / n).toFixed(4)}, ` +
    `(inference at batch ${bestBatch}), batch-1 latency ${latency.toFixed(3)} ms`);
}

main().catch((e) => { console.error(`ort_mnist.js: ${e.message}`); process.exit(1); });
