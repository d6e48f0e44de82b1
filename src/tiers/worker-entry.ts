// A pool worker (worker.ts): runs each call it is given in a fresh instance and
// reports it. It holds no state between calls except the glue module cache (code,
// not data) and at most one spare instance that no call has run in (sandbox/spare.ts).
// It waits for calls on its event loop (never parked in Atomics.wait), so it can
// make that spare after answering a call, off the next call's path.
import { parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import { execute, importedGlueModules, isNewGlue, loadGlue } from '../sandbox/execute.js';
import { glueHash } from '../sandbox/glue-id.js';
import { Lru } from '../lru.js';
import { makeSpare, type SpareInstance, writtenPages } from '../sandbox/spare.js';
import { spareKey } from '../sandbox/spare-key.js';
import type { Job } from '../sandbox/job.js';
import { DEFAULT_GLUE_MODULES, RECYCLE_EXIT_CODE } from './worker.js';
import { WorkerModules } from './held-modules.js';
import { type CallMessage, callClock, epochNow, type WorkerMessage, type WorkerStart, WorkerSlot } from './worker-protocol.js';

const data = workerData as WorkerStart;
const glueModules = data.glueModules ?? DEFAULT_GLUE_MODULES;
const slot = new WorkerSlot(data.slot);
const port = parentPort;
if (!port) throw new Error('capsule: worker-entry runs only as a pool worker');
const send = (m: WorkerMessage) => port.postMessage(m);
/** A call the pool has sent and this thread has not taken yet (only calls come this way). */
const queued = () => receiveMessageOnPort(port)?.message as CallMessage | undefined;
let spare: SpareInstance | undefined;
/** By spare key, the pages a call of that component wrote: its spares fault them in (sandbox/spare.ts). */
const written = new Lru<string, number[]>(64);
/** The compiled modules the main side has sent this worker, as many as it says (held-modules.ts). */
const held = new WorkerModules();
/** A call is running (between its awaits too): no spare is made then, so no call waits for one. */
let busy = false;

// A new worker (first start, or the replacement of one killed on a timeout) loads
// the glue of every component the runtime has used before it reports ready, so
// its first call pays no module load.
await Promise.all((data.glues ?? []).map((g) => loadGlue(g.url, g.sha256).catch(() => undefined)));
port.on('message', (m: CallMessage) => void run(m));
send({ type: 'ready' });

async function run({ call, job: sent, modules, spares, sentAt }: CallMessage): Promise<void> {
  let job: Job;
  try {
    job = { ...sent, modules: held.resolve(modules, sent) };
  } catch (e) {
    sent.hostPort?.port.close();
    send({ type: 'failed', call, message: messageOf(e) });
    return;
  }
  // Imported modules are never freed: a worker that would go over its bound
  // ends itself before the call starts (no guest code has run, so the pool runs
  // the call again in another worker) and a fresh one is started.
  if (!job.directAbi && importedGlueModules() >= glueModules && isNewGlue(job.glueUrl, glueHash(job))) {
    process.exit(RECYCLE_EXIT_CODE);
  }
  busy = true;
  const clock = callClock(sentAt, epochNow());
  const startedAt = clock - performance.timeOrigin;
  slot.markStarted(call, clock);
  // A spare serves one call at most, and only a call of its own component.
  const key = spareKey(job);
  const mine = spare?.key === key ? spare : undefined;
  spare = undefined;
  try {
    // The job is this worker's own copy: the call's interrupt and start go on it.
    job.interrupt = slot.interrupt;
    job.startedAt = startedAt;
    const result = await execute(job, mine);
    send({ type: 'result', call, result: { ...result, worker: threadId, ...(mine?.taken ? { spare: true as const } : {}) } });
  } catch (e) {
    send({ type: 'failed', call, message: messageOf(e) });
  } finally {
    job.hostPort?.port.close();
    busy = false;
  }
  // Right after the result is posted (off that call's path), not in a later turn of the
  // event loop: the next call's message can be delivered before such a turn comes.
  if (spares && key) prepare(job, key, mine?.taken ? mine.memory : undefined);
}

/** Makes the next call's instance now that this call is answered; `used`: the memory that call ran in, if its spare's. */
function prepare(job: Job, key: string, used: WebAssembly.Memory | undefined): void {
  if (busy) return;
  // A call sent while the last one was being answered, for another component, goes
  // first: it would otherwise wait for a spare it cannot use (measured: it started
  // 0.06-0.16 ms late, the spare's making; a TIMEOUT's overshoot counts it). A call of
  // the same component takes the spare made now, which is the instance it would make
  // itself: so whether a spare serves it does not depend on how the threads were
  // scheduled (under load the main thread often answers before this line runs).
  const next = queued();
  if (next && spareKey(next.job) !== key) {
    void run(next);
    return;
  }
  slot.sparing = true;
  // Once per component: the pages its call wrote, which its spares fault in ahead (sandbox/spare.ts).
  if (used && !written.has(key)) written.set(key, writtenPages(used));
  const made = makeSpare(job, written.get(key));
  slot.sparing = false;
  if (typeof made === 'object') spare = made;
  else if (made) send({ type: 'no-spares', key, overran: made === 'overran' });
  if (next) void run(next);
}
