// The audit hash chain (src/audit/chain.ts) as pure functions over text, and the
// log writer on a temporary file: every kind of tamper is found and named by line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_CHAIN, GENESIS, openLine, sealLine, sha256, verifyChain } from '../../src/audit/chain.js';
import { openAudit } from '../../src/audit/log.js';
import { CapsuleError } from '../../src/errors.js';

const T0 = new Date('2026-01-02T03:04:05.000Z');

/** `n` sealed lines, each chained to the one before, as the writer makes them. */
function chainOf(n: number): string[] {
  const lines: string[] = [];
  let state = EMPTY_CHAIN;
  for (let i = 0; i < n; i++) {
    const { line, next } = sealLine(state, new Date(T0.getTime() + i), { event: 'run.start', capability: `test.c${i}`, n: i });
    lines.push(line);
    state = next;
  }
  return lines;
}

const file = (lines: string[]) => `${lines.join('\n')}\n`;

/** The line at `i` (a test's own index into its own chain). */
function at(lines: string[], i: number): string {
  const line = lines[i];
  if (line === undefined) throw new Error(`no line ${i}`);
  return line;
}

/** The same record re-sealed after `edit`: its own hash is right, so only the chain can tell. */
function resealed(line: string, edit: (r: Record<string, unknown>) => void): string {
  const { hash: _hash, ...r } = JSON.parse(line) as Record<string, unknown>;
  edit(r);
  const body = JSON.stringify(r);
  return `${body.slice(0, -1)},"hash":"${sha256(body)}"}`;
}

describe('sealing and walking the chain', () => {
  it('an empty file is an intact chain of no lines', () => {
    expect(verifyChain('')).toEqual({ lines: 0, state: EMPTY_CHAIN });
  });

  it('line 1 chains to the genesis value, each next line to the hash of the one before', () => {
    const lines = chainOf(5);
    const records = lines.map((l) => openLine(l));
    expect(records.map((r) => (typeof r === 'string' ? r : r.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]).toMatchObject({ prev: GENESIS, event: 'run.start', time: T0.toISOString() });
    for (let i = 1; i < lines.length; i++) expect(records[i]).toMatchObject({ prev: sha256(at(lines, i - 1)) });
  });

  it('an intact file verifies, and its state is where the writer continues', () => {
    const lines = chainOf(20);
    const report = verifyChain(file(lines));
    expect(report).toEqual({ lines: 20, state: { seq: 20, prev: sha256(at(lines, 19)) } });
    const { line } = sealLine(report.state, T0, { event: 'runtime.close' });
    expect(verifyChain(file([...lines, line])).broken).toBeUndefined();
  });

  it('the hash covers the line without its own hash member', () => {
    const line = at(chainOf(1), 0);
    const r = openLine(line);
    if (typeof r === 'string') throw new Error(r);
    expect(r.hash).toBe(sha256(line.replace(/,"hash":"[0-9a-f]{64}"\}$/, '}')));
  });
});

describe('each kind of tamper is found at the line it touched', () => {
  const lines = chainOf(10);

  it('an edited line (hash left alone): that line, "edited"', () => {
    const t = [...lines];
    t[3] = at(t, 3).replace('"test.c3"', '"test.cX"');
    expect(verifyChain(file(t)).broken).toEqual({ line: 4, reason: 'content does not match its hash (the line was edited)' });
  });

  it('an edited line re-sealed with a fresh hash: the line after it no longer chains', () => {
    const t = [...lines];
    t[3] = resealed(at(t, 3), (r) => {
      r.capability = 'test.cX';
    });
    expect(verifyChain(file(t)).broken).toEqual({ line: 5, reason: 'does not chain to line 4 (prev hash differs)' });
  });

  it('the last line edited and re-sealed: nothing after it can tell (the writer refuses to append; see below)', () => {
    const t = [...lines];
    t[9] = resealed(at(t, 9), (r) => {
      r.capability = 'test.cX';
    });
    const report = verifyChain(file(t));
    expect(report.broken).toBeUndefined();
    expect(report.state.prev).not.toBe(sha256(at(lines, 9)));
  });

  it('a deleted line: the next line has the wrong sequence number', () => {
    const t = lines.filter((_, i) => i !== 4);
    expect(verifyChain(file(t)).broken).toMatchObject({ line: 5, reason: expect.stringMatching(/^sequence number is 6 where 5 was expected/) });
  });

  it('an inserted line (a copy of another): the inserted line has the wrong sequence number', () => {
    const t = [...lines.slice(0, 6), at(lines, 2), ...lines.slice(6)];
    expect(verifyChain(file(t)).broken).toMatchObject({ line: 7, reason: expect.stringMatching(/^sequence number is 3 where 7 was expected/) });
  });

  it('two lines swapped: the first of the two is named', () => {
    const t = [...lines];
    t.splice(6, 2, at(lines, 7), at(lines, 6));
    expect(verifyChain(file(t)).broken).toMatchObject({ line: 7, reason: expect.stringMatching(/^sequence number is 8 where 7 was expected/) });
  });

  it('lines removed from the start: line 1 does not start the chain', () => {
    const renumbered = lines.slice(2).map((l, i) =>
      resealed(l, (r) => {
        r.seq = i + 1;
      }),
    );
    expect(verifyChain(file(renumbered)).broken).toEqual({ line: 1, reason: 'does not start the chain (prev is not the genesis value)' });
  });

  it('a truncated last line (a write cut short): not a complete line', () => {
    const t = [...lines];
    t[9] = at(t, 9).slice(0, 40);
    expect(verifyChain(file(t)).broken).toMatchObject({ line: 10, reason: expect.stringMatching(/^not a complete audit line/) });
  });

  it('a last line without its newline: a truncated write', () => {
    expect(verifyChain(lines.join('\n')).broken).toEqual({ line: 10, reason: 'no newline at its end (a truncated write)' });
  });

  it('a line that ends like a sealed line but is not JSON', () => {
    const t = [...lines];
    t[0] = `{"seq":1,,"hash":"${'a'.repeat(64)}"}`;
    expect(verifyChain(file(t)).broken).toEqual({ line: 1, reason: 'not JSON (truncated or corrupted)' });
  });

  it('a sealed line without the chain fields', () => {
    const body = JSON.stringify({ event: 'run.start' });
    const t = [`${body.slice(0, -1)},"hash":"${sha256(body)}"}`, ...lines.slice(1)];
    expect(verifyChain(file(t)).broken).toEqual({ line: 1, reason: 'missing seq, time, prev or event' });
  });

  it('a blank line in the middle', () => {
    const t = [...lines.slice(0, 5), '', ...lines.slice(5)];
    expect(verifyChain(file(t)).broken).toMatchObject({ line: 6, reason: expect.stringMatching(/^not a complete audit line/) });
  });

  it('any single byte changed anywhere is found at or after its line, never missed', () => {
    const text = file(lines);
    const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
    for (let offset = 0; offset < text.length - 1; offset += 37) {
      const c = text[offset] === 'a' ? 'b' : 'a';
      const t = text.slice(0, offset) + c + text.slice(offset + 1);
      const broken = verifyChain(t).broken;
      expect(broken, `byte ${offset}`).toBeDefined();
      expect(broken?.line, `byte ${offset}`).toBeGreaterThanOrEqual(lineOf(offset));
    }
  });
});

describe('the log writer on a file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'capsule-unit-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a chain that verifies, and continues it when the file is opened again', async () => {
    const f = path.join(dir, 'a', 'audit.jsonl');
    const first = await openAudit(f);
    for (let i = 0; i < 5; i++) first.record({ event: 'run.start', n: i });
    await first.close();
    const again = await openAudit(f);
    again.record({ event: 'runtime.close' });
    await again.close();
    const report = verifyChain(readFileSync(f, 'utf8'));
    expect(report).toMatchObject({ lines: 6, state: { seq: 6 } });
    expect(report.broken).toBeUndefined();
  });

  it('refuses to append to a file whose last line does not check out', async () => {
    const f = path.join(dir, 'edited.jsonl');
    const lines = chainOf(3);
    lines[2] = at(lines, 2).replace('"test.c2"', '"test.cX"');
    writeFileSync(f, file(lines));
    const e = await openAudit(f).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CapsuleError);
    expect(e).toMatchObject({ code: 'AUDIT_INVALID' });
    expect(readFileSync(f, 'utf8')).toBe(file(lines));
  });

  it('off when the option is false; a kernel path is refused before anything is opened', async () => {
    expect((await openAudit(false)).path).toBeUndefined();
    await expect(openAudit('/proc/self/audit.jsonl')).rejects.toMatchObject({ code: 'AUDIT_INVALID' });
  });
});
