// Number formatting shared by the table, Markdown and SVG writers.
import type { Goal, Row } from './types.js';

/** Milliseconds as µs below 1 ms, ms below 10 s. */
export function ms(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x < 1) return `${(x * 1000).toFixed(x < 0.01 ? 2 : 1)} µs`;
  if (x < 100) return `${x.toFixed(2)} ms`;
  if (x < 10_000) return `${x.toFixed(0)} ms`;
  return `${(x / 1000).toFixed(1)} s`;
}

export function count(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

export function mib(b: number | undefined): string {
  if (b === undefined) return '–';
  return b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`;
}

export function ratio(x: number | null): string {
  if (x === null) return 'not measured';
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2);
}

export const ROW_HEADERS = ['subject', 'workload', 'cold first call', 'warm p50', 'warm p99', 'calls/s ×1', 'calls/s ×2', 'guest memory'];

/** One table row per Row; a row without figures says why in place of them. */
export function rowCells(r: Row): string[] {
  if (r.status !== 'ok') return [r.subject, r.workload, '–', '–', '–', '–', '–', `${r.status}: ${r.reason ?? ''}`];
  const t = (c: number) => r.throughput?.find((x) => x.concurrency === c)?.callsPerSecond;
  const cold = r.cold ? `${ms(r.cold.ms)}${r.cold.cache !== 'n/a' ? ` (${r.cold.cache})` : ''}` : 'n/a';
  return [r.subject, r.workload, cold, ms(r.warm?.p50), ms(r.warm?.p99), count(t(1)), count(t(2)), mib(r.memoryBytes)];
}

export const GOAL_HEADERS = ['row', 'median', 'spread min–max', 'IQR', 'goal', 'meets', 'rounds × calls', 'load avg start → end'];

/** A goal row's value in its unit: a ratio, a difference in µs, or a time. */
export function goalValue(unit: Goal['unit'], x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (unit === 'µs') return `${x >= 0 ? '+' : ''}${x.toFixed(1)} µs`;
  if (unit === 'ms') return ms(x);
  return ratio(x);
}

/** One goals-table row: the median and spread of the per-round values, or why there are none. */
export function goalCells(g: Goal): string[] {
  const meets = g.meets === undefined ? '' : g.meets ? 'yes' : 'NO';
  if (g.status !== 'ok') return [g.name, '–', '–', '–', g.goal ?? '', `${g.status}: ${g.reason ?? ''}`, '', ''];
  const v = (x: number | undefined) => goalValue(g.unit, x);
  const load = (l: number[]) => (l[0] ?? Number.NaN).toFixed(2);
  if (g.paired) {
    const p = g.paired;
    return [
      g.name,
      v(g.value),
      `${v(p.spread.min)} – ${v(p.spread.max)}`,
      `${v(p.spread.q1)} – ${v(p.spread.q3)}`,
      g.goal ?? '',
      meets,
      `${p.rounds} × ${p.callsPerRound}`,
      `${load(p.loadAverage.start)} → ${load(p.loadAverage.end)}`,
    ];
  }
  const s = g.samples;
  return [g.name, v(g.value), s ? `${v(s.min)} – ${v(s.max)}` : '', '', g.goal ?? '', meets, s ? `${s.n} run${s.n === 1 ? '' : 's'}` : '', ''];
}
