import type { ErrorData } from '../errors.js';

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
}

export interface Limits {
  memoryBytes: number;
  timeoutMs: number;
  outputBytes: number;
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
  grants: Grants;
  limits: Limits;
  /** capability world: the JSON input text. command world: the command input. */
  input: string | CommandInput;
  /** Where the transpiled files live, for tiers across a process or VM boundary (see WireJob). */
  bundle?: BundleRef;
}

/** A transpiled component on disk: one directory holding the glue and its core modules. */
export interface BundleRef {
  dir: string;
  glue: string;
  coreFiles: string[];
}

/**
 * A Job as JSON, for a child process or a VM. Compiled WebAssembly.Modules cannot
 * cross a process boundary, so the other side compiles the bundle's core files itself.
 */
export interface WireJob extends Omit<Job, 'modules' | 'glueUrl' | 'bundle'> {
  bundle: BundleRef;
}

/** What a child process or VM writes on stdout, one JSON message per line. */
export type WireMessage = { type: 'started' } | { type: 'result'; result: JobResult };

export interface CommandInput {
  args?: string[];
  stdin?: string;
  env?: Record<string, string>;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export type JobOutcome =
  | { ok: true; value: string; exitCode?: number }
  | { ok: false; error: ErrorData };

export interface JobResult {
  outcome: JobOutcome;
  stdout: string;
  stderr: string;
  /** True when the guest wrote more to stdout or stderr than limits.outputBytes. */
  truncated: boolean;
  logs: LogRecord[];
  /** Peak linear memory of all the component's memories, in bytes. */
  memoryBytes: number;
}
