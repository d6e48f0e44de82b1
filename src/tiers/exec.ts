// Child processes with bounds: each one leads its own process group so a kill
// reaches everything it started (SIGKILL to the group), output is capped, and
// `runBounded` gives every CLI call its own wall-clock limit.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last few KiB of stderr (enough to explain a failure). */
  stderr: string;
  /** stdout (or a capped stderr) went over its cap; the process was killed. */
  overflow: boolean;
  /** The command could not be started (not found, not executable). */
  spawnError?: string;
}

export interface SpawnOptions {
  input?: string;
  /** Leave stdin open after `input` (the caller writes more with `write`, e.g. replies to the child). */
  keepInputOpen?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Kill the group once stdout exceeds this many bytes. */
  maxStdoutBytes?: number;
  /** Keep all of stderr up to this many bytes (then kill the group) instead of only its tail. */
  maxStderrBytes?: number;
  /**
   * Called with each complete stdout line as it arrives. Returning true says the
   * caller used the line up (protocol traffic, e.g. a relayed request): it is not kept
   * in `stdout` and not counted against maxStdoutBytes, which then bounds each such
   * line and everything else the child writes.
   */
  onLine?: (line: string) => boolean | undefined;
}

export interface Spawned {
  done: Promise<Exit>;
  /** SIGKILL the whole process group; safe to call more than once or after exit. */
  kill(): void;
  /** Writes to the child's stdin (only with keepInputOpen); ignored once it has exited. `flushed`: when the pipe took it all. */
  write(text: string, flushed?: () => void): void;
}

const STDERR_TAIL = 8 * 1024;

export function spawnGroup(command: string, args: string[], o: SpawnOptions = {}): Spawned {
  const child = spawn(command, args, { detached: true, env: o.env ?? {}, stdio: ['pipe', 'pipe', 'pipe'] });
  let exited = false;
  const kill = () => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL'); // the group is gone already; make sure the leader is too
    }
  };
  const done = new Promise<Exit>((resolve) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    /** The start of a line whose newline has not come yet, in pieces (a long line is not re-scanned per chunk). */
    let pending: string[] = [];
    // A character split across two chunks is decoded whole.
    const decoder = new StringDecoder('utf8');
    let err = '';
    const errChunks: Buffer[] = [];
    let errBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      outBytes += chunk.length;
      if (o.maxStdoutBytes !== undefined && outBytes > o.maxStdoutBytes) {
        overflow = true;
        kill();
        return;
      }
      if (!o.onLine) {
        out.push(chunk);
        return;
      }
      let text = decoder.write(chunk);
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = pending.join('') + text.slice(0, nl);
        pending = [];
        text = text.slice(nl + 1);
        if (o.onLine(line) === true) outBytes -= Buffer.byteLength(line) + 1;
        else out.push(Buffer.from(`${line}\n`));
      }
      if (text !== '') pending.push(text);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (o.maxStderrBytes === undefined) {
        err = (err + chunk.toString('utf8')).slice(-STDERR_TAIL);
        return;
      }
      if (overflow) return;
      errBytes += chunk.length;
      if (errBytes > o.maxStderrBytes) {
        overflow = true;
        kill();
        return;
      }
      errChunks.push(chunk);
      err = Buffer.concat(errChunks).toString('utf8');
    });
    child.stdin.on('error', () => {}); // the child may exit before reading all its input
    child.on('error', (e) => {
      exited = true;
      resolve({ code: null, signal: null, stdout: '', stderr: err, overflow, spawnError: e.message });
    });
    child.on('close', (code, signal) => {
      exited = true;
      // A last line without its newline is kept as it came.
      const rest = pending.length === 0 ? [] : [Buffer.from(pending.join(''))];
      resolve({ code, signal, stdout: Buffer.concat([...out, ...rest]).toString('utf8'), stderr: err, overflow });
    });
  });
  if (o.keepInputOpen) {
    if (o.input !== undefined) child.stdin.write(o.input);
  } else if (o.input !== undefined) child.stdin.end(o.input);
  else child.stdin.end();
  const write = (text: string, flushed?: () => void) => {
    if (!exited && child.stdin.writable) child.stdin.write(text, () => flushed?.());
  };
  return { done, kill, write };
}

export interface BoundedExit extends Exit {
  timedOut: boolean;
}

/** Run a command to completion within `timeoutMs`, killing its process group when the time is up. */
export async function runBounded(command: string, args: string[], timeoutMs: number, o: SpawnOptions = {}): Promise<BoundedExit> {
  const p = spawnGroup(command, args, { env: process.env, ...o });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill();
  }, timeoutMs);
  try {
    return { ...(await p.done), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** One line saying how a command ended, for error messages. */
export function describeExit(command: string, e: BoundedExit | Exit): string {
  if (e.spawnError) return `${command} could not start: ${e.spawnError}`;
  if ('timedOut' in e && e.timedOut) return `${command} did not finish in time and was killed`;
  const how = e.signal ? `was killed by ${e.signal}` : `exited with ${e.code}`;
  const last = e.stderr.trim().split('\n').pop();
  return last ? `${command} ${how}: ${last}` : `${command} ${how}`;
}
