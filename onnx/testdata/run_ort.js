// Runs an ONNX model in ONNX Runtime (the onnxruntime-node npm package) for
// the Go tests of package onnx.
//
//   node run_ort.js JOB.json
//
// JOB.json: {"model": "m.onnx", "runs": [{"input": "x.bin", "dims": [1, 3, 32, 32],
// "output": "y.bin"}, ...]}. Inputs and outputs are raw little-endian float32
// in row-major order; the model's first input and first output are used. It
// prints {"ort": VERSION, "runs": [{"dims": [...]}, ...]} on stdout.
//
// onnxruntime-node is looked up in $DOGGOGAN_ORT_DIR, else in ./ort next to
// this script (npm install --prefix onnx/testdata/ort --ignore-scripts
// onnxruntime-node).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const dir = process.env.DOGGOGAN_ORT_DIR || path.join(__dirname, 'ort');
  const ort = require(path.join(path.resolve(dir), 'node_modules', 'onnxruntime-node'));
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const results = [];
  for (const run of job.runs) {
    const buf = fs.readFileSync(run.input);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const feeds = {};
    feeds[inName] = new ort.Tensor('float32', data, run.dims);
    const out = (await session.run(feeds))[outName];
    const f32 = Float32Array.from(out.data);
    fs.writeFileSync(run.output, Buffer.from(f32.buffer));
    results.push({ dims: out.dims });
  }
  process.stdout.write(JSON.stringify({ ort: ort.env.versions.node, runs: results }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
