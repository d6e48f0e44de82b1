// A line on stderr for a load that takes long (a first load transpiles the component:
// seconds for a JavaScript plugin), so a slow first call is never silent.
import { oneLine } from './safe-text.js';

/** How long a load may take before the CLI says what it is doing. */
export const PROGRESS_AFTER_MS = 1000;

export interface ProgressOptions<T> {
  /** Written once `work` has run for `afterMs`: what is being done. */
  starting: string;
  /** Written when `work` ends, only if `starting` was written: how it ended. */
  done: (value: T, ms: number) => string;
  afterMs?: number;
  write?: (line: string) => void;
}

/** Awaits `work`; past `afterMs` it writes `capsule: <starting>…`, and at the end `capsule: <done>`. */
export async function withProgress<T>(work: Promise<T>, o: ProgressOptions<T>): Promise<T> {
  const write = o.write ?? ((line: string) => process.stderr.write(line));
  const started = performance.now();
  let shown = false;
  const timer = setTimeout(() => {
    shown = true;
    write(`capsule: ${oneLine(o.starting)}…\n`);
  }, o.afterMs ?? PROGRESS_AFTER_MS);
  // Never keeps the process alive on its own.
  timer.unref();
  try {
    const value = await work;
    if (shown) write(`capsule: ${oneLine(o.done(value, performance.now() - started))}\n`);
    return value;
  } finally {
    clearTimeout(timer);
  }
}

/** `1.2 s`, `850 ms`. */
export const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** Where a load found its component (CompiledComponent.source), in words. */
export const SOURCE = { transpiled: 'transpiled now', disk: 'from the cache', memory: 'already in memory' } as const;
