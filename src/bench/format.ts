// Number formatting shared by the table, Markdown and SVG writers.
import type { Row } from './types.js';

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
