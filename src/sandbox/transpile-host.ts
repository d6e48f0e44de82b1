// Transpiles components in a disposable child process (transpile-entry.ts), never on
// the runtime's thread. jco on a hostile component can: run for seconds (deeply
// nested types: a 350-byte component took 11 s and wrote 38 MB of glue), panic
// and stay broken for the rest of its instance ("cannot enter component
// instance" for every later component), print Rust panic text on stderr, or
// drive V8 into a fatal error that aborts the whole process, worker threads
// included. So: a process, not a worker; a time limit and output-size limits;
// stderr captured; and the process replaced after any failure or timeout, and
// after a number of jobs (jco's instances grow with use).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CapsuleError } from '../errors.js';

export interface TranspileLimits {
  /** Wall time for one component's WIT and transpile. */
  timeoutMs: number;
  /** Real components' WIT is a few KiB; a deeply nested type makes it MiBs. */
  maxWitBytes: number;
  /** Real components' glue is under 400 KiB (the corpus, the catalog). */
  maxGlueBytes: number;
}

const MIB = 1024 * 1024;

/** README: Limits. */
export const TRANSPILE_LIMITS: TranspileLimits = {
  timeoutMs: 60_000,
  maxWitBytes: 1 * MIB,
  maxGlueBytes: 8 * MIB,
};

/** What compile.ts needs from jco for one component. */
export interface Transpiled {
  wit: string;
  /** component.js and the core modules. */
  files: Record<string, Uint8Array>;
  imports: string[];
}

export interface TranspileRequest {
  bytes: Uint8Array;
  limits: TranspileLimits;
}

export type TranspileReply = ({ ok: true } & Transpiled) | { ok: false; message: string /** refused by a limit, not by jco */; limit?: boolean };

type HostMessage = TranspileReply | { ready: true };

type Outcome = { kind: 'reply'; reply: TranspileReply } | { kind: 'timeout' } | { kind: 'died'; why: string };

export interface TranspilerPoolOptions {
  /** The bundled entry; default dist/transpile-host.js beside this bundle. */
  entry?: string;
  limits?: Partial<TranspileLimits>;
  /** Components transpiled at once (each in its own process). */
  maxProcesses?: number;
  /** A process is replaced after this many components. */
  jobsPerProcess?: number;
  /** An idle process exits after this long. */
  idleMs?: number;
}

/**
 * Bundled layout: dist/transpile-host.js sits beside the bundle that holds this code.
 * Run from source (tests import src/), the bundle is in dist/ at the package root.
 */
function defaultEntry(): string {
  const bundled = fileURLToPath(new URL('./transpile-host.js', import.meta.url));
  const fromSource = fileURLToPath(new URL('../../dist/transpile-host.js', import.meta.url));
  return !existsSync(bundled) && existsSync(fromSource) ? fromSource : bundled;
}
const STARTUP_MS = 30_000;
const STDERR_KEPT = 8 * 1024;
/** The longest jco reason quoted in a COMPONENT_INVALID message (the whole message stays under 1 KiB). */
const REASON_CHARS = 400;
const ORIGIN_CHARS = 300;

/** One transpiler process: one request at a time. */
class HostProcess {
  readonly child: ChildProcess;
  jobs = 0;
  stderr = '';
  idleTimer?: NodeJS.Timeout;
  onExit?: () => void;
  private readonly closed: Promise<void>;
  private readonly ready: Promise<Outcome | undefined>;

  constructor(entry: string) {
    // stdout ignored, stderr kept (jco's panic text), never the parent's own.
    this.child = spawn(process.execPath, [entry], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (s: string) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += s.slice(0, STDERR_KEPT - this.stderr.length);
    });
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    this.child.once('exit', () => this.onExit?.());
    this.child.on('error', () => {}); // seen through await(): an unhandled 'error' would throw
    this.ready = this.await(STARTUP_MS, (m) => 'ready' in m);
  }

  /** Resolves with the next message `accept` takes, or how the process failed; never rejects. */
  private await(timeoutMs: number, accept: (m: HostMessage) => boolean): Promise<Outcome | undefined> {
    const child = this.child;
    return new Promise((resolve) => {
      const done = (o: Outcome | undefined) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
        resolve(o);
      };
      const onMessage = (m: HostMessage) => {
        if (!accept(m)) return;
        done('ready' in m ? undefined : { kind: 'reply', reply: m });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        done({ kind: 'died', why: signal ? `was killed by ${signal}` : `exited with status ${code}` });
      const onError = (e: Error) => done({ kind: 'died', why: e.message });
      const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.on('error', onError);
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
    });
  }

  /** Startup failures are capsule's (INTERNAL); everything after is the component's. */
  async start(): Promise<void> {
    const failed = await this.ready;
    if (!failed) return;
    await this.kill();
    const why = failed.kind === 'died' ? failed.why : 'did not start in time';
    throw new CapsuleError('INTERNAL', `the transpiler process ${why}: ${oneLine(this.stderr, REASON_CHARS) || 'no output'}`);
  }

  run(req: TranspileRequest): Promise<Outcome> {
    const reply = this.await(req.limits.timeoutMs, (m) => !('ready' in m));
    this.child.send(req, (e) => {
      if (e) this.child.kill('SIGKILL'); // seen as 'exit' by run()
    });
    return reply as Promise<Outcome>;
  }

  /** Keeps the runtime's process alive only while a component is being transpiled. */
  hold(on: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stderr as Socket | null];
    for (const h of handles) if (h) on ? h.ref() : h.unref();
  }

  /** Kills the process and waits until its stderr is drained (jco's panic text is in it). */
  async kill(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }
}

export class TranspilerPool {
  private readonly limits: TranspileLimits;
  private readonly entry: string;
  private readonly maxProcesses: number;
  private readonly jobsPerProcess: number;
  private readonly idleMs: number;
  private readonly idle: HostProcess[] = [];
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(opts: TranspilerPoolOptions = {}) {
    this.limits = { ...TRANSPILE_LIMITS, ...opts.limits };
    this.entry = opts.entry ?? defaultEntry();
    this.maxProcesses = opts.maxProcesses ?? 2;
    this.jobsPerProcess = opts.jobsPerProcess ?? 50;
    this.idleMs = opts.idleMs ?? 30_000;
  }

  /** jco's WIT, glue, core modules and (for small components) text form; COMPONENT_INVALID when refused. */
  async transpile(bytes: Uint8Array, origin: string): Promise<Transpiled> {
    await this.slot();
    let host: HostProcess | undefined;
    let keep = false;
    try {
      host = this.idle.pop();
      if (host) clearTimeout(host.idleTimer);
      else {
        const fresh = new HostProcess(this.entry);
        host = fresh;
        // A process that dies while idle is not handed out again.
        fresh.onExit = () => {
          const i = this.idle.indexOf(fresh);
          if (i >= 0) this.idle.splice(i, 1);
        };
        await fresh.start();
      }
      host.hold(true);
      const outcome = await host.run({ bytes, limits: this.limits });
      if (outcome.kind === 'reply' && outcome.reply.ok) {
        keep = ++host.jobs < this.jobsPerProcess;
        const { ok: _ok, ...transpiled } = outcome.reply;
        return transpiled;
      }
      // After any failure jco may be broken (a panic poisons its instance): replace it.
      await host.kill();
      throw invalid(origin, reason(outcome, host.stderr, this.limits));
    } finally {
      if (host && keep) this.park(host);
      else if (host) void host.kill();
      this.release();
    }
  }

  /** Ends every idle process (busy ones end when their component is done). */
  close(): void {
    for (const h of this.idle.splice(0)) void h.kill();
  }

  private park(host: HostProcess): void {
    host.hold(false);
    this.idle.push(host);
    host.idleTimer = setTimeout(() => {
      const i = this.idle.indexOf(host);
      if (i >= 0) this.idle.splice(i, 1);
      void host.kill();
    }, this.idleMs);
    host.idleTimer.unref();
  }

  private async slot(): Promise<void> {
    if (this.running < this.maxProcesses) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next)
      next(); // the slot passes to the next waiter
    else this.running--;
  }
}

function reason(o: Outcome, stderr: string, limits: TranspileLimits): string {
  if (o.kind === 'timeout') return `transpiling it took longer than ${limits.timeoutMs / 1000} s`;
  // A Rust panic says why on the line after "panicked at <file>:<line>:<col>:".
  const panic = /panicked at [^\n]*\n([^\n]+)/.exec(stderr)?.[1];
  if (panic) return `the transpiler panicked: ${panic}`;
  if (o.kind === 'died') return `the transpiler process ${o.why}`;
  if (o.reply.ok) return 'unexpected reply'; // unreachable: ok replies return above
  return o.reply.message;
}

function invalid(origin: string, why: string): CapsuleError {
  const what = oneLine(origin, ORIGIN_CHARS);
  return new CapsuleError('COMPONENT_INVALID', `${what} is not a valid component: ${oneLine(why, REASON_CHARS)}`);
}

/** jco's multi-line "x\n\nCaused by:\n    y" as one line, control characters out, at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text
    .replace(/\s*\n\s*Caused by:\s*/g, ': ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to strip raw control characters
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

let shared: TranspilerPool | undefined;

/** The process-wide pool: transpiling is rare (results are cached on disk), so runtimes share it. */
export function transpileIsolated(bytes: Uint8Array, origin: string): Promise<Transpiled> {
  shared ??= new TranspilerPool();
  return shared.transpile(bytes, origin);
}
