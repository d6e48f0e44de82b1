// Tallies outcomes and renders the campaign's markdown summary.
export const CLASSES = ['ok', 'capsule', 'internal', 'non-capsule', 'hang', 'crash', 'runaway'];
/** Classes that break the invariant "every failure is a CapsuleError and the host lives". */
export const BAD = new Set(['internal', 'non-capsule', 'hang', 'crash', 'runaway']);

export class Tally {
  constructor() {
    this.byVia = { runtime: {}, cli: {} };
    this.byKind = {};
    this.codes = {};
    this.times = { runtime: [], cli: [] };
    this.timesByKind = {};
    this.anomalies = {};
    this.rss = []; // [caseNumber, generation, bytes]
    this.canaries = { run: 0, failed: 0, problems: [], after: [] };
    this.saved = 0;
    this.examples = {}; // class/code -> first index
  }

  add(via, c, o) {
    const v = (this.byVia[via][o.class] = (this.byVia[via][o.class] ?? 0) + 1);
    void v;
    if (via === 'runtime') {
      const k = (this.byKind[c.kind] ??= {});
      k[o.class] = (k[o.class] ?? 0) + 1;
      (this.timesByKind[c.kind] ??= []).push(o.ms ?? 0);
    }
    if (o.class === 'capsule' || o.class === 'internal') this.codes[o.code] = (this.codes[o.code] ?? 0) + 1;
    this.times[via].push(o.ms ?? 0);
    for (const a of o.anomalies ?? []) this.anomalies[a] = (this.anomalies[a] ?? 0) + 1;
    const key = `${via} ${o.class} ${BAD.has(o.class) ? o.code : ''}`.trim();
    this.examples[key] ??= c.index;
  }

  count(cls) {
    return (this.byVia.runtime[cls] ?? 0) + (this.byVia.cli[cls] ?? 0);
  }

  summary() {
    return {
      runtime: this.byVia.runtime,
      cli: this.byVia.cli,
      bad: Object.fromEntries([...BAD].map((k) => [k, this.count(k)])),
      poisoned: this.canaries.failed,
      anomalies: this.anomalies,
      codes: this.codes,
    };
  }
}

const pct = (xs, p) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
const mib = (b) => (b === undefined ? '–' : `${(b / 2 ** 20).toFixed(0)} MiB`);

export function markdown(t, meta) {
  const L = [];
  L.push(`### Fuzz campaign: seed ${meta.seed}, ${meta.cases} cases${meta.long ? ' (--long)' : ''}`);
  L.push('');
  L.push(`Command: \`${meta.command}\` — wall time ${ms(meta.wallMs)}, ${meta.restarts} runtime restart(s), ${t.saved} case file(s) saved${meta.savedDir ? ` under \`${meta.savedDir}\`` : ''}.`);
  L.push('');
  L.push('| outcome | runtime (API) | CLI (sample) |');
  L.push('| --- | ---: | ---: |');
  for (const c of CLASSES) L.push(`| ${c === 'capsule' ? 'CapsuleError' : c === 'internal' ? 'CapsuleError INTERNAL' : c}${BAD.has(c) ? ' ✗' : ''} | ${t.byVia.runtime[c] ?? 0} | ${t.byVia.cli[c] ?? 0} |`);
  L.push(`| poisoned (a valid component failed afterwards) ✗ | ${t.canaries.failed} of ${t.canaries.run} checks | – |`);
  L.push('');
  L.push('| case kind | cases | ok | CapsuleError | ✗ | time p50 | time max |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [k, v] of Object.entries(t.byKind)) {
    const n = Object.values(v).reduce((a, b) => a + b, 0);
    const bad = [...BAD].reduce((a, c) => a + (v[c] ?? 0), 0);
    L.push(`| ${k} | ${n} | ${v.ok ?? 0} | ${v.capsule ?? 0} | ${bad} | ${ms(pct(t.timesByKind[k], 50))} | ${ms(pct(t.timesByKind[k], 100))} |`);
  }
  L.push('');
  const rt = t.times.runtime;
  const cli = t.times.cli;
  L.push(`Time per case (runtime): p50 ${ms(pct(rt, 50))}, p99 ${ms(pct(rt, 99))}, max ${ms(pct(rt, 100))}. CLI: p50 ${ms(pct(cli, 50))}, p99 ${ms(pct(cli, 99))}, max ${ms(pct(cli, 100))}.`);
  const gen1 = t.rss.filter(([, g]) => g === t.rss[0]?.[1]);
  const at = (xs, f) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))]?.[2];
  L.push(`Runtime process RSS${t.rss.length && gen1.length !== t.rss.length ? ' (first process)' : ''}: start ${mib(at(gen1, 0))}, middle ${mib(at(gen1, 0.5))}, end ${mib(at(gen1, 1))}; peak over all ${mib(Math.max(0, ...t.rss.map((r) => r[2])))}.`);
  L.push(`Cache directory at the end: ${mib(meta.cacheBytes)}. Watchdog stretched by load up to ×${meta.maxStretch.toFixed(1)}${meta.maxStretch > 1 ? ' (load average per core over 1)' : ''}.`);
  L.push('');
  const codes = Object.entries(t.codes).sort((a, b) => b[1] - a[1]);
  if (codes.length) L.push(`CapsuleError codes (both paths): ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}.`);
  const an = Object.entries(t.anomalies);
  if (an.length) L.push(`CLI stderr anomalies: ${an.map(([c, n]) => `${c} ${n}`).join(', ')}.`);
  const bad = Object.entries(t.examples).filter(([k]) => [...BAD].some((b) => k.includes(` ${b}`)));
  if (bad.length) L.push(`First case per failure class: ${bad.map(([k, i]) => `${k} #${i}`).join('; ')}.`);
  if (t.canaries.failed) L.push(`Poisoned after case(s): ${t.canaries.after.join(', ')} (first problem: ${t.canaries.problems[0]?.slice(0, 200)}).`);
  L.push(`Final poisoning check (valid components in the same long-lived runtime): ${meta.finalCanary.length ? `FAILED: ${meta.finalCanary.join('; ')}` : 'passed'}.`);
  return L.join('\n');
}
