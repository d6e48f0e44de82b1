// Builds capsule's own WASI for one call, from the grants only. Never the
// preview2-shim defaults (whole process.env, open network): every interface here
// is deny-by-default and its state belongs to this call alone.
import type { CallBudget } from '../call-budget.js';
import { DenialLog } from '../denial-log.js';
import type { Grants, SyncFetch } from '../job.js';
import { cliInterfaces } from './cli.js';
import { clockInterfaces } from './clocks.js';
import { deniedInterface } from './denied.js';
import { filesystemInterfaces } from './filesystem.js';
import type { DiskLimits } from './fs-quota.js';
import { randomInterfaces } from './random.js';
import { socketInterfaces } from './sockets.js';
import { httpInterfaces } from '../net/http.js';
import { InputStream, IoError, OutputStream, Pollable, poll, Sink } from './streams.js';

export { ExitSignal } from './cli.js';

export interface WasiCall {
  interfaces: Record<string, object>;
  stdout: Sink;
  stderr: Sink;
  /** Accesses refused during this call (capped: see DenialLog). */
  denials: DenialLog;
  /** Release what the call holds (open files). */
  close(): void;
}

export interface WasiOptions {
  grants: Grants;
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  outputCap: number;
  /** Bound on one outgoing HTTP request (the call's wall-clock limit). */
  timeoutMs: number;
  /** Outgoing HTTP hops the call may send (limits.connections). */
  connections: number;
  /** What the call may hold outside linear memory (call-budget.ts). */
  budget: CallBudget;
  /** How an HTTP request leaves (default: this process's own fetch). */
  fetch?: SyncFetch;
  /** Bytes it may write, files it may create, descriptors it may hold (fs-quota.ts); absent: none counted. */
  disk?: DiskLimits;
}

export function createWasi(o: WasiOptions): WasiCall {
  const stdout = new Sink(o.outputCap);
  const stderr = new Sink(o.outputCap);
  const denials = new DenialLog();
  const filesystem = filesystemInterfaces(o.grants.fs, denials, o.budget, {}, o.disk);
  const interfaces: Record<string, object> = {
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    ...cliInterfaces({
      args: o.args,
      env: o.env,
      stdin: new InputStream(o.stdin),
      stdout,
      stderr,
    }),
    ...filesystem.interfaces,
    ...socketInterfaces(),
    ...httpInterfaces({ rules: o.grants, connections: o.connections, denials, timeoutMs: o.timeoutMs, budget: o.budget, fetch: o.fetch }),
    ...(o.grants.clocks ? clockInterfaces() : deniedAll(clockInterfaces(), 'clocks are not granted')),
    ...(o.grants.random ? randomInterfaces(o.budget) : deniedAll(randomInterfaces(o.budget), 'random is not granted')),
  };
  return { interfaces, stdout, stderr, denials, close: () => filesystem.close() };
}

function deniedAll(real: Record<string, object>, reason: string): Record<string, object> {
  return Object.fromEntries(Object.keys(real).map((name) => [name, deniedInterface(name, reason)]));
}

/** WASI interfaces capsule links as refusals: they exist for the guest, and every use fails. */
export function wasiFallback(name: string): Record<string, unknown> {
  return deniedInterface(name, 'capsule does not grant this WASI interface');
}
