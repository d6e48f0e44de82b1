// The one way `capsule bench` computes a ratio: subject and baseline called
// alternately, call by call, in this process, over several rounds; which side
// goes first rotates from round to round. Each round gives one value (the ratio
// or the difference of that round's medians), and the row reports the median and
// the spread of those per-round values. A figure taken apart from its baseline
// (another job, another minute) never becomes a ratio: a load that moves between
// the two would move the ratio with it.
import os from 'node:os';
import { summarize } from './stats.js';
import type { Paired } from './types.js';

/** One timed call of a side, in ms; it checks its own output and throws when it is wrong. */
export type TimedCall = () => Promise<number>;

export interface Rounds {
  rounds: number;
  /** Calls of each side per round. */
  callsPerRound: number;
  /** Untimed calls of each side before the first round. */
  warmup: number;
}

/** What the per-round value is: subject / baseline, baseline / subject (times per call of a throughput), or subject − baseline in µs. */
export type Combine = 'ratio' | 'inverse-ratio' | 'difference-us';

/** Per-round samples of both sides, in call order. */
export interface RoundSamples {
  subject: number[];
  baseline: number[];
  subjectFirst: boolean;
}

export async function interleave(subject: TimedCall, baseline: TimedCall, r: Rounds): Promise<{ rounds: RoundSamples[]; loadAverage: Paired['loadAverage'] }> {
  const start = loadavg();
  for (let i = 0; i < r.warmup; i++) {
    await subject();
    await baseline();
  }
  const rounds: RoundSamples[] = [];
  for (let k = 0; k < r.rounds; k++) {
    const subjectFirst = k % 2 === 0;
    const round: RoundSamples = { subject: [], baseline: [], subjectFirst };
    for (let i = 0; i < r.callsPerRound; i++) {
      if (subjectFirst) {
        round.subject.push(await subject());
        round.baseline.push(await baseline());
      } else {
        round.baseline.push(await baseline());
        round.subject.push(await subject());
      }
    }
    rounds.push(round);
  }
  return { rounds, loadAverage: { start, end: loadavg() } };
}

/** The per-round values, their median and spread, and both sides' samples over all rounds. */
export function combine(rounds: RoundSamples[], how: Combine, loadAverage: Paired['loadAverage']): Paired {
  if (rounds.length === 0) throw new Error('no rounds to combine');
  const perRound = rounds.map((r) => {
    const s = summarize(r.subject).p50;
    const b = summarize(r.baseline).p50;
    if (how === 'ratio') return s / b;
    return how === 'inverse-ratio' ? b / s : (s - b) * 1000;
  });
  const values = summarize(perRound);
  return {
    median: median(perRound),
    spread: { min: values.min, q1: quantile(perRound, 0.25), q3: quantile(perRound, 0.75), max: values.max },
    perRound,
    rounds: rounds.length,
    callsPerRound: rounds[0]?.subject.length ?? 0,
    subject: summarize(rounds.flatMap((r) => r.subject)),
    baseline: summarize(rounds.flatMap((r) => r.baseline)),
    loadAverage,
  };
}

/** interleave() then combine(). */
export async function paired(subject: TimedCall, baseline: TimedCall, r: Rounds, how: Combine = 'ratio'): Promise<Paired> {
  const { rounds, loadAverage } = await interleave(subject, baseline, r);
  return combine(rounds, how, loadAverage);
}

/** Times one call of `fn`, checking its output with `check`. */
export function timed(fn: () => Promise<unknown>, check: (output: unknown) => void = () => {}): TimedCall {
  return async () => {
    const t = performance.now();
    const out = await fn();
    const ms = performance.now() - t;
    check(out);
    return ms;
  };
}

export function loadavg(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Linear interpolation between the closest ranks (the median of an even count is the mean of the middle two). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const a = s[lo] ?? Number.NaN;
  const b = s[Math.min(lo + 1, s.length - 1)] ?? a;
  return a + (b - a) * (pos - lo);
}
