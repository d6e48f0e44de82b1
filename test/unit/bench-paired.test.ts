// bench/paired.ts: how every ratio of `capsule bench` is computed. The sides here
// are fakes that return given "times", so the arithmetic and the call order are
// checked exactly, with no clock involved.
import { describe, expect, it } from 'vitest';
import { combine, interleave, paired, type TimedCall } from '../../src/bench/paired.js';

/** A side that logs its calls and returns the next of `times`. */
function side(name: string, times: number[], log: string[]): TimedCall {
  let i = 0;
  return async () => {
    log.push(name);
    const t = times[i++];
    if (t === undefined) throw new Error(`${name} called more often than planned`);
    return t;
  };
}

describe('bench paired measurement', () => {
  it('alternates the sides call by call and rotates which goes first each round, after the warm-up', async () => {
    const log: string[] = [];
    const s = side('S', [9, 9, 1, 2, 3, 4, 5, 6], log);
    const b = side('B', [9, 9, 1, 1, 1, 1, 1, 1], log);
    const { rounds } = await interleave(s, b, { rounds: 3, callsPerRound: 2, warmup: 2 });
    expect(log.join('')).toBe(['SBSB', 'SBSB', 'BSBS', 'SBSB'].join(''));
    expect(rounds.map((r) => r.subjectFirst)).toEqual([true, false, true]);
    // The warm-up's calls (9) are not samples.
    expect(rounds.map((r) => r.subject)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('gives one value per round from that round alone, then their median and spread', () => {
    const round = (subject: number[], baseline: number[]) => ({ subject, baseline, subjectFirst: true });
    // Per-round p50s: 3/1, 10/2, 40/10, 8/2 → 3, 5, 4, 4.
    const rounds = [round([2, 3, 4], [1, 1, 1]), round([10, 10, 30], [2, 2, 9]), round([40, 41, 39], [10, 10, 10]), round([8, 8, 8], [2, 2, 2])];
    const p = combine(rounds, 'ratio', { start: [1, 1, 1], end: [2, 2, 2] });
    expect(p.perRound).toEqual([3, 5, 4, 4]);
    expect(p.median).toBe(4);
    expect(p.spread).toEqual({ min: 3, q1: 3.75, q3: 4.25, max: 5 });
    expect(p.rounds).toBe(4);
    expect(p.callsPerRound).toBe(3);
    expect(p.subject.n).toBe(12);
    expect(p.baseline.n).toBe(12);
    expect(p.loadAverage).toEqual({ start: [1, 1, 1], end: [2, 2, 2] });

    // A difference is in µs (the sides are ms); an inverse ratio is baseline / subject (times per call of throughput windows).
    expect(combine([round([0.5], [0.25])], 'difference-us', p.loadAverage).perRound).toEqual([250]);
    expect(combine([round([1], [1.8])], 'inverse-ratio', p.loadAverage).perRound[0]).toBeCloseTo(1.8);
  });

  it("a round is never combined with another round's baseline: a load that moves between rounds moves both sides", async () => {
    // Round 1 runs 10× slower on both sides: its ratio is still 2, as round 0's.
    const log: string[] = [];
    const p = await paired(side('S', [2, 2, 20, 20], log), side('B', [1, 1, 10, 10], log), { rounds: 2, callsPerRound: 2, warmup: 0 });
    expect(p.perRound).toEqual([2, 2]);
    expect(p.spread.min).toBe(2);
    expect(p.spread.max).toBe(2);
  });

  it('a failing side fails the measurement instead of giving a figure', async () => {
    const log: string[] = [];
    const bad: TimedCall = async () => {
      throw new Error('wrong output');
    };
    await expect(paired(side('S', [1, 1], log), bad, { rounds: 1, callsPerRound: 1, warmup: 0 })).rejects.toThrow('wrong output');
  });
});
