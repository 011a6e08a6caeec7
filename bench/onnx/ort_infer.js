// ort_infer.js: ONNX Runtime's inference speed on a model file, for bench/onnx.
//
//   node bench/onnx/ort_infer.js MODEL.onnx SAMPLES BATCHES INPUT.f32
//
// Runs the model (CPU, intraOpNumThreads 2, interOpNumThreads 1, graph optimizations on) over
// SAMPLES inputs read from INPUT.f32 (little-endian float32, SAMPLES*C*H*W values; the per-sample
// shape C,H,W comes in $SAMPLE_SHAPE) at each batch size of BATCHES
// ("100,250,500,1000"): one warm-up pass, then the best of 2 timed passes. It prints one line per
// batch size: "batch B: N samples/s". onnxruntime-node is found in onnx/testdata/ort/node_modules
// (cd onnx/testdata/ort && npm ci --ignore-scripts) or in $ORT_NODE_MODULES.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.env.ORT_NODE_MODULES ||
  path.join(__dirname, '..', '..', 'onnx', 'testdata', 'ort', 'node_modules');
const ort = require(path.join(modules, 'onnxruntime-node'));

async function main() {
  const [modelPath, samplesArg, batchesArg, inputPath] = process.argv.slice(2);
  if (!inputPath) {
    throw new Error('usage: node ort_infer.js MODEL.onnx SAMPLES BATCHES INPUT.f32');
  }
  const samples = parseInt(samplesArg, 10);
  const batches = batchesArg.split(',').map((s) => parseInt(s, 10));
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const buf = fs.readFileSync(inputPath);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const per = all.length / samples;
  if (!Number.isInteger(per)) {
    throw new Error(`${inputPath}: ${all.length} floats are not ${samples} samples`);
  }
  const inName = session.inputNames[0];
  // The per-sample shape ([C, H, W] for NCHW models), which bench/onnx passes in the environment.
  const sampleShape = (process.env.SAMPLE_SHAPE || '').split(',').filter(Boolean).map(Number);
  if (sampleShape.reduce((a, b) => a * b, 1) !== per) {
    throw new Error(`SAMPLE_SHAPE ${sampleShape} does not hold ${per} values per sample`);
  }
  const pass = async (batch) => {
    for (let s = 0; s < samples; s += batch) {
      const n = Math.min(batch, samples - s);
      const x = new ort.Tensor('float32', all.subarray(s * per, (s + n) * per), [n, ...sampleShape]);
      await session.run({ [inName]: x });
    }
  };
  for (const batch of batches) {
    await pass(batch); // warm-up
    let best = Infinity;
    for (let r = 0; r < 2; r++) {
      const t0 = process.hrtime.bigint();
      await pass(batch);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(`batch ${batch}: ${(samples / best).toFixed(0)} samples/s`);
  }
}

main().catch((e) => { console.error(`ort_infer.js: ${e.message}`); process.exit(1); });
