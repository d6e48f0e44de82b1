// The process tier's view of a call's grants (src/tiers/process/fs-grant.ts,
// node-flags.ts, bwrap.ts) and the child's end of the job channel, without
// starting a child.
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FsGrant } from '../../src/grants/fs.js';
import { bwrapArgs } from '../../src/tiers/process/bwrap.js';
import { childFs, type Disk } from '../../src/tiers/process/fs-grant.js';
import { StdinLines } from '../../src/tiers/job-channel.js';
import { nodeArgs, outermost } from '../../src/tiers/process/node-flags.js';

/** A disk where /srv/link is a symlink to /data/real, and /srv/gone does not exist. */
const disk: Disk = {
  real: (p) => (p.startsWith('/srv/gone') ? undefined : p.replace(/^\/srv\/link/, '/data/real')),
  isDir: (p) => !['/srv/a/key.pem', '/srv/a/b/.bashrc'].includes(p),
};

const grant = (g: Partial<FsGrant>): FsGrant => ({ preopens: [], read: [], write: [], blocked: [], ...g });

describe('childFs: the binds and flags for a grant', () => {
  it('binds parents before what is below them, protected paths and hidden blocked paths last', () => {
    const fs = childFs(
      grant({
        preopens: ['/srv/a', '/srv/ro'],
        read: ['/srv/ro', '/srv/a/b/inner', '/srv/a'],
        write: ['/srv/a/b'],
        blockedPaths: ['/srv/a/b/.cache', '/srv/a/key.pem', '/elsewhere/x'],
        readOnlyPaths: ['/srv/a/b/.bashrc'],
      }),
      disk,
    );
    expect(fs.binds).toEqual([
      { path: '/srv/ro', writable: false },
      { path: '/srv/a', writable: false },
      { path: '/srv/a/b', writable: true },
      { path: '/srv/a/b/.bashrc', writable: false },
      { path: '/srv/a/key.pem', writable: false, hide: 'file' },
      { path: '/srv/a/b/.cache', writable: false, hide: 'dir' },
    ]);
    // A read grant inside a writable one adds no read-only bind over it.
    expect(fs.binds.some((b) => b.path === '/srv/a/b/inner')).toBe(false);
    expect(fs.write).toEqual(['/srv/a/b']);
  });

  it('binds a symlinked grant at its real path and recreates the link; a missing path is not bound', () => {
    const fs = childFs(grant({ preopens: ['/srv/link', '/srv/gone'], read: ['/srv/link', '/srv/gone'], preopenReal: { '/srv/link': '/data/real' } }), disk);
    expect(fs.binds).toEqual([{ path: '/data/real', writable: false }]);
    expect(fs.symlinks).toEqual([{ target: '/data/real', at: '/srv/link' }]);
    // Node is told both names: realpath() of the granted name, and opens below the real one.
    expect(fs.read).toEqual(expect.arrayContaining(['/srv/link', '/data/real', '/srv/gone']));
    expect(fs.unsafe).toEqual([]);
  });

  it('flags a path Node would read as a wildcard', () => {
    const star: Disk = { real: (p) => p.replace('link', 'st*r'), isDir: () => true };
    expect(childFs(grant({ preopens: ['/srv/link'], read: ['/srv/link'] }), star).unsafe).toEqual(['/srv/st*r']);
  });
});

describe('Node permission flags', () => {
  it('outermost keeps no path below another (Node 20 would deny the outer directory itself)', () => {
    expect(outermost(['/t/cache/b', '/t', '/t', '/tx', '/u/v'])).toEqual(['/t', '/tx', '/u/v']);
  });

  it('reads and writes only the given paths', () => {
    const args = nodeArgs({ entry: '/r/job.js', readPaths: ['/r', '/t/cache', '/t'], writePaths: ['/t/w'], memoryBytes: 1 << 20, permission: '--permission' });
    expect(args.filter((a) => a.startsWith('--allow') || a === '--permission')).toEqual([
      '--permission',
      '--allow-fs-read=/r',
      '--allow-fs-read=/t',
      '--allow-fs-write=/t/w',
    ]);
  });
});

describe('bwrapArgs', () => {
  it('mounts the grants, then the links, then capsule’s own files, and seals hidden directories last', () => {
    const args = bwrapArgs({
      readOnly: ['/t/cache/bundle'],
      grants: [
        { path: '/t', writable: true },
        { path: '/t/cache', writable: false, hide: 'dir' },
        { path: '/t/key', writable: false, hide: 'file' },
      ],
      symlinks: [{ target: '/t', at: '/srv/t' }],
      command: ['/bin/node'],
      system: [],
    });
    const at = (...xs: string[]) => args.findIndex((_, i) => xs.every((x, j) => args[i + j] === x));
    const order = [
      at('--bind', '/t', '/t'),
      at('--tmpfs', '/t/cache'),
      at('--ro-bind', '/dev/null', '/t/key'),
      at('--symlink', '/t', '/srv/t'),
      at('--ro-bind', '/t/cache/bundle', '/t/cache/bundle'),
      at('--remount-ro', '/t/cache'),
      at('--', '/bin/node'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('the child reads its channel with blocking reads', () => {
  it('StdinLines splits lines across reads (a line longer than one read) and returns the rest at end of input', () => {
    const long = 'x'.repeat(100_000);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'capsule-lines-')), 'in');
    writeFileSync(file, `one\n${long}\n\nthree`);
    const fd = openSync(file, 'r');
    try {
      const s = new StdinLines(fd);
      const out: string[] = [];
      for (let l = s.next(); l !== undefined; l = s.next()) out.push(l);
      expect(out).toEqual(['one', long, '', 'three']);
    } finally {
      closeSync(fd);
    }
  });
});
