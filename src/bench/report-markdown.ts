// results.md: the run as Markdown tables (what docs/benchmarks.md is made from).
import { count, GOAL_HEADERS, goalCells, ms, ROW_HEADERS, rowCells } from './format.js';
import type { BenchResult } from './types.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function toMarkdown(r: BenchResult, chartFile = 'latency.svg'): string {
  const e = r.environment;
  const out: string[] = [];
  out.push(`# capsule bench, ${e.startedAt}`);
  out.push('');
  out.push(`Command: \`${r.command}\``);
  out.push('');
  out.push(
    `Node ${e.node} (V8 ${e.v8}), ${e.platform} ${e.arch}, ${e.cpuModel}, ${e.cores} cores ` +
      `(available parallelism ${e.availableParallelism}), ${(e.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `load average at start ${e.loadAverage.join(' / ')}${e.loadAverageAtEnd ? `, at end ${e.loadAverageAtEnd.join(' / ')}` : ''}. capsule ${e.capsuleVersion}. ` +
      `${r.settings.durationS} s per measurement, run took ${r.elapsedS.toFixed(0)} s.`,
  );
  out.push('');
  out.push('Workloads:');
  out.push('');
  for (const [name, what] of Object.entries(r.workloads)) out.push(`- ${name}: ${what}`);
  out.push('');
  out.push('## Goals');
  out.push('');
  out.push(
    'Each ratio comes from its two sides called alternately, call by call, in this process, over several rounds (which side goes first rotates each round); ' +
      "a round's value is its subject p50 over its baseline p50 (or their difference in µs). Median and spread are over the rounds; the load average is the 1-minute figure when the row started and ended.",
  );
  out.push('');
  out.push(markdownTable(GOAL_HEADERS, r.goals.map(goalCells)));
  out.push('');
  const notes = r.goals.filter((g) => g.notes);
  if (notes.length) {
    for (const g of notes) out.push(`- ${g.name}: ${g.notes}`);
    out.push('');
  }
  out.push('Definitions:');
  out.push('');
  for (const g of r.goals) out.push(`- **${g.name}**${g.goal ? ` (goal ${g.goal})` : ''}: ${g.definition}.`);
  out.push('');
  out.push('## Latency and throughput');
  out.push('');
  out.push(`![warm call latency per tier, log scale](${chartFile})`);
  out.push('');
  out.push(markdownTable(ROW_HEADERS, r.rows.map(rowCells)));
  out.push('');
  out.push(
    'Cold first call: a new runtime with an empty transpile cache (its `stats.cache` in brackets), or a new worker / plugin for the baselines and the peer. ' +
      'Warm: sequential calls after 3 warm-up calls. calls/s ×N: N callers in flight. Guest memory: peak linear memory of a call (`stats.memoryBytes`). ' +
      'Each row was measured on its own, minutes apart from the others: compare rows with the goals table above, never by dividing figures of this one.',
  );
  out.push('');
  out.push('## Limits');
  out.push('');
  out.push(
    markdownTable(
      [
        'tier',
        'timeout overshoot p50',
        'overshoot p99',
        'overshoot worst',
        'bare thread p50 / p99',
        'first call after a timeout p50',
        'call after a 100 ms pause p50',
        'workers',
        'runs',
      ],
      r.limits.map((l) =>
        l.status !== 'ok'
          ? [l.tier, `${l.status}: ${l.reason ?? ''}`, '', '', '', '', '', '', '']
          : [
              l.tier,
              ms(l.overshoot?.p50),
              ms(l.overshoot?.p99),
              ms(l.overshoot?.max),
              l.bareThread ? `${ms(l.bareThread.p50)} / ${ms(l.bareThread.p99)}` : '',
              ms(l.firstCallAfterKill?.p50),
              ms(l.warmCall?.p50),
              l.workers === undefined ? '' : String(l.workers),
              String(l.overshoot?.n ?? 0),
            ],
      ),
    ),
  );
  out.push('');
  out.push(
    'A spinning guest is stopped at its next fuel check (the worker is reused: `workers` counts the threads that served the echo calls around the timeouts). ' +
      'Bare thread (worker tier): a plain worker thread told to spin until 100 ms after the send and then post, taking turns with the TIMEOUTs; how late its message came is the floor of a TIMEOUT on another thread.',
  );
  out.push('');
  if (r.auditCost) {
    const a = r.auditCost;
    out.push('## Auditing');
    out.push('');
    out.push(
      markdownTable(
        ['tier', 'audit off p50', 'audit on p50', 'off p99', 'on p99', 'cost per call', 'lines per call', 'final flush', 'calls'],
        [
          a.status !== 'ok'
            ? [a.tier, `${a.status}: ${a.reason ?? ''}`, '', '', '', '', '', '', '']
            : [
                a.tier,
                ms(a.off?.p50),
                ms(a.on?.p50),
                ms(a.off?.p99),
                ms(a.on?.p99),
                `${count(a.overheadUs)} µs`,
                count(a.linesPerCall),
                ms(a.finalFlushMs),
                String(a.on?.n ?? 0),
              ],
        ],
      ),
    );
    out.push('');
    out.push(
      'echo on two runtimes of one tier, one with an audit log (a fresh file in the temp directory) and one without, called alternately one call each. ' +
        'The audited calls return before their lines are on disk: the lines go out in batches, one write and one fdatasync per batch, off the event loop; the final flush is `rt.flushAudit()` after the last call, waiting for the last batch.',
    );
    out.push('');
  }
  if (r.hostCallCost) {
    out.push('## Host function calls');
    out.push('');
    out.push(
      markdownTable(
        ['tier', 'function', 'call with host calls p50', 'call without p50', 'per host call', 'calls'],
        r.hostCallCost.map((h) =>
          h.status !== 'ok'
            ? [h.tier, h.function, `${h.status}: ${h.reason ?? ''}`, '', '', '']
            : [h.tier, h.function, ms(h.with?.p50), ms(h.without?.p50), `${count(h.perHostCallUs)} µs`, String(h.with?.n ?? 0)],
        ),
      ),
    );
    out.push('');
    out.push(
      `bench-host calls an app host function (capsule-bench:host/ping, a u32 in and out) ${r.hostCallCost[0]?.hostCallsPerCall ?? 1000} times in one call, against the same call making none, alternately one call each; ` +
        "per host call is the difference of the medians over the count. Worker: the guest's worker blocks while the main thread runs the function; inline: a direct call.",
    );
    out.push('');
  }
  return out.join('\n');
}
