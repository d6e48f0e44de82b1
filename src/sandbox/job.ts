import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '../errors.js';
import type { FsGrant } from '../grants/fs.js';
import type { DirectAbi } from './direct-abi.js';
import type { TableDecl } from './limits/census.js';
import type { FetchRequest, FetchResult } from './net/sync-fetch.js';

/**
 * A Job is everything a tier needs to run one call, as plain data, so the
 * same object can go to the calling thread, a worker, a child process or a VM.
 * Nothing in sandbox/ knows about manifests or policies: it gets grants and limits.
 */
export type World = 'capability' | 'command';

export interface Grants {
  /** Custom host interfaces granted, without version (`capsule:host/log`). */
  host: string[];
  clocks: boolean;
  random: boolean;
  /** Environment the guest sees: granted names with their values, nothing else. */
  env: Record<string, string>;
  /** Host directories and files the guest may use (nothing when empty). */
  fs: FsGrant;
  /** Outbound HTTP host patterns (`api.example.com`, `*.example.org`, `http://127.0.0.1:8080`). */
  net: string[];
  /** The policy's `net.blocked` patterns: never reached, whatever `net` says (grants/net.ts refusedUrl). */
  netBlocked: string[];
  /** What capsule:host/config answers (policy grants' config, then the call's); never written to the audit log. */
  config?: Record<string, string>;
}

/** One access a granted interface refused during a call (for the caller and the audit log). */
export interface DeniedAccess {
  kind: 'fs' | 'env' | 'net';
  /** What the guest asked for, cut to 512 characters (then ends in `…[+N chars]`). */
  target: string;
  reason: string;
}

/**
 * Last in a call's denials list when the guest was refused more than the list
 * keeps (64): how many more, by kind. See sandbox/denial-log.ts.
 */
export interface MoreDenials {
  kind: 'more';
  /** Always empty: the summary names no target. */
  target: '';
  /** `N more denials not listed (fs N, net N)`. */
  reason: string;
  count: number;
  byKind: Partial<Record<DeniedAccess['kind'], number>>;
}

/** An entry of a call's denials list: a refused access, or the summary of those not kept. */
export type Denial = DeniedAccess | MoreDenials;

export interface Limits {
  /** Cap on each linear memory (rounded down to 64 KiB pages). */
  memoryBytes: number;
  timeoutMs: number;
  /** Cap on the output value, and on each of stdout and stderr. */
  outputBytes: number;
  inputBytes: number;
  /** CPU budget in milliseconds of guest work, turned into fuel (sandbox/fuel-meter.ts); none: unlimited. */
  cpuMs?: number;
  /** Fuel budget (instructions as the instrumentation counts them): the same stop point on every run. */
  fuel?: number;
  /** Bytes the guest may write to files through capsule's wasi:filesystem in one call (ENOSPC past it). */
  writeBytes?: number;
  /** Files and directories the guest may create in one call (EDQUOT past it). */
  files?: number;
  /** Files the guest may hold open at once in one call (EDQUOT past it). */
  openFiles?: number;
  /** Outgoing HTTP connections in one call: each request and each redirect hop (HTTP-request-denied past it). */
  connections?: number;
}

export interface Job {
  capabilityId: string;
  /** `sha256:<hex>` of the component bytes. */
  digest: string;
  /** file: URL of the transpiled glue module (instantiation mode). */
  glueUrl: string;
  /** Compiled core modules by the file name the glue asks for. */
  modules: Record<string, WebAssembly.Module>;
  /** Import names exactly as the glue looks them up. */
  imports: string[];
  world: World;
  /** Present when the component can be called without its glue (import-free capability world). */
  directAbi?: DirectAbi;
  grants: Grants;
  limits: Limits;
  /** capability world: the JSON input text. command world: the command input. */
  input: string | CommandInput;
  /** The input text came from the caller as text and nobody has parsed it: the sandbox checks it is JSON (runText). */
  checkInputJson?: boolean;
  /** The caller takes the output as text, unparsed: the sandbox checks it is JSON (runText). */
  checkOutputJson?: boolean;
  /**
   * Written with Atomics by the thread that waits for the call (INTERRUPT_TIMEOUT or
   * INTERRUPT_ABORT): the guest traps at its next refuel (sandbox/fuel-meter.ts).
   */
  interrupt?: Int32Array;
  /**
   * performance.now() on the thread that runs the call, where the call's clock starts
   * (a pool worker sets it when it reports the start in its slot: callClock() in
   * tiers/worker-protocol.ts): the fuel meter's deadline and a TIMEOUT's elapsedMs count
   * from here, as the waiting thread's clock does, not from after the glue is loaded.
   */
  startedAt?: number;
  /** Where the transpiled files live, for tiers across a process or VM boundary (see WireJob). */
  bundle?: BundleRef;
  /**
   * The app's host functions this call's component imports (README: Host functions):
   * by interface (unversioned), each function's shape. Plain data; how a call reaches
   * the app is the tier's (hostCall inline, hostPort in a worker).
   */
  host?: HostImports;
  /** Inline tier: runs an app host function on this thread (sandbox/host/app.ts). */
  hostCall?: HostCall;
  /** Worker tier: the port and wake-up slot to the app's host functions on the main thread (sandbox/host/remote.ts). */
  hostPort?: HostPort;
  /**
   * How one HTTP request (one hop) leaves this side; default: this process's own fetch
   * (sandbox/net/sync-fetch.ts). A process-tier child has no network and no worker
   * threads: it sends each request to its parent instead (sandbox/net/relay.ts).
   */
  fetch?: SyncFetch;
  /** Set by a tier whose parent answers the child's HTTP requests over the job channel (`parent`). */
  netVia?: 'parent';
}

/** One HTTP request, sent and answered synchronously (the guest is blocked in a wasm call). */
export type SyncFetch = (req: FetchRequest) => FetchResult;

/** One imported function of an app interface, as the component declares it. */
export interface HostFuncShape {
  /** Parameters the component passes (the app's function must take as many). */
  params: number;
  /** Returns a WIT `result`: a throw from the app's function becomes its err. */
  result: boolean;
}

/** Interface (unversioned, `acme:kv/store`) → function name → shape. */
export type HostImports = Record<string, Record<string, HostFuncShape>>;

/** What one host call came back with: a value, a failure, or the call was cut (TIMEOUT/abort). */
export type HostReply = { ok: true; value: unknown } | { ok: false; error: ErrorData; payload?: unknown; hasPayload: boolean } | { cancelled: true };

/** Calls the app's `fn` of interface `iface` synchronously. */
export type HostCall = (iface: string, fn: string, args: unknown[]) => HostReply;

export interface HostPort {
  port: MessagePort;
  /** [0]: 0 while a reply is awaited, 1 when it has been posted. */
  signal: Int32Array;
}

/**
 * A container capability's call (manifest `runtime: "container"`): the image and
 * command from the manifest, the command-world input. Only the VM tier runs one
 * (Runners.run); its result is a JobResult like a component's.
 */
export interface ContainerJob {
  capabilityId: string;
  image: string;
  command: string[];
  input: CommandInput;
  grants: Grants;
  limits: Limits;
}

/** A transpiled component on disk: one directory holding the glue and its core modules. */
export interface BundleRef {
  dir: string;
  glue: string;
  coreFiles: string[];
  /**
   * How often the glue instantiates each core file, how many linear memories those
   * instances define in all, and the tables each core file defines: the memory
   * limit is split among all of them (sandbox/limits/plan.ts).
   */
  instantiations?: Record<string, number>;
  memories?: number;
  tables?: Record<string, TableDecl[]>;
  /**
   * SHA-256 (hex) of each file (glue and core files) as recorded when the cache
   * entry was written; whoever loads a file checks it against this first.
   */
  sha256?: Record<string, string>;
}

/**
 * A Job as JSON, for a child process or a VM. Compiled WebAssembly.Modules cannot
 * cross a process boundary, so the other side compiles the bundle's core files itself.
 */
export interface WireJob extends Omit<Job, 'modules' | 'glueUrl' | 'bundle' | 'hostCall' | 'hostPort' | 'fetch'> {
  bundle: BundleRef;
}

/**
 * The job protocol, newline-delimited JSON on stdout: `ready` first, as soon as the
 * entrypoint runs (before the job is read: a runner that never sees it knows the
 * start failed, not the guest), `started` once compiled, then the `result`. `fetch`:
 * an HTTP request for the parent to send (only when the job's netVia is `parent`);
 * the parent answers with one WireFetchReply line on the child's stdin.
 */
export type WireMessage = { type: 'ready' } | { type: 'started' } | { type: 'result'; result: JobResult } | { type: 'fetch'; req: WireFetchRequest };

/** A FetchRequest as JSON: the body in base64. */
export interface WireFetchRequest extends Omit<FetchRequest, 'body'> {
  body?: string;
}

/** A FetchResult as JSON: the body in base64. */
export type WireFetchReply = { ok: true; status: number; headers: [string, string][]; body: string } | { ok: false; code: string; message: string };

export interface CommandInput {
  args?: string[];
  stdin?: string;
  env?: Record<string, string>;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export type JobOutcome = { ok: true; value: string; exitCode?: number } | { ok: false; error: ErrorData };

export interface JobResult {
  outcome: JobOutcome;
  stdout: string;
  stderr: string;
  /** True when the guest wrote more to stdout or stderr than limits.outputBytes. */
  truncated: boolean;
  logs: LogRecord[];
  /** Accesses refused during the call (PERMISSION_DENIED to the guest as a WASI error code). */
  denials: Denial[];
  /** Peak linear memory of all the component's memories, in bytes. */
  memoryBytes: number;
  /** Fuel the call consumed (instructions as the instrumentation counts them). */
  fuel?: number;
  /** The thread that ran the call (worker tier: its threadId), so reuse is observable. */
  worker?: number;
  /** Worker tier: the call ran in a spare instance made before it (sandbox/spare.ts), which no call had run in. */
  spare?: true;
  /** App host functions the guest called (`acme:kv/store#get` → count), for the audit log. */
  hostCalls?: Record<string, number>;
}
