// The per-call cap on denials (sandbox/denial-log.ts), without a guest.
import { describe, expect, it } from 'vitest';
import { clip, DenialLog, MAX_DENIAL_TEXT, MAX_DENIALS } from '../src/sandbox/denial-log.js';

describe('DenialLog', () => {
  it('keeps the first 64 denials and sums the rest by kind in one last entry', () => {
    const log = new DenialLog();
    for (let i = 0; i < 100; i++) log.push({ kind: i % 2 ? 'net' : 'fs', target: `t${i}`, reason: 'no' });
    const list = log.list();
    expect(MAX_DENIALS).toBe(64);
    expect(list).toHaveLength(65);
    expect(list.slice(0, 64).map((d) => d.target)).toEqual(Array.from({ length: 64 }, (_, i) => `t${i}`));
    expect(list[64]).toEqual({ kind: 'more', target: '', count: 36, byKind: { fs: 18, net: 18 }, reason: '36 more denials not listed (fs 18, net 18)' });
  });

  it('lists no summary when nothing was dropped', () => {
    const log = new DenialLog();
    log.push({ kind: 'env', target: 'HOME', reason: 'not granted' });
    expect(log.list()).toEqual([{ kind: 'env', target: 'HOME', reason: 'not granted' }]);
  });

  it('cuts a long target and reason to 512 characters with a marker saying how much was cut', () => {
    const log = new DenialLog();
    log.push({ kind: 'fs', target: 'a'.repeat(10_000), reason: 'b'.repeat(600) });
    const [d] = log.list();
    if (!d) throw new Error('the denial was not logged');
    expect(MAX_DENIAL_TEXT).toBe(512);
    expect(d.target).toBe(`${'a'.repeat(512)}…[+9488 chars]`);
    expect(d.reason).toBe(`${'b'.repeat(512)}…[+88 chars]`);
  });

  it('never splits a surrogate pair', () => {
    const cut = clip(`${'a'.repeat(511)}😀${'z'.repeat(100)}`);
    expect(cut).toBe(`${'a'.repeat(511)}…[+102 chars]`);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut)).toBe(false);
  });
});
