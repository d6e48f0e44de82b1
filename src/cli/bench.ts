// `capsule bench`: what each isolation tier costs, beside the baselines and the
// Extism peer. Progress on stderr, the tables on stdout, files in --out.
import { runBench } from '../bench/harness.js';
import { GOAL_HEADERS, goalCells, ms, ROW_HEADERS, rowCells } from '../bench/format.js';
import { stderrProgress } from '../bench/progress.js';
import type { BenchResult } from '../bench/types.js';
import type { Tier } from '../policy/tier.js';
import { usage } from './errors.js';
import { table } from './format.js';
import type { ParsedArgs } from './args.js';

export async function benchCommand(a: ParsedArgs): Promise<number> {
  if (a.positionals.length > 0) throw usage(`bench takes no arguments, got ${a.positionals.join(' ')}`);
  const duration = a.values.duration === undefined ? undefined : Number(a.values.duration);
  if (duration !== undefined && !(duration > 0 && Number.isFinite(duration))) {
    throw usage(`--duration ${String(a.values.duration)}: expected a positive number of seconds`);
  }
  const rounds = a.values.rounds === undefined ? undefined : Number(a.values.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw usage(`--rounds ${String(a.values.rounds)}: expected a whole number of rounds, 1 or more`);
  }
  // `none` selects nothing (e.g. `--workloads none --rows cli-version` for one goal row).
  const listed = (name: string) => {
    const l = a.list(name);
    if (l.length === 0) return undefined;
    return l.includes('none') ? [] : l;
  };
  const { result, files } = await runBench({
    tiers: listed('tiers') as Tier[] | undefined,
    workloads: listed('workloads'),
    peers: listed('peers'),
    goals: listed('rows'),
    rounds,
    durationS: duration,
    quick: a.values.quick === true,
    out: (a.values.out as string | undefined) ?? './bench-results',
    command: ['capsule', 'bench', ...process.argv.slice(3)].join(' '),
    progress: stderrProgress(),
  });
  if (a.values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(render(result));
  }
  const written = Object.values(files);
  if (written.length > 0) process.stderr.write(`capsule bench: wrote ${written.join(', ')}\n`);
  return 0;
}

function render(r: BenchResult): string {
  const e = r.environment;
  // A tier without figures says why in the last column, so the reason does not widen the others.
  const limits = r.limits.map((l) =>
    l.status !== 'ok'
      ? [l.tier, '–', '–', '–', `${l.status}: ${l.reason ?? ''}`]
      : [l.tier, ms(l.overshoot?.p50), ms(l.overshoot?.p99), ms(l.warmCall?.p50), ms(l.firstCallAfterKill?.p50)],
  );
  const host = (r.hostCallCost ?? []).map((h) =>
    h.status !== 'ok'
      ? [h.tier, h.function, '–', '–', `${h.status}: ${h.reason ?? ''}`]
      : [h.tier, h.function, ms(h.with?.p50), ms(h.without?.p50), `${(h.perHostCallUs ?? Number.NaN).toFixed(1)} µs`],
  );
  return [
    `capsule bench · Node ${e.node} · ${e.cpuModel} · ${e.cores} cores · ${r.settings.durationS} s per measurement · ${r.elapsedS.toFixed(0)} s`,
    '',
    ...(r.rows.length ? [table(ROW_HEADERS, r.rows.map(rowCells)), ''] : []),
    ...(limits.length ? [table(['tier', 'timeout overshoot p50', 'overshoot p99', 'warm call p50', 'first call after timeout p50'], limits), ''] : []),
    ...(host.length ? [table(['host calls', 'function', '1000 calls p50', 'none p50', 'per host call'], host), ''] : []),
    ...(r.auditCost?.status === 'ok'
      ? [
          table(
            ['auditing', 'off p50', 'on p50', 'cost per call', 'lines per call'],
            [
              [
                r.auditCost.tier,
                ms(r.auditCost.off?.p50),
                ms(r.auditCost.on?.p50),
                `${ms((r.auditCost.overheadUs ?? NaN) / 1000)}`,
                (r.auditCost.linesPerCall ?? 0).toFixed(1),
              ],
            ],
          ),
          '',
        ]
      : []),
    `goals: each ratio from its two sides interleaved call by call, ${r.settings.rounds} rounds; median and spread of the per-round values`,
    table(GOAL_HEADERS, r.goals.map(goalCells)),
    ...r.goals.filter((g) => g.notes).map((g) => `${g.name}: ${g.notes}`),
    `load average ${e.loadAverage.join(' / ')} at start, ${(e.loadAverageAtEnd ?? []).join(' / ')} at end`,
    '',
  ].join('\n');
}
