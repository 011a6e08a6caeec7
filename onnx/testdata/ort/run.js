// run.js runs ONNX models with ONNX Runtime (onnxruntime-node, pinned in package.json), the outside
// reference of oar's ONNX tests.
//
// Usage: node run.js jobs.json > results.json
//
// jobs.json is an array of jobs, {"model": "path.onnx", "inputs": {"name": {"dims": [...],
// "data": [...]}}}, float32 inputs with their data flattened in row-major order. The output is an
// array with, for each job, {"outputs": {"name": {"dims": [...], "data": [...]}}}: every output of
// the model, as float32 values printed exactly. Sessions use intraOpNumThreads 2 (the test
// machine's cores) and one inter-op thread. Any error exits with status 1 and a message on stderr.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

async function main() {
  if (process.argv.length !== 3) {
    throw new Error('usage: node run.js jobs.json');
  }
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(job.model, {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      executionProviders: ['cpu'],
    });
    const feeds = {};
    for (const [name, t] of Object.entries(job.inputs)) {
      feeds[name] = new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
    }
    const out = await session.run(feeds);
    const outputs = {};
    for (const name of session.outputNames) {
      outputs[name] = { dims: Array.from(out[name].dims), data: Array.from(out[name].data) };
    }
    results.push({ outputs });
    await session.release();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(`run.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
