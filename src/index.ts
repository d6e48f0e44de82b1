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
export type { Denial } from './sandbox/job.js';
export { LEVELS, type LevelCeiling } from './policy/levels.js';
