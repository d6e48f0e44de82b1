// The goals table: every figure issue 11 and issue 10 set a goal for, each with
// its definition (docs/benchmarks.md gives the same words), measured so that a
// ratio always comes from its two sides interleaved call by call (paired.ts).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime } from '../api.js';
import { CapsuleError, messageOf } from '../errors.js';
import type { Tier } from '../policy/tier.js';
import type { Runtime } from '../runtime.js';
import { removeCacheDir } from '../sandbox/transpile-cache.js';
import { coreModuleOf, directTarget, EchoWorker } from './baselines.js';
import type { CapsuleContext } from './capsule-target.js';
import { CLI_FILE, cliMissing, nodeRun } from './cli-start.js';
import { fuelPair } from './fuel-cost.js';
import { type Combine, combine, paired, type Rounds, type TimedCall, timed } from './paired.js';
import { extismTarget, type loadExtism } from './peers/extism.js';
import { CAPABILITIES_DIR } from './setup.js';
import { ms } from './format.js';
import { summarize } from './stats.js';
import type { Goal, LimitRow, Paired, Summary } from './types.js';
import { freshAndWarm } from './warm-instance.js';
import { WORKLOADS, type Workload } from './workloads.js';

export interface GoalEnv {
  ctx: CapsuleContext;
  /** A transpile cache shared by the rows that want a warm one. */
  cacheDir: string;
  extism: Awaited<ReturnType<typeof loadExtism>> | undefined;
  rounds: number;
  quick: boolean;
  /** Overrides every row's calls per round (a test's few). */
  callsPerRound?: number;
}

type Measured = { paired: Paired; notes?: string } | { samples: Summary; notes?: string };

export interface GoalDef {
  id: string;
  name: string;
  definition: string;
  unit: Goal['unit'];
  goal?: { text: string; meets: (v: number) => boolean };
  /** Calls of each side per round in a full run. */
  calls: number;
  /** The reason the row cannot be measured here, or what it measured. */
  run(env: GoalEnv, rounds: Rounds): Promise<Measured | string>;
}

const atMost = (x: number, text = `≤ ${x}`) => ({ text, meets: (v: number) => v <= x });
const atLeast = (x: number) => ({ text: `≥ ${x}`, meets: (v: number) => v >= x });

const BIG = 16 << 20;

function workload(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`no workload ${name}`);
  return w;
}

/** The echo workload's small JSON value ({ hello: 'world', ... }). */
const SMALL = workload('echo').input();

async function withRuntime<T>(env: GoalEnv, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  // Two threads at most, so two callers can use both cores; one started up front, as `capsule run` does.
  const rt = await createRuntime({
    capabilitiesDir: env.ctx.capabilitiesDirs,
    policy: env.ctx.policy,
    cacheDir: env.cacheDir,
    pool: { minThreads: 1, maxThreads: 2 },
  });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** The echo workload's single import-free core module (the direct baselines call it), or why there is none. */
function withEchoCore<T>(env: GoalEnv, fn: (rt: Runtime, mod: WebAssembly.Module, w: Workload) => Promise<T>): Promise<T | string> {
  const w = workload('echo');
  return withRuntime(env, async (rt) => {
    const mod = coreModuleOf(await rt.load(w.capability));
    if (!mod) return `${w.capability} has no single import-free core module exporting run`;
    return fn(rt, mod, w);
  });
}

const echoCall = (rt: Runtime, tier: Tier): TimedCall =>
  timed(
    async () => (await rt.run('bench.echo', SMALL, { tier })).output,
    (o) => workload('echo').check(o),
  );

async function withEchoWorker<T>(fn: (w: EchoWorker) => Promise<T>): Promise<T> {
  const w = await EchoWorker.start();
  try {
    return await fn(w);
  } finally {
    await w.worker.terminate();
  }
}

async function pairWith(subject: TimedCall, baseline: TimedCall, rounds: Rounds, how: Combine = 'ratio'): Promise<Measured> {
  return { paired: await paired(subject, baseline, rounds, how) };
}

/** Calls per window of the throughput row: each window is `n` calls by one caller, or n/2 by each of two. */
const window =
  (calls: Array<() => Promise<unknown>>, n: number): TimedCall =>
  async () => {
    const t = performance.now();
    await Promise.all(
      calls.map(async (call) => {
        for (let i = 0; i < n / calls.length; i++) await call();
      }),
    );
    return (performance.now() - t) / n;
  };

const THROUGHPUT_WINDOW = 100;

export const GOALS: GoalDef[] = [
  {
    id: 'worker-echo',
    name: 'worker warm call / bare postMessage echo',
    definition:
      'p50 of rt.run(bench.echo, small JSON, worker tier) on a warm runtime (two threads) over p50 of a postMessage round trip of the same value to a bare worker_threads worker that posts it back',
    unit: 'ratio',
    goal: atMost(2),
    calls: 200,
    run: (env, rounds) =>
      withRuntime(env, (rt) =>
        withEchoWorker((w) =>
          pairWith(
            echoCall(rt, 'worker'),
            timed(
              () => w.roundTrip(SMALL),
              (o) => workload('echo').check(o),
            ),
            rounds,
          ),
        ),
      ),
  },
  {
    id: 'worker-extism',
    name: 'capsule worker / Extism runInWorker, echo',
    definition:
      "p50 of the worker row's capsule call over p50 of the Extism JS SDK's call of an equivalent echo plugin (fixtures/build/bench-extism-echo.wasm) created with runInWorker: true; below 0.5 means capsule is over 2× faster",
    unit: 'ratio',
    goal: atMost(0.5),
    calls: 100,
    async run(env, rounds) {
      const create = env.extism;
      if (create === undefined) return 'the extism peer was not selected (--peers none)';
      if (typeof create === 'string') return create;
      const w = workload('echo');
      const plugin = w.extism;
      if (!plugin) return 'echo has no Extism plugin';
      const peer = extismTarget(create, w, plugin, true);
      try {
        await peer.cold();
        return await withRuntime(env, (rt) =>
          pairWith(
            echoCall(rt, 'worker'),
            timed(() => peer.call(0), w.check),
            rounds,
          ),
        );
      } finally {
        await peer.close();
      }
    },
  },
  {
    id: 'inline-direct',
    name: 'inline tier − direct fresh-instance call, echo (µs)',
    definition:
      "p50 of rt.run(bench.echo, small JSON, inline tier) minus p50 of a direct call of the same core module (out of capsule's own compiled component) on a new WebAssembly.Instance, in the same thread, JSON in and out as capsule does",
    unit: 'µs',
    goal: atMost(20, '≤ +20 µs'),
    calls: 200,
    async run(env, rounds) {
      return withEchoCore(env, (rt, mod, w) => {
        const direct = directTarget(mod, w, true);
        return pairWith(
          echoCall(rt, 'inline'),
          timed(() => direct.call(0), w.check),
          rounds,
          'difference-us',
        );
      });
    },
  },
  {
    id: 'fresh-instance',
    name: 'direct fresh-instance call − direct reused-instance call, echo (µs)',
    definition:
      'p50 of a direct call of the echo core module on a new instance minus p50 of the same call on one reused instance: what a fresh instance costs by itself',
    unit: 'µs',
    goal: atMost(50, '≤ 50 µs'),
    calls: 200,
    async run(env, rounds) {
      return withEchoCore(env, (_rt, mod, w) => {
        const fresh = directTarget(mod, w, true);
        const reused = directTarget(mod, w, false);
        return pairWith(
          timed(() => fresh.call(0), w.check),
          timed(() => reused.call(0), w.check),
          rounds,
          'difference-us',
        );
      });
    },
  },
  {
    id: 'markdown-fresh',
    name: 'demo.markdown.render fresh-instance call / call on a warm instance',
    definition:
      'p50 of instantiating demo.markdown.render (componentize-js) and calling run once, over p50 of calling run on one instance made once and reused; same thread, same core modules (memory-capped, no fuel checks), same glue and host imports capsule links',
    unit: 'ratio',
    goal: atMost(2),
    calls: 10,
    async run(env, rounds) {
      const sides = await freshAndWarm(env.ctx, workload('markdown'), env.cacheDir);
      if (typeof sides === 'string') return sides;
      try {
        return await pairWith(sides.fresh, sides.warm, rounds);
      } finally {
        await sides.close();
      }
    },
  },
  {
    id: 'echo-16mib',
    name: 'worker 16 MiB string echo / bare postMessage of the string',
    definition:
      'p50 of rt.run(bench.echo-big, a 16 MiB string, worker tier) over p50 of a postMessage round trip of the same string to a bare worker_threads worker',
    unit: 'ratio',
    goal: atMost(2.5),
    calls: 4,
    async run(env, rounds) {
      const big = 'x'.repeat(BIG);
      const check = (o: unknown) => {
        if (typeof o !== 'string' || o.length !== BIG) throw new Error('the 16 MiB echo came back wrong');
      };
      return withRuntime(env, (rt) =>
        withEchoWorker((w) =>
          pairWith(
            timed(async () => (await rt.run('bench.echo-big', big, { tier: 'worker' })).output, check),
            timed(() => w.roundTrip(big), check),
            rounds,
          ),
        ),
      );
    },
  },
  {
    id: 'throughput',
    name: 'echo throughput, 2 callers / 1 caller, worker',
    definition: `calls per second of rt.run(bench.echo, small JSON, worker tier) with two callers in flight over calls per second with one, on one runtime with two threads; each side is a window of ${THROUGHPUT_WINDOW} calls, windows interleaved`,
    unit: 'ratio',
    goal: atLeast(1.8),
    calls: 3,
    run: (env, rounds) =>
      withRuntime(env, async (rt) => {
        const call = echoCall(rt, 'worker');
        const n = env.quick ? 20 : THROUGHPUT_WINDOW;
        // ms per call: two callers' per-call time is the smaller one, so 1 caller / 2 callers is the throughput ratio.
        return pairWith(window([call, call], n), window([call], n), rounds, 'inverse-ratio');
      }),
  },
  {
    id: 'cli-run',
    name: '`node dist/cli.js run demo.echo` (warm cache) / `node -e 0`',
    definition:
      'wall time of spawning node dist/cli.js run demo.echo --input JSON until it exits (transpile cache already filled) over the wall time of spawning node -e 0, spawned alternately',
    unit: 'ratio',
    goal: atMost(1.8),
    calls: 5,
    async run(env, rounds) {
      const missing = cliMissing();
      if (missing) return missing;
      const e = { ...process.env, CAPSULE_CACHE_DIR: env.cacheDir };
      const run = nodeRun([CLI_FILE, 'run', 'demo.echo', '--input', JSON.stringify(SMALL), '--capabilities', CAPABILITIES_DIR], e, /"hello": "world"/);
      return pairWith(run, nodeRun(['-e', '0'], e, /^$/), { ...rounds, warmup: Math.max(1, rounds.warmup) });
    },
  },
  {
    id: 'cli-version',
    name: '`node dist/cli.js --version` / `node -e 0`',
    definition: 'wall time of spawning node dist/cli.js --version until it exits over the wall time of spawning node -e 0, spawned alternately',
    unit: 'ratio',
    goal: atMost(1.3),
    calls: 5,
    async run(env, rounds) {
      const missing = cliMissing();
      if (missing) return missing;
      const e = { ...process.env, CAPSULE_CACHE_DIR: env.cacheDir };
      return pairWith(nodeRun([CLI_FILE, '--version'], e, /^capsule \S+/), nodeRun(['-e', '0'], e, /^$/), rounds);
    },
  },
  {
    id: 'markdown-first-call',
    name: 'first call of demo.markdown.render, empty cache (ms)',
    definition:
      'rt.run(demo.markdown.render) on a new runtime with an empty transpile cache: transpiling the 12 MB component, compiling and instrumenting its core modules, and the call. One per round, at most 3 (1 with --quick); the first also loads the transpiler into the process',
    unit: 'ms',
    calls: 1,
    async run(env, rounds) {
      const w = workload('markdown');
      const times: number[] = [];
      // Seconds each: at most 3, and one in a quick run.
      for (let i = 0; i < Math.min(rounds.rounds, env.quick ? 1 : 3); i++) {
        const cacheDir = await mkdtemp(path.join(tmpdir(), 'capsule-bench-cache-'));
        const rt = await createRuntime({ capabilitiesDir: env.ctx.capabilitiesDirs, policy: env.ctx.policy, cacheDir, pool: { minThreads: 1, maxThreads: 1 } });
        try {
          const t = performance.now();
          const r = await rt.run(w.capability, w.input());
          times.push(performance.now() - t);
          w.check(r.output);
          if (r.stats.cache !== 'transpiled') throw new Error(`the first call found the cache ${r.stats.cache}, not empty`);
        } finally {
          await rt.close();
          await removeCacheDir(cacheDir);
        }
      }
      return { samples: summarize(times) };
    },
  },
  ...(['fib', 'markdown'] as const).map(
    (name): GoalDef => ({
      id: `fuel-${name}`,
      name: `fuel checks on / off, ${name}`,
      definition: `p50 of ${name} with its core modules compiled with fuel checks over p50 without them, both run by the same execute() on the bench's thread (a fresh instance per call, as capsule runs it)`,
      unit: 'ratio',
      ...(name === 'fib' ? { goal: atMost(1.1) } : {}),
      calls: name === 'fib' ? 20 : 5,
      async run(env, rounds) {
        const pair = await fuelPair(env.ctx, workload(name), env.cacheDir);
        if (typeof pair === 'string') return pair;
        try {
          const m = await pairWith(pair.on, pair.off, rounds);
          const fuel = pair.fuelPerCall();
          const p50 = 'paired' in m ? m.paired.subject.p50 : Number.NaN;
          const notes = `fuel per call ${fuel}, ${Math.round(fuel / p50)} fuel per ms (on p50), instrumentation pass ${pair.instrumentMs.toFixed(0)} ms over ${pair.coreBytes} bytes of core modules`;
          return { ...m, notes };
        } finally {
          await pair.close();
        }
      },
    }),
  ),
];

export const GOAL_IDS = GOALS.map((g) => g.id);

export async function measureGoal(def: GoalDef, env: GoalEnv): Promise<Goal> {
  const calls = env.callsPerRound ?? (env.quick ? Math.max(1, Math.ceil(def.calls / 5)) : def.calls);
  const rounds: Rounds = { rounds: env.rounds, callsPerRound: calls, warmup: Math.min(3, calls) };
  const base = { id: def.id, name: def.name, definition: def.definition, unit: def.unit, ...(def.goal ? { goal: def.goal.text } : {}) };
  try {
    const m = await def.run(env, rounds);
    if (typeof m === 'string') return { ...base, status: 'unavailable', reason: m };
    const value = 'paired' in m ? m.paired.median : m.samples.p50;
    return {
      ...base,
      status: 'ok',
      value,
      ...(def.goal ? { meets: def.goal.meets(value) } : {}),
      ...m,
    };
  } catch (e) {
    return { ...base, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  }
}

/**
 * Issue 10's rows from the timeout runs (limits.ts): the overshoot is a time (no
 * baseline); the call after a TIMEOUT is divided by a warm call after a 100 ms
 * pause (limits.ts), each TIMEOUT one round of one call per side.
 */
export function limitGoals(limits: LimitRow[]): Goal[] {
  const out: Goal[] = [];
  for (const l of limits.filter((x) => x.tier === 'worker' || x.tier === 'inline')) {
    const base = { status: l.status, ...(l.reason ? { reason: l.reason } : {}) };
    const o = l.overshoot;
    const overshoot = (q: 'p50' | 'p99', max: number): Goal => ({
      id: `timeout-overshoot-${q}-${l.tier}`,
      name: `timeout overshoot ${q}, ${l.tier} (ms)`,
      definition: `how long after its 100 ms limit a TIMEOUT of bench-spin (a guest that never returns) rejected, ${q} over the runs`,
      unit: 'ms',
      goal: `≤ ${max} ms`,
      ...base,
      ...(o ? { value: o[q], meets: o[q] <= max, samples: o } : {}),
      ...(l.bareThread ? { notes: `a bare thread in the same run, spinning until 100 ms after the send: ${q} ${ms(l.bareThread[q])}` } : {}),
    });
    out.push(overshoot('p50', 1), overshoot('p99', 2));
    const pairs = l.pairs;
    const after: Goal = {
      id: `after-timeout-${l.tier}`,
      name: `first call after a timeout / warm call, ${l.tier}`,
      definition:
        'an echo call right after each TIMEOUT over an echo call after the same 100 ms spent idle instead (a sleep); the two alternate which goes first, one round per TIMEOUT',
      unit: 'ratio',
      goal: '≤ 1.2',
      ...base,
    };
    if (pairs && pairs.warm.length > 0) {
      const rounds = pairs.warm.map((w, i) => ({ subject: [pairs.after[i] ?? Number.NaN], baseline: [w], subjectFirst: false }));
      const p = combine(rounds, 'ratio', pairs.loadAverage);
      Object.assign(after, { value: p.median, meets: p.median <= 1.2, paired: p });
    }
    out.push(after);
  }
  return out;
}
