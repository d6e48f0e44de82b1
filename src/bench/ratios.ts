// capsule's figures divided by the baselines and the peer, all from the same run.
// A ratio whose inputs were not measured is null, never guessed.
import type { AuditCost, FreshInstance, FuelCost, LimitRow, Ratio, Row } from './types.js';

export const SUBJECTS = {
  postMessage: 'postMessage echo',
  directReused: 'direct (reused instance)',
  directFresh: 'direct (fresh instance)',
  extismForeground: 'extism (foreground)',
  extismWorker: 'extism (runInWorker)',
} as const;

const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

export function computeRatios(rows: Row[], limits: LimitRow[], fresh: FreshInstance[], audit?: AuditCost, fuel: FuelCost[] = []): Ratio[] {
  const p50 = (subject: string, workload: string) => rows.find((r) => r.subject === subject && r.workload === workload && r.status === 'ok')?.warm?.p50;
  const tput = (subject: string, workload: string, c: number) =>
    rows.find((r) => r.subject === subject && r.workload === workload)?.throughput?.find((t) => t.concurrency === c)?.callsPerSecond;
  const out: Ratio[] = [];
  const divide = (name: string, a: number | undefined, b: number | undefined, from: string, max?: number) => {
    const value = finite(a) && finite(b) && b > 0 ? a / b : null;
    const r: Ratio = { name, value, from };
    if (max !== undefined) {
      r.target = `≤ ${max}`;
      if (value !== null) r.meets = value <= max;
    }
    out.push(r);
  };

  divide('worker warm call / bare postMessage echo', p50('worker', 'echo'), p50(SUBJECTS.postMessage, 'echo'), 'p50 of echo (small JSON)', 1.5);
  divide('worker warm call / bare postMessage echo, 1 MiB', p50('worker', 'echo-1mib'), p50(SUBJECTS.postMessage, 'echo-1mib'), 'p50 of echo-1mib');
  for (const w of ['echo', 'echo-1mib', 'fib']) {
    // ≥ 5× faster than Extism in a worker is a ratio ≤ 0.2.
    divide(`capsule worker / Extism runInWorker, ${w}`, p50('worker', w), p50(SUBJECTS.extismWorker, w), `p50 of ${w}`, w === 'echo' ? 0.2 : undefined);
  }
  for (const w of ['echo', 'echo-1mib', 'fib']) {
    divide(`capsule inline / Extism foreground, ${w}`, p50('inline', w), p50(SUBJECTS.extismForeground, w), `p50 of ${w}`);
  }
  for (const w of ['echo', 'fib']) {
    divide(`capsule inline / direct fresh-instance call, ${w}`, p50('inline', w), p50(SUBJECTS.directFresh, w), `p50 of ${w}`);
  }

  const echoFresh = fresh.find((f) => f.workload === 'echo');
  const overUs = (value: number | null, name: string, from: string) => {
    out.push({ name, value, from, target: '≤ 50 µs', ...(value === null ? {} : { meets: value <= 50 }) });
  };
  overUs(echoFresh ? echoFresh.overheadUs : null, 'fresh core instance over the call (µs)', 'echo: direct fresh p50 − direct reused p50');
  const inlineEcho = p50('inline', 'echo');
  const reusedEcho = p50(SUBJECTS.directReused, 'echo');
  overUs(
    finite(inlineEcho) && finite(reusedEcho) ? (inlineEcho - reusedEcho) * 1000 : null,
    "capsule's whole in-thread per-call cost over the call (µs)",
    'echo: inline p50 − direct reused p50 (fresh instance + jco glue + policy + JSON checks)',
  );

  for (const l of limits) {
    const o = l.overshoot;
    const k = l.firstCallAfterKill;
    if (l.status !== 'ok' || !o || !k) continue;
    // Issue 10's goals: a spinning guest is stopped at its next fuel check.
    out.push({
      name: `timeout overshoot, ${l.tier} (ms, p50)`,
      value: o.p50,
      target: '≤ 1 ms',
      meets: o.p50 <= 1,
      from: `bench-spin, limit 100 ms, ${o.n} runs`,
    });
    out.push({ name: `timeout overshoot, ${l.tier} (ms, p99)`, value: o.p99, target: '≤ 2 ms', meets: o.p99 <= 2, from: `bench-spin, ${o.n} runs` });
    out.push({ name: `first call after a kill, ${l.tier} (ms, p50)`, value: k.p50, from: `an echo call right after each TIMEOUT, ${k.n} runs` });
    divide(
      `first call after a timeout / warm call, ${l.tier}`,
      k.p50,
      l.warmCall?.p50,
      'p50 of the echo call right after each TIMEOUT vs the one right before it',
      1.2,
    );
  }

  for (const f of fuel) {
    const from = `p50 of ${f.workload}, core modules with vs without fuel checks, interleaved call by call in-thread`;
    divide(`fuel checks on / off, ${f.workload}`, f.on?.p50, f.off?.p50, from, f.workload === 'fib' ? 1.1 : undefined);
  }

  if (audit) {
    const from = `echo, ${audit.tier}, auditing on vs off interleaved call by call`;
    divide(`auditing on / off, ${audit.tier}, echo`, audit.on?.p50, audit.off?.p50, `p50 of ${from}`);
    out.push({ name: `auditing cost per call, ${audit.tier} (µs, p50)`, value: audit.overheadUs ?? null, from: `on p50 − off p50 of ${from}` });
  }

  for (const tier of ['worker', 'inline']) {
    for (const w of ['echo', 'fib']) {
      divide(`throughput 2 callers / 1 caller, ${tier}, ${w}`, tput(tier, w, 2), tput(tier, w, 1), `calls/s of ${w}`);
    }
  }
  return out;
}

export function freshInstances(rows: Row[]): FreshInstance[] {
  const out: FreshInstance[] = [];
  for (const r of rows.filter((x) => x.subject === SUBJECTS.directFresh && x.status === 'ok')) {
    const reused = rows.find((x) => x.subject === SUBJECTS.directReused && x.workload === r.workload && x.status === 'ok');
    if (!reused?.warm || !r.warm) continue;
    out.push({ workload: r.workload, reused: reused.warm, fresh: r.warm, overheadUs: (r.warm.p50 - reused.warm.p50) * 1000 });
  }
  return out;
}
