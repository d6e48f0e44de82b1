// The entrypoint of a child process or VM (bundled as dist/job-runner.js): reads
// one WireJob as a JSON line on stdin, runs it with the same sandbox code as every other
// tier, and writes newline-delimited JSON on stdout: {"type":"ready"} at once (the
// handshake: a parent that never sees it knows the process or container never
// started), {"type":"started"} once the job is compiled (the parent starts the
// guest's clock then), then the result. With netVia `parent`, stdin stays open:
// each {"type":"fetch"} line the child writes is answered by one line from the parent.
import { CapsuleError, messageOf } from '../errors.js';
import { execute } from '../sandbox/execute.js';
import type { JobResult, WireJob, WireMessage } from '../sandbox/job.js';
import { childFetch } from '../sandbox/net/relay.js';
import { fromWire } from '../sandbox/wire.js';
import { StdinLines, writeLine } from './job-channel.js';

function send(message: WireMessage): void {
  writeLine(`${JSON.stringify(message)}\n`);
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
  send({ type: 'ready' });
  let result: JobResult;
  try {
    const stdin = new StdinLines();
    const wire = JSON.parse(stdin.next() ?? '') as WireJob;
    const job = await fromWire(wire);
    // No network of its own here: each HTTP request goes to the parent (sandbox/net/relay.ts).
    if (wire.netVia === 'parent')
      job.fetch = childFetch(
        (line) => writeLine(line),
        () => stdin.next(),
      );
    send({ type: 'started' });
    result = namedMemoryLimit(await execute(job));
  } catch (e) {
    result = failure(e);
  }
  send({ type: 'result', result });
}

await main();
