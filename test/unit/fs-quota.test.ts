// The write quota on every path a guest can grow a file by: an output stream
// (what wasi-libc's write() uses through the preview1 adapter), an append stream,
// `write` at an offset and `set-size`. Each stops at limits.writeBytes exactly,
// then fails with ENOSPC (`insufficient-space`) and a denial; a dropped
// descriptor frees its place under limits.openFiles.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unlimitedBudget } from '../../src/sandbox/call-budget.js';
import { DenialLog } from '../../src/sandbox/denial-log.js';
import { type Descriptor, filesystemInterfaces } from '../../src/sandbox/wasi/filesystem.js';
import type { IoError } from '../../src/sandbox/wasi/streams.js';
import { tempDir } from '../helpers.js';

const dispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

function setup(limits: { writeBytes: number; files: number; openFiles: number }) {
  const dir = path.join(tempDir('fs-quota-unit-'), 'g');
  mkdirSync(dir);
  const denials = new DenialLog();
  const call = filesystemInterfaces({ preopens: [dir], read: [dir], write: [dir], blocked: [] }, denials, unlimitedBudget(), {}, limits);
  const pre = call.interfaces['wasi:filesystem/preopens'] as { getDirectories(): [Descriptor, string][] };
  const root = pre.getDirectories()[0]?.[0] as Descriptor;
  const create = (name: string) => root.openAt({}, name, { create: true, truncate: true }, { read: true, write: true });
  return { dir, denials, root, create, close: call.close };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

const roomy = { writeBytes: 100, files: 100, openFiles: 100 };

describe('limits.writeBytes', () => {
  it('an output stream writes up to the quota, then fails with insufficient-space', () => {
    const t = setup(roomy);
    const s = t.create('a').writeViaStream(0n);
    s.write(new Uint8Array(60));
    const e = thrown(() => s.write(new Uint8Array(60))) as { tag: string; val: IoError };
    expect(e.tag).toBe('last-operation-failed');
    expect(e.val.code).toBe('insufficient-space');
    expect(statSync(path.join(t.dir, 'a')).size).toBe(100);
    expect(t.denials.list()).toEqual([expect.objectContaining({ kind: 'fs', target: `${t.dir}/a` })]);
    t.close();
  });

  it('is one quota across files, streams, append, write and set-size', () => {
    const t = setup(roomy);
    t.create('a').appendViaStream().write(new Uint8Array(30));
    const b = t.create('b');
    expect(b.write(new Uint8Array(50), 0n)).toBe(50n);
    // 20 left: a 30-byte write is short, the next one is refused.
    expect(b.write(new Uint8Array(30), 50n)).toBe(20n);
    expect(thrown(() => b.write(new Uint8Array(1), 70n))).toBe('insufficient-space');
    expect(thrown(() => t.create('c').setSize(1n))).toBe('insufficient-space');
    expect(statSync(path.join(t.dir, 'a')).size + statSync(path.join(t.dir, 'b')).size).toBe(100);
    expect(statSync(path.join(t.dir, 'c')).size).toBe(0);
    t.close();
  });
});

describe('limits.files and limits.openFiles', () => {
  it('creating a file or a directory past limits.files is quota', () => {
    const t = setup({ ...roomy, files: 2 });
    t.create('a');
    t.root.createDirectoryAt('d');
    expect(thrown(() => t.create('b'))).toBe('quota');
    expect(thrown(() => t.root.createDirectoryAt('e'))).toBe('quota');
    // Opening a file that exists creates nothing.
    expect(() => t.create('a')).not.toThrow();
    t.close();
  });

  it('a dropped descriptor frees its place', () => {
    const t = setup({ ...roomy, openFiles: 2 });
    const a = t.create('a');
    t.create('b');
    expect(thrown(() => t.create('c'))).toBe('quota');
    (a as unknown as Record<symbol, () => void>)[dispose]?.();
    expect(() => t.create('c')).not.toThrow();
    t.close();
  });
});
