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
  /** An echo call right before each TIMEOUT, ms: what the call after it is compared with. */
  warmCall?: Summary;
  /** Workers that served the echo calls of the run (1: every TIMEOUT left its worker alive). */
  workers?: number;
}

/** The fuel checks' cost: the same component's core modules with and without them, interleaved call by call. */
export interface FuelCost {
  workload: string;
  status: 'ok' | Missing['status'];
  reason?: string;
  /** Without fuel checks, ms. */
  off?: Summary;
  /** With fuel checks, ms. */
  on?: Summary;
  /** on.p50 / off.p50. */
  ratio?: number;
  /** stats.fuel of one call. */
  fuelPerCall?: number;
  /** fuelPerCall / on.p50: the machine's rate, what FUEL_PER_MS is calibrated from. */
  fuelPerMs?: number;
  /** The instrumentation pass over the component's core files (what a first load pays), ms. */
  instrumentMs?: number;
  coreBytes?: number;
}

/** Cost of a fresh instance, measured in-thread on the workload's own core module. */
export interface FreshInstance {
  workload: string;
  /** Direct call on one reused instance, ms. */
  reused: Summary;
  /** Direct new WebAssembly.Instance + call, ms. */
  fresh: Summary;
  /** fresh.p50 - reused.p50, µs. */
  overheadUs: number;
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

export interface Ratio {
  name: string;
  value: number | null;
  /** What the issue asks for, in words (e.g. "≤ 1.5"). */
  target?: string;
  meets?: boolean;
  /** How it was computed, from which measured figures. */
  from: string;
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
  settings: { tiers: string[]; workloads: string[]; peers: string[]; durationS: number; quick: boolean };
  /** What each workload runs, by name. */
  workloads: Record<string, string>;
  rows: Row[];
  limits: LimitRow[];
  freshInstance: FreshInstance[];
  /** The fuel checks' cost on fib and markdown, when those workloads were selected. */
  fuelCost?: FuelCost[];
  /** Present when the `echo-audit` workload was selected. */
  auditCost?: AuditCost;
  /** Present when the `host-calls` workload was selected: worker (sync, async) and inline (sync). */
  hostCallCost?: HostCallCost[];
  ratios: Ratio[];
  elapsedS: number;
}
