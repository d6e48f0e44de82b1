// capsule bench: the harness runs one tiny workload for a few iterations and
// produces every part of its report. No timing is asserted, only that each
// figure was measured (a finite number) or says why it is missing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../dist/bench.js';
import type { Goal } from '../dist/bench.js';
import { cli, STACK_TRACE, tempDir } from './helpers.js';

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

describe('capsule bench', () => {
  it('measures echo on inline and worker beside the baselines and Extism, and writes JSON, Markdown and SVG', async () => {
    const out = tempDir('capsule-bench-test-');
    const { result, files } = await runBench({
      tiers: ['inline', 'worker', 'process'],
      workloads: ['echo'],
      peers: ['extism'],
      durationS: 0.05,
      maxSamples: 5,
      limitRepeats: 1,
      goals: [],
      out,
    });

    const row = (subject: string) => result.rows.find((r) => r.subject === subject && r.workload === 'echo');
    for (const subject of [
      'inline',
      'worker',
      'postMessage echo',
      'direct (reused instance)',
      'direct (fresh instance)',
      'extism (foreground)',
      'extism (runInWorker)',
    ]) {
      const r = row(subject);
      expect(r, subject).toBeDefined();
      expect(r!.status, `${subject}: ${r!.reason}`).toBe('ok');
      expect(r!.warm!.n).toBeGreaterThanOrEqual(1);
      expect(r!.warm!.n).toBeLessThanOrEqual(5);
      expect(finite(r!.warm!.p50) && finite(r!.warm!.p99), subject).toBe(true);
      expect(r!.throughput!.map((t) => t.concurrency)).toEqual([1, 2]);
      expect(r!.throughput!.every((t) => finite(t.callsPerSecond) && t.callsPerSecond > 0)).toBe(true);
    }
    // Cold calls start from an empty cache: the component is transpiled, not read back.
    expect(row('worker')!.cold!.cache).toBe('transpiled');
    expect(row('inline')!.cold!.cache).toBe('transpiled');
    expect(row('worker')!.memoryBytes).toBeGreaterThan(0);

    // A tier without a runner is a row that says so, never a silent gap or a made-up figure.
    const proc = row('process')!;
    const procLimits = result.limits.find((l) => l.tier === 'process')!;
    if (proc.status === 'unavailable') {
      expect(proc.reason).toMatch(/process/);
      expect(proc.warm).toBeUndefined();
      expect(procLimits.status).toBe('unavailable');
    } else {
      expect(proc.status).toBe('ok');
    }

    // Inline timeouts work now (fuel checks): the inline tier has an overshoot like the worker tier.
    for (const tier of ['inline', 'worker']) {
      const l = result.limits.find((x) => x.tier === tier)!;
      expect(l.status, l.reason).toBe('ok');
      expect(finite(l.overshoot!.p50) && finite(l.overshoot!.p99) && finite(l.firstCallAfterKill!.p50) && finite(l.warmCall!.p50)).toBe(true);
      // The timeout really happened: no TIMEOUT can come back before its 100 ms limit.
      expect(l.overshoot!.min).toBeGreaterThanOrEqual(0);
    }
    const l = (tier: string) => result.limits.find((x) => x.tier === tier)!;
    // The spinning guest was interrupted, not its worker killed: one thread served every echo call around it.
    expect(result.limits.find((x) => x.tier === 'worker')!.workers).toBe(1);
    // Beside the worker tier's TIMEOUTs, as many bare-thread round trips, none back before its 100 ms.
    expect(l('worker').bareThread!.n).toBe(l('worker').overshoot!.n);
    expect(l('worker').bareThread!.min).toBeGreaterThanOrEqual(0);
    expect(l('inline').bareThread).toBeUndefined();

    // The latency table's figures are taken apart from each other: no ratio is made of them. The goals table holds every
    // ratio, here only the timeout rows (goals: []), the ratio among them from pairs of calls around each TIMEOUT.
    expect(result.goals.map((g) => g.id).sort()).toEqual(
      ['after-timeout', 'timeout-overshoot-p50', 'timeout-overshoot-p99'].flatMap((id) => [`${id}-inline`, `${id}-worker`]).sort(),
    );
    const after = result.goals.find((g) => g.id === 'after-timeout-worker')!;
    expect(after.paired!.rounds).toBe(1);
    expect(after.value).toBe(after.paired!.perRound[0]);
    expect(after.value).toBeCloseTo(l('worker').firstCallAfterKill!.p50 / l('worker').warmCall!.p50, 9);

    expect(result.environment.cores).toBeGreaterThan(0);
    expect(result.environment.node).toBe(process.version);
    expect(JSON.parse(readFileSync(files.json!, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
    const md = readFileSync(files.markdown!, 'utf8');
    expect(md).toContain('| subject | workload |');
    expect(md).toContain('## Goals');
    expect(md).toMatch(/\| first call after a timeout \/ warm call, worker \| \d/);
    expect(md).toMatch(/\| process \| echo \|.*(unavailable|µs|ms)/);
    const svg = readFileSync(files.svg!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('extism (runInWorker)');
    expect(path.dirname(files.svg!)).toBe(out);
  }, 120_000);

  // Issue 11's table, row by row, and issue 10's fuel rows (its timeout rows come with --tiers: none here).
  const GOAL_ROWS: Record<string, string | undefined> = {
    'worker-echo': '≤ 2',
    'worker-extism': '≤ 0.5',
    'inline-direct': '≤ +20 µs',
    'fresh-instance': '≤ 50 µs',
    throughput: '≥ 1.8',
    'cli-run': '≤ 1.8',
    'cli-version': '≤ 1.3',
    'fuel-fib': '≤ 1.1',
    // The heavy rows: a 16 MiB string, the 12 MB JavaScript plugin transpiled, instrumented and run.
    'echo-16mib': '≤ 2.5',
    'markdown-fresh': '≤ 2',
    'markdown-first-call': undefined,
    'fuel-markdown': undefined,
  };
  const HEAVY = ['echo-16mib', 'markdown-fresh', 'markdown-first-call', 'fuel-markdown'];

  /** Every row measured, each ratio one value per round from that round's own calls of both sides, their median the row's value. */
  function expectInterleaved(goals: Goal[], rounds: number) {
    for (const g of goals) {
      expect(g.status, `${g.id}: ${g.reason}`).toBe('ok');
      expect(g.definition.length, g.id).toBeGreaterThan(40);
      expect(g.goal, g.id).toBe(GOAL_ROWS[g.id]);
      expect(finite(g.value), g.id).toBe(true);
      expect(g.meets === undefined, g.id).toBe(g.goal === undefined);
      if (g.id === 'markdown-first-call') {
        // A time with no baseline: one empty-cache first call per round, one in a quick run.
        expect(g.unit).toBe('ms');
        expect(g.paired).toBeUndefined();
        expect(g.samples!.n).toBe(1);
        continue;
      }
      const p = g.paired!;
      expect(p.rounds, g.id).toBe(rounds);
      expect(p.perRound).toHaveLength(rounds);
      expect(p.subject.n, g.id).toBe(rounds * p.callsPerRound);
      expect(p.baseline.n, g.id).toBe(p.subject.n);
      expect(g.value).toBeCloseTo(((p.perRound[0] ?? 0) + (p.perRound[1] ?? 0)) / 2, 9);
      expect(p.spread.min).toBeLessThanOrEqual(g.value!);
      expect(p.spread.max).toBeGreaterThanOrEqual(g.value!);
      expect(p.loadAverage.start).toHaveLength(3);
      expect(p.loadAverage.end).toHaveLength(3);
      if (g.unit === 'ratio') expect(p.perRound.every((x) => x > 0)).toBe(true);
    }
  }

  it('measures the goal rows from their two sides interleaved over rounds, with median, spread and load average', async () => {
    const { result } = await runBench({
      tiers: [],
      workloads: [],
      peers: ['extism'],
      rounds: 2,
      callsPerRound: 1,
      quick: true,
      out: false,
      goals: Object.keys(GOAL_ROWS).filter((id) => !HEAVY.includes(id)),
    });
    expect(result.settings.rounds).toBe(2);
    expect(result.goals.map((g) => g.id)).toEqual([
      'worker-echo',
      'worker-extism',
      'inline-direct',
      'fresh-instance',
      'throughput',
      'cli-run',
      'cli-version',
      'fuel-fib',
    ]);
    expectInterleaved(result.goals, 2);
    expect(result.goals.find((g) => g.id === 'fuel-fib')!.notes).toMatch(/fuel per call \d+/);
    expect(result.environment.loadAverage).toHaveLength(3);
    expect(result.environment.loadAverageAtEnd).toHaveLength(3);
  }, 300_000);

  it('measures the heavy goal rows the same way: 16 MiB echo, the markdown plugin fresh / warm, its first call, its fuel checks', async () => {
    const { result } = await runBench({ tiers: [], workloads: [], peers: [], rounds: 2, callsPerRound: 1, quick: true, out: false, goals: HEAVY });
    expect(result.goals.map((g) => g.id)).toEqual(['markdown-fresh', 'echo-16mib', 'markdown-first-call', 'fuel-markdown']);
    expectInterleaved(result.goals, 2);
  }, 600_000);

  it('without the peer, its goal row says why instead of a figure', async () => {
    const { result } = await runBench({ tiers: [], workloads: [], peers: [], goals: ['worker-extism'], rounds: 1, callsPerRound: 1, out: false });
    expect(result.goals).toMatchObject([{ id: 'worker-extism', status: 'unavailable', reason: expect.stringMatching(/--peers none/) }]);
    expect(result.goals[0]!.value).toBeUndefined();
  }, 60_000);

  it('echo-audit measures echo with auditing off and on, interleaved, and reports the cost per call', async () => {
    const { result } = await runBench({
      tiers: ['worker'],
      workloads: ['echo-audit'],
      peers: [],
      durationS: 0.05,
      maxSamples: 6,
      limitRepeats: 1,
      goals: [],
      out: false,
    });
    const a = result.auditCost!;
    expect(a.status, a.reason).toBe('ok');
    expect(a.tier).toBe('worker');
    expect(a.off!.n).toBe(a.on!.n);
    expect(finite(a.off!.p50) && finite(a.on!.p50) && finite(a.overheadUs) && finite(a.finalFlushMs)).toBe(true);
    // grant, link, run.start, run.end: the load line was written once, before the measured calls.
    expect(a.linesPerCall).toBe(4);
    expect(result.workloads['echo-audit']).toMatch(/interleaved/);
    // echo-audit alone measures only the pair: no tier rows.
    expect(result.rows).toEqual([]);
  }, 120_000);

  it('host-calls measures 1 000 app host calls per call against none: worker (sync, async) and inline', async () => {
    const { result } = await runBench({
      tiers: ['inline', 'worker'],
      workloads: ['host-calls'],
      peers: [],
      durationS: 0.05,
      maxSamples: 3,
      limitRepeats: 1,
      goals: [],
      out: false,
    });
    const runs = result.hostCallCost ?? [];
    expect(runs.map((h) => `${h.tier} ${h.function}`)).toEqual(['worker sync', 'worker async', 'inline sync']);
    for (const h of runs) {
      expect(h.status, h.reason).toBe('ok');
      expect(h.hostCallsPerCall).toBe(1000);
      expect(h.with!.n).toBe(h.without!.n);
      expect(finite(h.perHostCallUs)).toBe(true);
    }
    expect(result.workloads['host-calls']).toMatch(/capsule-bench:host\/ping/);
  }, 120_000);

  it('the CLI prints the table on stdout, progress on stderr, and refuses unknown workloads', () => {
    const out = tempDir('capsule-bench-cli-');
    const r = cli([
      'bench',
      '--tiers',
      'worker,vm',
      '--workloads',
      'echo',
      '--peers',
      'none',
      '--rows',
      'cli-version',
      '--rounds',
      '2',
      '--duration',
      '0.05',
      '--quick',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^worker\s+echo\s+\S/m);
    expect(r.stdout).toMatch(/^vm\s+echo\s.*(unavailable: |µs|ms)/m);
    expect(r.stdout).not.toContain('extism');
    expect(r.stderr).toContain('bench [');
    expect(r.stdout).toMatch(
      /^`node dist\/cli\.js --version` \/ `node -e 0`\s+\d+\.\d+\s+\d+\.\d+ – \d+\.\d+\s+\d+\.\d+ – \d+\.\d+\s+≤ 1\.3\s+(yes|NO)\s+2 × 1\s+\d/m,
    );
    expect(r.stdout).toMatch(/^first call after a timeout \/ warm call, worker\s+\d/m);
    expect(existsSync(path.join(out, 'results.json'))).toBe(true);

    const bad = cli(['bench', '--workloads', 'nope', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^capsule: USAGE: unknown workload nope/);
    expect(bad.stderr).not.toMatch(STACK_TRACE);
    const badRows = cli(['bench', '--rows', 'nope', '--out', out]);
    expect(badRows.status).toBe(2);
    expect(badRows.stderr).toMatch(/^capsule: USAGE: unknown goal row nope; known: worker-echo,/);
    const badRounds = cli(['bench', '--rounds', '0', '--out', out]);
    expect(badRounds.status).toBe(2);
    expect(badRounds.stderr).toMatch(/^capsule: USAGE: --rounds 0: expected a whole number/);
  }, 120_000);
});
