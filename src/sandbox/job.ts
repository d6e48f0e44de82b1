import type { ErrorData } from '../errors.js';
import type { DirectAbi } from './direct-abi.js';

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
  /** Cap on each linear memory (rounded down to 64 KiB pages). */
  memoryBytes: number;
  timeoutMs: number;
  /** Cap on the output value, and on each of stdout and stderr. */
  outputBytes: number;
  inputBytes: number;
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
  /**
   * Set to 1 (and notified) by the worker when it starts the call, so the
   * wall-clock limit covers the guest, not the wait for a worker to be ready.
   */
  startedFlag?: Int32Array;
}

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
