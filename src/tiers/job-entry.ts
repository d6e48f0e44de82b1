// The entrypoint of a child process or VM (bundled as dist/job-runner.js): reads
// one WireJob as JSON on stdin, runs it with the same sandbox code as every other
// tier, and writes newline-delimited JSON on stdout: {"type":"ready"} at once (the
// handshake: a parent that never sees it knows the process or container never
// started), {"type":"started"} once the job is compiled (the parent starts the
// guest's clock then), then the result.
import { CapsuleError, messageOf } from '../errors.js';
import { execute } from '../sandbox/execute.js';
import type { JobResult, WireJob, WireMessage } from '../sandbox/job.js';
import { fromWire } from '../sandbox/wire.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(message: WireMessage): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(message)}\n`, () => resolve()));
}

function failure(e: unknown): JobResult {
  const error = e instanceof CapsuleError ? e.toData() : { code: 'INTERNAL' as const, message: `job runner: ${messageOf(e)}` };
  return { outcome: { ok: false, error }, stdout: '', stderr: '', truncated: false, logs: [], denials: [], memoryBytes: 0 };
}

/**
 * This process runs with --wasm-max-mem-pages (the call's memory limit); V8 reports
 * a memory that cannot have its pages as a RangeError, which execute() sees as a
 * generic failure. Name it for what it is.
 */
const WASM_OOM = /Out of memory: Cannot allocate Wasm memory|Maximum memory size exceeded/;

function namedMemoryLimit(r: JobResult): JobResult {
  if (r.outcome.ok || r.outcome.error.code !== 'TRAP' || !WASM_OOM.test(r.outcome.error.message)) return r;
  const message = `guest needs more linear memory than its limit allows: ${r.outcome.error.message}`;
  return { ...r, outcome: { ok: false, error: { code: 'MEMORY_LIMIT', message } } };
}

async function main(): Promise<void> {
  await send({ type: 'ready' });
  let result: JobResult;
  try {
    const wire = JSON.parse(await readStdin()) as WireJob;
    const job = await fromWire(wire);
    await send({ type: 'started' });
    result = namedMemoryLimit(await execute(job));
  } catch (e) {
    result = failure(e);
  }
  await send({ type: 'result', result });
}

await main();
