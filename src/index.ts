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
export { LEVELS, type LevelCeiling } from './grants/levels.js';
// Escalation: runner probes, the VM runner and its argv builders, doctor.
export { doctor, type DoctorReport } from './doctor.js';
export type { Probe } from './tiers/probe.js';
export { probeAppleContainer, appleRunArgv, appleDeleteArgv, appleMemory, APPLE_MIN_MEMORY_MIB, type HostInfo } from './tiers/vm/apple-container.js';
export { ociRunArgv, ociDeleteArgv, probeOci, VM_RUNTIMES } from './tiers/vm/oci.js';
export type { ContainerSpec, Mount } from './tiers/vm/spec.js';
export { ContainerRunner, type ContainerCli, type VmConfig } from './tiers/vm/runner.js';
export { selectVm, type VmOptions, type VmSelection } from './tiers/vm/select.js';
export { permissionFlag } from './tiers/process/node-flags.js';
export { ProcessRunner, type ProcessSandbox, type ProcessTierOptions } from './tiers/process/runner.js';
export { runBench, type BenchOptions, type BenchRun } from './bench/harness.js';
export type { BenchResult } from './bench/types.js';
