// Runs one Job in another process that speaks the job protocol (dist/job-runner.js,
// directly, under bubblewrap or inside a container): the WireJob goes in on stdin,
// newline-delimited messages come back on stdout. The guest's clock starts at the
// child's "started" message; starting has its own bound. Either running out kills
// the whole process group.
import { CapsuleError, messageOf } from '../errors.js';
import type { Job, JobResult, WireJob, WireMessage } from '../sandbox/job.js';
import { Relay } from '../sandbox/net/relay.js';
import { describeExit, type Exit, spawnGroup } from './exec.js';
import { CallDeadline } from './deadline.js';

export interface ChildJob {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  wire: WireJob;
  /** How long the child may take to start and compile before the guest runs. */
  startTimeoutMs: number;
  /** How the child is named in messages: `its child process`, `container capsule-x-1`. */
  what: string;
  /**
   * The error for a child that ended before its entrypoint said `ready` (a container
   * CLI that could not start the container): not the guest's failure. Without it, such
   * an exit is described like any other.
   */
  startFailure?: (exit: Exit) => CapsuleError;
  /**
   * The child has no network: its HTTP requests come over the job channel and are sent
   * here, under the call's net grant (sandbox/net/relay.ts). stdin stays open for the answers.
   */
  netViaParent?: boolean;
}

/** Room for the result's JSON escaping and logs beyond the guest's capped output. */
const PROTOCOL_SLACK_BYTES = 16 * 1024 * 1024;

export async function runChildJob(job: Job, c: ChildJob, signal?: AbortSignal): Promise<JobResult> {
  if (signal?.aborted) throw aborted(job);
  let result: JobResult | undefined;
  let ready = false;
  /** The first stdout line before the `ready` handshake, if any (a CLI's own words, or not the job runner). */
  let beforeReady: string | undefined;
  let fetching = false;
  let brokeProtocol = false;
  // Cancels a relayed request still in flight once the child is gone.
  const childGone = new AbortController();
  const relay = c.netViaParent
    ? new Relay({
        grants: job.grants,
        connections: job.limits.connections ?? Number.POSITIVE_INFINITY,
        timeLeftMs: () => job.limits.timeoutMs - deadline.elapsedMs(),
        signal: childGone.signal,
      })
    : undefined;
  const child = spawnGroup(c.command, c.args, {
    input: relay ? `${JSON.stringify({ ...c.wire, netVia: 'parent' })}\n` : JSON.stringify(c.wire),
    keepInputOpen: relay !== undefined,
    env: c.env ?? {},
    maxStdoutBytes: 4 * job.limits.outputBytes + PROTOCOL_SLACK_BYTES,
    onLine: (line) => {
      const message = parseMessage(line);
      if (message?.type === 'ready') ready = true;
      else if (!ready) beforeReady ??= line.slice(0, 200);
      else if (message?.type === 'started') deadline.started();
      else if (message?.type === 'result') result = message.result;
      else if (message?.type === 'fetch' && relay) {
        // A child waits for each answer: a second request before the first is answered (and
        // read) is a child that no longer follows the protocol, which could otherwise have
        // the parent hold many responses at once. It is killed.
        if (fetching) {
          brokeProtocol = true;
          child.kill();
          return true;
        }
        fetching = true;
        const answered = () => {
          fetching = false;
        };
        relay.answer(message.req).then(
          (line) => child.write(line, answered),
          (e: unknown) => child.write(`${JSON.stringify({ ok: false, code: 'internal-error', message: messageOf(e) })}\n`, answered),
        );
        // A request is answered and forgotten: it is neither kept nor counted as the child's output.
        return true;
      }
      return false;
    },
  });
  const deadline = new CallDeadline(c.startTimeoutMs, job.limits.timeoutMs, () => child.kill(), signal);
  let exit: Exit;
  try {
    exit = await child.done;
  } finally {
    deadline.dispose();
    childGone.abort();
  }
  const stopped = deadline.stopped;
  if (stopped === 'aborted') throw aborted(job);
  if (brokeProtocol) {
    throw new CapsuleError('INTERNAL', `${job.capabilityId}: ${c.what} sent an HTTP request before its last one was answered, and was killed`);
  }
  // A result that arrived just before the kill is still the guest's answer.
  if (result) return result;
  if (stopped === 'timeout') {
    throw new CapsuleError('TIMEOUT', `${job.capabilityId}: no result within ${job.limits.timeoutMs} ms; ${c.what} was killed`);
  }
  if (stopped === 'start-timeout') {
    throw new CapsuleError('TIMEOUT', `${job.capabilityId}: ${c.what} did not start the job within ${c.startTimeoutMs} ms and was killed`);
  }
  // Exit 0 without the handshake: whatever ran was not capsule's job runner (a wrong image).
  if (c.startFailure && !ready && exit.code === 0) {
    const said = beforeReady === undefined ? 'nothing' : JSON.stringify(beforeReady);
    throw new CapsuleError(
      'INTERNAL',
      `${job.capabilityId}: ${c.what} does not speak the job protocol: it exited 0 without its handshake, having written ${said}`,
    );
  }
  if (c.startFailure && !ready && !exit.overflow) throw c.startFailure(exit);
  throw childFailure(job.capabilityId, job.limits.memoryBytes, c.what, exit);
}

function parseMessage(line: string): WireMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as WireMessage;
  } catch {
    return undefined;
  }
}

function aborted(job: Job): CapsuleError {
  return new CapsuleError('ABORTED', `${job.capabilityId}: the caller aborted the call`);
}

/** V8's last words when a heap limit (--max-old-space-size) is hit. */
const HEAP_OOM = /JavaScript heap out of memory|Reached heap limit|Allocation failed - process out of memory/;

/** Why a child (`what`) ended without a result, as the error the caller sees. */
export function childFailure(id: string, memoryBytes: number, what: string, exit: Exit): CapsuleError {
  if (exit.overflow) {
    return new CapsuleError('OUTPUT_TOO_LARGE', `${id}: ${what} wrote more than the job protocol allows`);
  }
  if (HEAP_OOM.test(exit.stderr)) {
    return new CapsuleError('MEMORY_LIMIT', `${id}: ${what} ran out of memory (heap limit for a ${memoryBytes}-byte memory limit)`);
  }
  if (exit.signal === 'SIGKILL' || exit.code === 137) {
    return new CapsuleError('MEMORY_LIMIT', `${id}: ${what} was killed (SIGKILL), most likely by the out-of-memory killer`);
  }
  return new CapsuleError('INTERNAL', `${id}: ${describeExit(what, exit)}`);
}
