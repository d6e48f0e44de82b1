// latency.svg: warm call latency per tier, baseline and peer, grouped by
// workload, on a log scale (bar = p50, tick = p99). Hand-written SVG.
import { ms } from './format.js';
import type { BenchResult, Row } from './types.js';

const COLORS: Record<Row['kind'], string> = { tier: '#2f6db5', baseline: '#8a8a8a', peer: '#d9822b' };
const LABEL_W = 230;
const PLOT_W = 560;
const BAR_H = 14;
const GAP = 4;
const TOP = 66;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toSvg(r: BenchResult): string {
  const measured = r.rows.flatMap((x) => (x.status === 'ok' && x.warm ? [{ ...x, warm: x.warm }] : []));
  const missing = r.rows.filter((x) => x.status !== 'ok');
  const values = measured.flatMap((x) => [x.warm.p50, x.warm.p99]).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 1)));
  const x = (v: number) => LABEL_W + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * PLOT_W;

  const parts: string[] = [];
  let y = TOP;
  for (const workload of r.settings.workloads) {
    const group = measured.filter((m) => m.workload === workload);
    if (group.length === 0) continue;
    parts.push(`<text x="8" y="${y + 11}" font-weight="bold">${escapeXml(workload)}</text>`);
    y += BAR_H + GAP;
    for (const row of group) {
      const w = row.warm;
      parts.push(
        `<text x="${LABEL_W - 6}" y="${y + 11}" text-anchor="end">${escapeXml(row.subject)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${(x(w.p50) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${COLORS[row.kind]}"><title>${escapeXml(`${row.subject} × ${workload}: p50 ${ms(w.p50)}, p99 ${ms(w.p99)}`)}</title></rect>`,
        `<line x1="${x(w.p99).toFixed(1)}" x2="${x(w.p99).toFixed(1)}" y1="${y}" y2="${y + BAR_H}" stroke="#222" stroke-width="2"/>`,
        `<text x="${(x(w.p99) + 5).toFixed(1)}" y="${y + 11}" fill="#444">${escapeXml(ms(w.p50))}</text>`,
      );
      y += BAR_H + GAP;
    }
    y += GAP * 2;
  }
  if (missing.length > 0) {
    const reasons = [...new Set(missing.map((m) => `${m.subject}: ${m.status}`))];
    for (const line of reasons) {
      parts.push(`<text x="8" y="${y + 11}" fill="#a33">${escapeXml(`not shown, ${line}`)}</text>`);
      y += BAR_H + GAP;
    }
  }
  const height = y + 10;
  const grid: string[] = [];
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    grid.push(
      `<line x1="${gx}" x2="${gx}" y1="${TOP - 6}" y2="${height - 10}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${TOP - 10}" text-anchor="middle" fill="#666">${escapeXml(ms(10 ** d))}</text>`,
    );
  }
  const e = r.environment;
  const title = `capsule bench: warm call latency (bar p50, tick p99, log scale) — Node ${e.node}, ${e.cores} cores`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_W + PLOT_W + 90}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="8" y="34" fill="#666">blue: capsule tiers · grey: baselines · orange: Extism</text>`,
    ...grid,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
