// Class 7 of issue 9: a create/truncate race. Between capsule's path walk and the
// open(2), another host process swaps a directory inside the grant for a symlink
// to somewhere outside. The open must not truncate or create anything out there:
// truncation and creation take effect only once the opened file is verified to
// be inside the grant. The swap is injected deterministically through a test
// seam called just before the open, not raced.
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unlimitedBudget } from '../src/sandbox/call-budget.js';
import { DenialLog } from '../src/sandbox/denial-log.js';
import type { FsGrant } from '../src/grants/fs.js';
import { type Descriptor, filesystemInterfaces } from '../src/sandbox/wasi/filesystem.js';
import { tempDir } from './helpers.js';

function setup() {
  const tmp = tempDir('open-race-');
  const grant = path.join(tmp, 'grant');
  const outside = path.join(tmp, 'outside');
  mkdirSync(path.join(grant, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(grant, 'sub', 'victim.txt'), 'inside');
  writeFileSync(path.join(outside, 'victim.txt'), 'KEEP');
  // What the concurrent host process does: sub/ becomes a link to outside/.
  const swap = () => {
    renameSync(path.join(grant, 'sub'), path.join(grant, 'sub.old'));
    symlinkSync(outside, path.join(grant, 'sub'));
  };
  const fsGrant: FsGrant = { preopens: [grant], read: [grant], write: [grant], blocked: [] };
  const denials = new DenialLog();
  let armed = true;
  const call = filesystemInterfaces(fsGrant, denials, unlimitedBudget(), {
    beforeOpen: () => {
      if (armed) swap();
      armed = false;
    },
  });
  const preopens = call.interfaces['wasi:filesystem/preopens'] as { getDirectories(): [Descriptor, string][] };
  const root = preopens.getDirectories()[0]?.[0] as Descriptor;
  return { grant, outside, root, denials, close: call.close };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('create and truncate take effect only inside the grant (class 7)', () => {
  it('O_TRUNC through a directory swapped for an outside symlink truncates nothing outside', () => {
    const t = setup();
    const e = thrown(() => t.root.openAt({ symlinkFollow: true }, 'sub/victim.txt', { create: true, truncate: true }, { write: true }));
    t.close();
    expect(e).toBe('not-permitted');
    expect(readFileSync(path.join(t.outside, 'victim.txt'), 'utf8')).toBe('KEEP');
    expect(t.denials.list()).toEqual([expect.objectContaining({ kind: 'fs', reason: expect.stringMatching(/outside the grant/) })]);
  });

  it('O_CREAT through a swapped directory leaves no file outside', () => {
    const t = setup();
    const e = thrown(() => t.root.openAt({ symlinkFollow: true }, 'sub/new.txt', { create: true }, { write: true }));
    t.close();
    expect(e).toBe('not-permitted');
    expect(existsSync(path.join(t.outside, 'new.txt'))).toBe(false);
  });

  it('O_CREAT|O_EXCL through a swapped directory leaves no file outside', () => {
    const t = setup();
    const e = thrown(() => t.root.openAt({ symlinkFollow: true }, 'sub/excl.txt', { create: true, exclusive: true }, { write: true }));
    t.close();
    expect(e).toBe('not-permitted');
    expect(existsSync(path.join(t.outside, 'excl.txt'))).toBe(false);
  });

  it('without a swap, create and truncate still work inside the grant', () => {
    const t = setup();
    const noSwap = filesystemInterfaces({ preopens: [t.grant], read: [t.grant], write: [t.grant], blocked: [] }, new DenialLog(), unlimitedBudget());
    const root = (noSwap.interfaces['wasi:filesystem/preopens'] as { getDirectories(): [Descriptor, string][] }).getDirectories()[0]?.[0] as Descriptor;
    const f = root.openAt({ symlinkFollow: true }, 'sub/victim.txt', { create: true, truncate: true }, { write: true });
    expect(f.stat().size).toBe(0n);
    const g = root.openAt({ symlinkFollow: true }, 'sub/fresh.txt', { create: true, exclusive: true }, { write: true });
    expect(g.write(new TextEncoder().encode('hi'), 0n)).toBe(2n);
    noSwap.close();
    t.close();
    expect(readFileSync(path.join(t.grant, 'sub', 'victim.txt'), 'utf8')).toBe('');
    expect(readFileSync(path.join(t.grant, 'sub', 'fresh.txt'), 'utf8')).toBe('hi');
  });
});
