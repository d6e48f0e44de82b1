// Writes docs/benchmarks.md from the results of a full run in docs/bench/:
//   node dist/cli.js bench --out docs/bench
//   node scripts/bench-docs.mjs --note "taken on a quiet 2-core machine"
// The tables are results.md verbatim; this adds how to read them and under what conditions they were taken.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const note = args.includes('--note') ? args[args.indexOf('--note') + 1] : undefined;
if (!note) {
  console.error('usage: node scripts/bench-docs.mjs --note "the conditions the run was taken under"');
  process.exit(2);
}
const dir = path.join(root, 'docs', 'bench');
const result = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8'));
const body = (await readFile(path.join(dir, 'results.md'), 'utf8'))
  .replace(/^# .*\n/, '')
  .replace('](latency.svg)', '](bench/latency.svg)');
const e = result.environment;

const doc = `# Benchmarks: what each isolation tier costs

**Conditions: ${note}** Load average ${e.loadAverage.join(' / ')} at the start of the run${
  e.loadAverageAtEnd ? ` and ${e.loadAverageAtEnd.join(' / ')} at the end` : ''
} (1 / 5 / 15 minutes).

Produced by \`${result.command}\` on ${e.startedAt} (then \`node scripts/bench-docs.mjs\`).
The raw figures are in [bench/results.json](bench/results.json); the chart is [bench/latency.svg](bench/latency.svg).
Every figure below was measured in that one run; none is estimated.

## How to read it
- **Goals.** Every ratio on this page is in the goals table, and each comes from its two sides called alternately, call by
  call, in one process, over several rounds (which side goes first rotates each round): a round's value is its subject p50
  over its baseline p50 (or their difference, in µs), and a row reports the median of those per-round values, their spread
  (min–max and interquartile range) and the 1-minute load average when the row started and ended. The CLI rows spawn
  \`node dist/cli.js ...\` and \`node -e 0\` alternately and time each child from spawn to exit. Each row's definition
  follows the table. The latency table further down holds figures taken one subject at a time, minutes apart: they
  describe each subject, and no ratio is made of them.
- **Subjects.** \`inline\`, \`worker\` and \`process\` are capsule's tiers as measured here; \`vm\` is listed as unavailable
  where no VM runner is usable (as on this Linux machine: Apple Container needs macOS 26 on Apple silicon). Baselines: \`postMessage echo\` is a bare \`worker_threads\` round trip of the same value (structured clone both ways);
  \`direct\` calls the workload's own core module (taken out of capsule's compiled component) in the calling thread by the canonical
  ABI, JSON in and out, on one reused instance or on a fresh \`WebAssembly.Instance\` per call. The peer is the Extism JS SDK
  (\`@extism/extism\`) running an equivalent Extism-ABI plugin written in WAT (\`fixtures/src/bench-extism-*.wat\`), in the calling
  thread (foreground) and with \`runInWorker: true\`.
- **Workloads.** echo: \`demo.echo\`'s component on a small JSON object. echo-1mib: the same with a 1 MiB string in and out
  (both run as \`bench.echo\`, the same component with a 30 s limit instead of 1 s, so that a slow measurement on a busy
  machine cannot turn into a TIMEOUT). fib: \`fixtures/src/bench-fib.wat\`,
  fib(27) by naive recursion. markdown: \`demo.markdown.render\`, a JavaScript plugin built with componentize-js (granted
  \`capsule:host/log\`). wc: \`demo.text.wc\`, a C \`wasi:cli/command\` program fed through stdin. The peer and the direct baseline
  exist only where an equivalent plugin or a plain core module exists (echo, echo-1mib, fib).
- **Cold first call**: a new runtime with an empty transpile cache (\`cacheDir\` a fresh temp dir; \`stats.cache\` in brackets shows
  it was transpiled) in a process that has already loaded the transpiler; for the baselines and the peer, a new worker or plugin.
- **Warm**: sequential calls after three warm-up calls. **calls/s ×1 / ×2**: one or two callers in flight (capsule's pool has
  two threads; Extism and postMessage get one plugin or worker per caller).
- **Auditing** (workload \`echo-audit\`): echo on two runtimes of one tier, one with an audit log and one without, called
  alternately one call each; the cost per call is the difference of their p50s, the final flush the wait for the last batch.
- **Host function calls** (workload \`host-calls\`): \`fixtures/src/bench-host.wat\` calls an app host function
  (\`capsule-bench:host/ping\`, a u32 in and out) 1 000 times per call, against the same call making none, alternately one
  call each; per host call is the difference of the p50s over 1 000. Worker tier: the guest's worker blocks on \`Atomics.wait\`
  while the main thread runs the function (sync or async); inline: a direct call (the jco glue's own crossing cost).
- **Guest memory**: peak linear memory of one call (\`stats.memoryBytes\`); it does not include the worker thread's own heap.
- **Timeout overshoot**: \`fixtures/src/bench-spin.wat\` never returns; it is called with a 100 ms limit and the overshoot is the
  time from the call to its \`TIMEOUT\` rejection minus 100 ms (for the process tier that includes starting the child
  process, which is most of its figure). The guest is stopped at its next fuel check, in the worker tier and inline alike.
  In the worker tier the call's clock runs from its send to the worker (at most 5 ms of a slow pick-up counted), so the
  caller hears of the TIMEOUT close to 100 ms after calling. 100 TIMEOUTs in the worker and inline tiers (p99 is the
  second worst), 20 in the process tier.
  **First call after a timeout / warm call**: an echo call made right after each \`TIMEOUT\` against one made after the same
  100 ms spent idle (a sleep) instead, the two alternating which goes first. Any call after 100 ms away is slower than one
  right after another (1.5–3× measured with a sleep in place of the \`TIMEOUT\`), so the ratio shows what the timeout itself leaves behind,
  on the default pool (the worker is reused; \`workers\` counts the threads that served them).
- **Fuel checks**: fib and markdown with their core modules compiled without and with the fuel checks, run by the same
  in-thread \`execute()\`, alternately one call each. Instrumentation is the pass over the component's core files, paid once per
  component on first load; fuel per ms is what \`FUEL_PER_MS\` (src/sandbox/fuel-meter.ts) is calibrated from.
- **Differences in kind**: capsule instantiates every call afresh; an Extism plugin keeps its instance between calls
  (SDK 1.0.3 also needs \`reset()\` every few thousand calls, which the bench does inside the timed calls). The reused-instance
  direct baseline starts a new instance once its bump allocator passes 8 MiB, which makes it slower than a fresh instance for
  echo-1mib.
${body}`;
await writeFile(path.join(root, 'docs', 'benchmarks.md'), doc);
console.log('wrote docs/benchmarks.md');
