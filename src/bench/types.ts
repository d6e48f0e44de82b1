// The shape of a bench run's results: plain JSON, written as results.json and
// read back by the Markdown and SVG writers.
import type { Tier } from '../policy/tier.js';

/** Latency samples summarized, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Calls per second with `concurrency` callers in flight. */
export interface Throughput {
  concurrency: number;
  callsPerSecond: number;
  calls: number;
}

/** Why a figure is missing: a tier without a runner, a peer not installed, a metric that does not apply. */
export interface Missing {
  status: 'unavailable' | 'skipped' | 'failed';
  reason: string;
}

export interface ColdCall {
  /** New runtime + first call, empty transpile cache. */
  ms: number;
  /** stats.cache of that first call ('transpiled' when the cache really was empty). */
  cache: string;
}

/** One tier (or peer/baseline) running one workload. */
export interface Row {
  subject: string;
  kind: 'tier' | 'peer' | 'baseline';
  workload: string;
  status: 'ok' | Missing['status'];
  reason?: string;
  cold?: ColdCall;
  warm?: Summary;
  throughput?: Throughput[];
  /** Peak guest linear memory of one call (stats.memoryBytes), bytes. */
  memoryBytes?: number;
}

export interface LimitRow {
  tier: Tier;
  status: 'ok' | Missing['status'];
  reason?: string;
  /** How far past the 100 ms limit the TIMEOUT rejection came, ms. */
  overshoot?: Summary;
  /** The next echo call after each TIMEOUT, ms (the name predates interruption: the worker is no longer killed). */
  firstCallAfterKill?: Summary;
  /** An echo call after a 100 ms idle pause, one per TIMEOUT, ms: what the call after the TIMEOUT is compared with. */
  warmCall?: Summary;
  /** Worker tier: how late after 100 ms a bare thread's message came, spinning until 100 ms after the send (bench/limits.ts), ms. */
  bareThread?: Summary;
  /** Workers that served the echo calls of the run (1: every TIMEOUT left its worker alive). */
  workers?: number;
  /** The raw echo calls, in order: warm[i] after the i-th 100 ms pause, after[i] right after the i-th TIMEOUT, ms. */
  pairs?: { warm: number[]; after: number[]; loadAverage: Paired['loadAverage'] };
}

/** Echo with auditing off and on, interleaved call by call (bench/audit-cost.ts). */
export interface AuditCost {
  tier: Tier;
  status: 'ok' | Missing['status'];
  reason?: string;
  /** Warm latency without an audit log, ms. */
  off?: Summary;
  /** Warm latency with an audit log, ms. */
  on?: Summary;
  /** on.p50 − off.p50, µs. */
  overheadUs?: number;
  /** Audit lines one call wrote. */
  linesPerCall?: number;
  /** How long flushAudit() after the last call waited for the last batch to reach the disk, ms. */
  finalFlushMs?: number;
}

/** An app host function called 1 000 times per call against none (bench/host-call-cost.ts). */
export interface HostCallCost {
  tier: Tier;
  /** The app's function: a plain one, or an async one (worker tier only can await it). */
  function: 'sync' | 'async';
  status: 'ok' | Missing['status'];
  reason?: string;
  hostCallsPerCall?: number;
  /** Warm latency of a call making hostCallsPerCall host calls, ms. */
  with?: Summary;
  /** The same call making none, ms. */
  without?: Summary;
  /** (with.p50 − without.p50) / hostCallsPerCall, µs. */
  perHostCallUs?: number;
}

export interface Environment {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  capsuleVersion: string;
  /** 1/5/15-minute load averages when the run started and ended: other work on the machine skews figures. */
  loadAverage: number[];
  loadAverageAtEnd?: number[];
  startedAt: string;
}

export interface BenchResult {
  environment: Environment;
  command: string;
  settings: { tiers: string[]; workloads: string[]; peers: string[]; goals: string[]; rounds: number; durationS: number; quick: boolean };
  /** What each workload runs, by name. */
  workloads: Record<string, string>;
  rows: Row[];
  limits: LimitRow[];
  /** Present when the `echo-audit` workload was selected. */
  auditCost?: AuditCost;
  /** Present when the `host-calls` workload was selected: worker (sync, async) and inline (sync). */
  hostCallCost?: HostCallCost[];
  /** Every figure with a goal (and the few reported beside them): ratios only from interleaved sides. */
  goals: Goal[];
  elapsedS: number;
}

/** Subject and baseline interleaved call by call over rounds (bench/paired.ts). */
export interface Paired {
  /** Median of the per-round values. */
  median: number;
  /** Spread of the per-round values: min, quartiles, max. */
  spread: { min: number; q1: number; q3: number; max: number };
  /** One value per round: that round's subject p50 / baseline p50 (or the difference, µs). */
  perRound: number[];
  rounds: number;
  callsPerRound: number;
  /** All the subject's calls, ms. */
  subject: Summary;
  /** All the baseline's calls, ms. */
  baseline: Summary;
  /** os.loadavg() (1, 5, 15 minutes) when the pair started and ended. */
  loadAverage: { start: number[]; end: number[] };
}

/** One row of the goals table (issue 11's table and issue 10's figures): a definition, a goal, a measured value. */
export interface Goal {
  id: string;
  name: string;
  /** What is divided by what (or subtracted, or timed), as docs/benchmarks.md defines it. */
  definition: string;
  /** 'ratio': subject / baseline; 'µs': subject − baseline; 'ms': a time (no baseline). */
  unit: 'ratio' | 'µs' | 'ms';
  /** The goal in words ("≤ 2", "≥ 1.8", "≤ +20 µs"); absent for a figure that is only reported. */
  goal?: string;
  status: 'ok' | Missing['status'];
  reason?: string;
  /** The median of the per-round values. */
  value?: number;
  meets?: boolean;
  paired?: Paired;
  /** A time with no baseline (the first call with an empty cache, a timeout's overshoot). */
  samples?: Summary;
  /** Side figures (fuel per call, instrumentation time...). */
  notes?: string;
}
