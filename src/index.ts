// The library's public surface: exactly the list in README.md, "API (everything
// `capsule` exports)" (test/unit/api-surface.test.ts compares the two both ways).
// Internals stay importable from src/ for tests; the bench is `capsule/bench`.
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
export type { Tier, TierDecision } from './policy/tier.js';
export type { Denial, DeniedAccess, MoreDenials } from './sandbox/job.js';
export { doctor, type DoctorReport } from './doctor.js';
export type { HostFunction, HostFunctions } from './host-functions.js';
export type { Tool } from './tool-catalog.js';
