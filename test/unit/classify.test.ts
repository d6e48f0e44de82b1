// How what escaped a guest becomes a capsule error (src/sandbox/execute.ts classify).
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { classify } from '../../src/sandbox/execute.js';

const job = { world: 'capability' as const, limits: { memoryBytes: 1 << 20 } as never, capabilityId: 't' };

describe('classify', () => {
  it("returns a limit the host raised as it is, without asking which memory is full (the TIMEOUT path's cost)", () => {
    // Before: which memory or table was full was worked out for every failure, a TIMEOUT
    // thrown by a fuel check too (~0.1 ms of walking the instances' exports per stopped call).
    let asked = 0;
    const atCap = () => {
      asked++;
      return 'memory' as const;
    };
    const data = classify(new CapsuleError('TIMEOUT', 't: no result within 100 ms', { limitMs: 100 }), job, atCap);
    expect(data).toMatchObject({ code: 'TIMEOUT', details: { limitMs: 100 } });
    expect(asked).toBe(0);
  });

  it('asks for a trap, and a trap at a full memory is MEMORY_LIMIT', () => {
    const asked: string[] = [];
    const full = (what: 'memory' | undefined) => () => {
      asked.push(String(what));
      return what;
    };
    const trap = new WebAssembly.RuntimeError('unreachable');
    expect(classify(trap, job, full('memory'))).toMatchObject({ code: 'MEMORY_LIMIT', details: { trap: 'unreachable' } });
    expect(classify(trap, job, full(undefined))).toMatchObject({ code: 'TRAP', details: { trap: 'unreachable' } });
    expect(asked).toEqual(['memory', 'undefined']);
  });
});
