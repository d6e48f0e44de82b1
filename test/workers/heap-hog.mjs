// A pool worker (the protocol of src/tiers/worker-protocol.ts) that exhausts its JS
// heap on its first call, to prove the worker tier maps a worker killed for
// out-of-memory to MEMORY_LIMIT and replaces it.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  const keep = [];
  for (;;) keep.push(new Array(1 << 16).fill({ x: keep.length }));
});
parentPort.postMessage({ type: 'ready' });
