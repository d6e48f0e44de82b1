export { createRuntime, runCapability } from './api.js';
export { CapsuleError, ERROR_CODES, type ErrorCode } from './errors.js';
export type {
  CommandOutput,
  GuestLog,
  Runtime,
  RuntimeOptions,
  RunOptions,
  RunResult,
  RunStats,
} from './runtime.js';
export type { Manifest } from './registry/manifest.js';
export type { PolicyDocument, PolicyGrant } from './policy/policy.js';
export type { Tier } from './policy/tier.js';
export { runBench, type BenchOptions, type BenchRun } from './bench/harness.js';
export type { BenchResult } from './bench/types.js';
