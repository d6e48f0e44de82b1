// capsule bench: the harness runs one tiny workload for a few iterations and
// produces every part of its report. No timing is asserted, only that each
// figure was measured (a finite number) or says why it is missing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../dist/bench.js';
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
    // The spinning guest was interrupted, not its worker killed: one thread served every echo call around it.
    expect(result.limits.find((x) => x.tier === 'worker')!.workers).toBe(1);

    const ratio = (prefix: string) => result.ratios.find((r) => r.name.startsWith(prefix));
    for (const name of [
      'worker warm call / bare postMessage echo',
      'capsule worker / Extism runInWorker, echo',
      'capsule inline / Extism foreground, echo',
      'capsule inline / direct fresh-instance call, echo',
      'fresh core instance over the call',
      'timeout overshoot, worker (ms, p50)',
      'first call after a kill, worker (ms, p50)',
      'first call after a timeout / warm call, worker',
      'timeout overshoot, inline (ms, p99)',
      'throughput 2 callers / 1 caller, worker, echo',
    ]) {
      expect(finite(ratio(name)?.value), name).toBe(true);
    }
    // A ratio whose inputs were not measured (no fib workload here) is null, not guessed.
    expect(ratio('capsule worker / Extism runInWorker, fib')?.value).toBeNull();

    expect(result.environment.cores).toBeGreaterThan(0);
    expect(result.environment.node).toBe(process.version);
    expect(JSON.parse(readFileSync(files.json!, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
    const md = readFileSync(files.markdown!, 'utf8');
    expect(md).toContain('| subject | workload |');
    expect(md).toMatch(/\| process \| echo \|.*(unavailable|µs|ms)/);
    const svg = readFileSync(files.svg!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('extism (runInWorker)');
    expect(path.dirname(files.svg!)).toBe(out);
  }, 120_000);

  it('fib measures the fuel checks off and on, interleaved, with the instrumentation time', async () => {
    const { result } = await runBench({ tiers: ['inline'], workloads: ['fib'], peers: [], durationS: 0.05, maxSamples: 4, limitRepeats: 1, out: false });
    const f = result.fuelCost?.find((x) => x.workload === 'fib');
    expect(f?.status, f?.reason).toBe('ok');
    expect(f!.off!.n).toBe(f!.on!.n);
    expect(finite(f!.ratio) && finite(f!.instrumentMs) && finite(f!.fuelPerMs)).toBe(true);
    expect(f!.fuelPerCall).toBeGreaterThan(1_000_000);
    expect(result.ratios.find((r) => r.name === 'fuel checks on / off, fib')).toMatchObject({ target: '≤ 1.1' });
  }, 120_000);

  it('echo-audit measures echo with auditing off and on, interleaved, and reports the cost per call', async () => {
    const { result } = await runBench({ tiers: ['worker'], workloads: ['echo-audit'], peers: [], durationS: 0.05, maxSamples: 6, limitRepeats: 1, out: false });
    const a = result.auditCost!;
    expect(a.status, a.reason).toBe('ok');
    expect(a.tier).toBe('worker');
    expect(a.off!.n).toBe(a.on!.n);
    expect(finite(a.off!.p50) && finite(a.on!.p50) && finite(a.overheadUs) && finite(a.finalFlushMs)).toBe(true);
    // grant, link, run.start, run.end: the load line was written once, before the measured calls.
    expect(a.linesPerCall).toBe(4);
    expect(result.workloads['echo-audit']).toMatch(/interleaved/);
    expect(finite(result.ratios.find((r) => r.name === 'auditing on / off, worker, echo')?.value)).toBe(true);
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
    const r = cli(['bench', '--tiers', 'worker,vm', '--workloads', 'echo', '--peers', 'none', '--duration', '0.05', '--quick', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^worker\s+echo\s+\S/m);
    expect(r.stdout).toMatch(/^vm\s+echo\s.*(unavailable: |µs|ms)/m);
    expect(r.stdout).not.toContain('extism');
    expect(r.stderr).toContain('bench [');
    expect(existsSync(path.join(out, 'results.json'))).toBe(true);

    const bad = cli(['bench', '--workloads', 'nope', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^capsule: USAGE: unknown workload nope/);
    expect(bad.stderr).not.toMatch(STACK_TRACE);
  }, 120_000);
});
