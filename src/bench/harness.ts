// `capsule bench` end to end: every requested tier × workload, the baselines and
// the peer measured in this one run (figures, no ratios), the timeout runs, then
// the goals table (goals.ts: each ratio from its two sides interleaved call by
// call) and the JSON/Markdown/SVG files.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime } from '../api.js';
import { CapsuleError, messageOf } from '../errors.js';
import { TIER_ORDER, type Tier } from '../policy/tier.js';
import { coreModuleOf, directTarget, postMessageTarget } from './baselines.js';
import { AUDIT_WORKLOAD, AUDIT_WORKLOAD_DESCRIPTION, measureAuditCost } from './audit-cost.js';
import { capsuleTarget, probeTier, type CapsuleContext } from './capsule-target.js';
import { capsuleVersion, environment } from './environment.js';
import { GOAL_IDS, GOALS, limitGoals, measureGoal } from './goals.js';
import { measureLimits } from './limits.js';
import type { Progress } from './progress.js';
import { measure, type Target } from './measure.js';
import { extismTarget, loadExtism } from './peers/extism.js';
import { SUBJECTS } from './subjects.js';
import { toMarkdown } from './report-markdown.js';
import { toSvg } from './report-svg.js';
import { BENCH_POLICY, CAPABILITIES_DIR, writeBenchCapabilities } from './setup.js';
import type { Budget } from './stats.js';
import type { AuditCost, BenchResult, Goal, HostCallCost, LimitRow, Missing, Row } from './types.js';
import { HOST_WORKLOAD, HOST_WORKLOAD_DESCRIPTION, measureHostCallCost } from './host-call-cost.js';
import { WORKLOAD_NAMES, WORKLOADS, type Workload } from './workloads.js';
import { removeCacheDir } from '../sandbox/transpile-cache.js';

export const PEERS = ['extism'] as const;
/** The host-call workload's runs: the worker tier's round trip with a sync and an async function, and inline's direct call. */
const HOST_RUNS: { tier: Tier; kind: 'sync' | 'async' }[] = [
  { tier: 'worker', kind: 'sync' },
  { tier: 'worker', kind: 'async' },
  { tier: 'inline', kind: 'sync' },
];

export interface BenchOptions {
  tiers?: Tier[];
  workloads?: string[];
  peers?: string[];
  /** Seconds per measurement (warm latency, and each throughput level); default 2, or 0.3 with quick. */
  durationS?: number;
  quick?: boolean;
  /** Where results.json, results.md and latency.svg go; false writes nothing. Default ./bench-results. */
  out?: string | false;
  /** Caps samples per measurement (a test's few iterations). */
  maxSamples?: number;
  /** Timeout runs per tier; default 100 in the worker and inline tiers and 20 in the others, or 3 with quick. */
  limitRepeats?: number;
  /** Rows of the goals table to measure (goals.ts GOAL_IDS); default all, [] none. The timeout rows come with --tiers. */
  goals?: string[];
  /** Rounds per goal row; default 10, or 3 with quick. */
  rounds?: number;
  /** Calls of each side per round, for every goal row (a test's few); default each row's own. */
  callsPerRound?: number;
  /** The command line recorded with the results. */
  command?: string;
  /** Called before each step with a label and the step count. */
  progress?: Progress;
}

export interface BenchRun {
  result: BenchResult;
  /** Files written, by kind. */
  files: { json?: string; markdown?: string; svg?: string };
}

function pick<T extends string>(what: string, given: string[] | undefined, known: readonly T[], fallback: readonly T[]): T[] {
  const list = given ?? fallback;
  const unknown = list.filter((x) => !(known as readonly string[]).includes(x));
  if (unknown.length > 0) throw new CapsuleError('USAGE', `unknown ${what} ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return list as T[];
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchRun> {
  const started = performance.now();
  const quick = opts.quick === true;
  const tiers = pick('tier', opts.tiers, TIER_ORDER, TIER_ORDER);
  const allWorkloads = [...WORKLOAD_NAMES, AUDIT_WORKLOAD, HOST_WORKLOAD];
  const workloadNames = pick('workload', opts.workloads, allWorkloads, allWorkloads);
  const peers = pick('peer', opts.peers, PEERS, PEERS);
  const workloads = WORKLOADS.filter((w) => workloadNames.includes(w.name));
  const durationS = opts.durationS ?? (quick ? 0.3 : 2);
  if (!(durationS > 0)) throw new CapsuleError('USAGE', `duration must be a positive number of seconds, got ${durationS}`);
  const budget: Budget = {
    durationMs: durationS * 1000,
    minSamples: Math.min(quick ? 10 : 30, opts.maxSamples ?? Infinity),
    maxSamples: opts.maxSamples ?? 1_000_000,
  };
  // 100 TIMEOUTs in the tiers with goal rows, so p99 is the second worst of 100 (of 20 it
  // was the worst); 20 in the others, where each call starts a process or a container.
  const repeats = opts.limitRepeats ?? (quick ? 3 : 100);
  const repeatsIn = (tier: Tier) => (tier === 'worker' || tier === 'inline' ? repeats : Math.min(repeats, 20));
  const goalIds = pick('goal row', opts.goals, GOAL_IDS, GOAL_IDS);
  const rounds = opts.rounds ?? (quick ? 3 : 10);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new CapsuleError('USAGE', `rounds must be a whole number ≥ 1, got ${rounds}`);
  const callsPerRound = opts.callsPerRound;
  if (callsPerRound !== undefined && !(Number.isInteger(callsPerRound) && callsPerRound >= 1)) {
    throw new CapsuleError('USAGE', `calls per round must be a whole number ≥ 1, got ${callsPerRound}`);
  }
  const env = environment(capsuleVersion());

  const benchCaps = await mkdtemp(path.join(tmpdir(), 'capsule-bench-caps-'));
  const p = opts.progress;
  try {
    await writeBenchCapabilities(benchCaps);
    const ctx: CapsuleContext = { capabilitiesDirs: [CAPABILITIES_DIR, benchCaps], policy: BENCH_POLICY };
    const extism = peers.includes('extism') ? await loadExtism() : undefined;
    const jobs = plan(ctx, tiers, workloads, extism);
    const auditTier = workloadNames.includes(AUDIT_WORKLOAD) ? (tiers.includes('worker') ? 'worker' : tiers[0]) : undefined;
    const hostRuns = workloadNames.includes(HOST_WORKLOAD) ? HOST_RUNS.filter((h) => tiers.includes(h.tier)) : [];
    const goalDefs = GOALS.filter((g) => goalIds.includes(g.id));
    p?.start(jobs.length + tiers.length * 2 + (auditTier ? 1 : 0) + hostRuns.length + goalDefs.length);

    const rows: Row[] = [];
    const unavailable = new Map<Tier, Missing>();
    for (const tier of tiers) {
      p?.step(`probing tier ${tier}`);
      const missing = await probeTier(ctx, tier);
      if (missing) unavailable.set(tier, missing);
    }
    for (const job of jobs) {
      p?.step(`${job.subject} × ${job.workload.name}`);
      rows.push(await runJob(job, budget, unavailable));
    }
    const limits: LimitRow[] = [];
    for (const tier of tiers) {
      p?.step(`timeout overshoot, ${tier}`);
      const missing = unavailable.get(tier);
      limits.push(missing ? { tier, ...missing } : await limitsOrFailure(ctx, tier, repeatsIn(tier)));
    }
    let auditCost: AuditCost | undefined;
    if (auditTier) {
      p?.step(`auditing off / on, ${auditTier} × echo`);
      const missing = unavailable.get(auditTier);
      auditCost = missing ? { tier: auditTier, ...missing } : await measureAuditCost(ctx, auditTier, budget);
    }
    const hostCallCost: HostCallCost[] = [];
    for (const h of hostRuns) {
      p?.step(`host calls, ${h.tier} × ${h.kind} function`);
      const missing = unavailable.get(h.tier);
      hostCallCost.push(missing ? { tier: h.tier, function: h.kind, ...missing } : await measureHostCallCost(ctx, h.tier, h.kind, budget));
    }
    const goals: Goal[] = [];
    const goalCache = await mkdtemp(path.join(tmpdir(), 'capsule-bench-cache-'));
    try {
      const goalEnv = { ctx, cacheDir: goalCache, extism, rounds, quick, ...(callsPerRound ? { callsPerRound } : {}) };
      for (const def of goalDefs) {
        p?.step(`goal: ${def.name}`);
        goals.push(await measureGoal(def, goalEnv));
      }
    } finally {
      await removeCacheDir(goalCache);
    }
    goals.push(...limitGoals(limits));
    p?.done();
    const result: BenchResult = {
      environment: { ...env, loadAverageAtEnd: environment(env.capsuleVersion).loadAverage },
      command: opts.command ?? 'runBench()',
      settings: { tiers, workloads: workloadNames, peers, goals: goalIds, rounds, durationS, quick },
      workloads: {
        ...Object.fromEntries(workloads.map((w) => [w.name, w.description])),
        ...(auditTier ? { [AUDIT_WORKLOAD]: AUDIT_WORKLOAD_DESCRIPTION } : {}),
        ...(hostRuns.length ? { [HOST_WORKLOAD]: HOST_WORKLOAD_DESCRIPTION } : {}),
      },
      rows,
      limits,
      ...(auditCost ? { auditCost } : {}),
      ...(hostCallCost.length ? { hostCallCost } : {}),
      goals,
      elapsedS: (performance.now() - started) / 1000,
    };
    return { result, files: opts.out === false ? {} : await writeResults(result, opts.out ?? './bench-results') };
  } finally {
    await rm(benchCaps, { recursive: true, force: true });
  }
}

interface Job {
  subject: string;
  kind: Row['kind'];
  workload: Workload;
  tier?: Tier;
  /** Makes the target, or says why there is none. */
  target: () => Promise<Target | string>;
}

function plan(ctx: CapsuleContext, tiers: Tier[], workloads: Workload[], extism: Awaited<ReturnType<typeof loadExtism>> | undefined): Job[] {
  const jobs: Job[] = [];
  for (const tier of tiers) {
    for (const w of workloads) jobs.push({ subject: tier, kind: 'tier', workload: w, tier, target: async () => capsuleTarget(ctx, tier, w) });
  }
  for (const w of workloads.filter((x) => x.postMessage)) {
    jobs.push({ subject: SUBJECTS.postMessage, kind: 'baseline', workload: w, target: async () => postMessageTarget(w) });
  }
  for (const w of workloads.filter((x) => x.direct)) {
    for (const fresh of [false, true]) {
      const subject = fresh ? SUBJECTS.directFresh : SUBJECTS.directReused;
      jobs.push({ subject, kind: 'baseline', workload: w, target: () => directFor(ctx, w, fresh) });
    }
  }
  if (extism !== undefined) {
    for (const w of workloads) {
      const plugin = w.extism;
      if (plugin === undefined) continue;
      for (const inWorker of [false, true]) {
        const subject = inWorker ? SUBJECTS.extismWorker : SUBJECTS.extismForeground;
        const target = async () => (typeof extism === 'string' ? extism : extismTarget(extism, w, plugin, inWorker));
        jobs.push({ subject, kind: 'peer', workload: w, target });
      }
    }
  }
  return jobs;
}

/** The workload's core module, taken from capsule's own compiled component. */
async function directFor(ctx: CapsuleContext, w: Workload, fresh: boolean): Promise<Target | string> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'capsule-bench-cache-'));
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy, cacheDir });
  try {
    const mod = coreModuleOf(await rt.load(w.capability));
    return mod ? directTarget(mod, w, fresh) : `${w.capability} has no single import-free core module exporting run`;
  } finally {
    await rt.close();
    await removeCacheDir(cacheDir);
  }
}

async function runJob(job: Job, budget: Budget, unavailable: Map<Tier, Missing>): Promise<Row> {
  const base = { subject: job.subject, kind: job.kind, workload: job.workload.name };
  const missing = job.tier && unavailable.get(job.tier);
  if (missing) return { ...base, ...missing };
  try {
    const target = await job.target();
    if (typeof target === 'string') return { ...base, status: 'unavailable', reason: target };
    return { ...base, status: 'ok', ...(await measure(target, job.workload, budget)) };
  } catch (e) {
    return { ...base, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  }
}

async function limitsOrFailure(ctx: CapsuleContext, tier: Tier, repeats: number): Promise<LimitRow> {
  try {
    return await measureLimits(ctx, tier, repeats);
  } catch (e) {
    return { tier, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  }
}

async function writeResults(r: BenchResult, dir: string): Promise<BenchRun['files']> {
  await mkdir(dir, { recursive: true });
  const files = { json: path.join(dir, 'results.json'), markdown: path.join(dir, 'results.md'), svg: path.join(dir, 'latency.svg') };
  await writeFile(files.json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(files.markdown, toMarkdown(r, 'latency.svg'));
  await writeFile(files.svg, toSvg(r));
  return files;
}
