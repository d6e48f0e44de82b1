// capsule/bench: the benchmark harness behind `capsule bench`, as its own package
// entry (dist/bench.js) so that the library's import graph (dist/index.js) never
// carries it.
export { runBench, type BenchOptions, type BenchRun } from './harness.js';
export type { BenchResult, Goal, Paired } from './types.js';
