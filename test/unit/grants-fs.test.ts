// The fs-grant rules of src/grants/fs.ts, without a disk: algebraic rules
// checked over generated cases (a path with `..` never escapes its preopen;
// blocked beats allowed; read-only beats write; request ∩ grant is never wider
// than either side; preopens cover the grant and never nest).
import path from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import {
  blockedEntry,
  escapeGlob,
  type FsGrant,
  FsRules,
  globBase,
  grantPath,
  intersectFs,
  intersectPaths,
  NO_FS,
  pathsUnder,
  preopensFor,
  realish,
  walkPath,
  within,
  withContents,
} from '../../src/grants/fs.js';
import { CapsuleError } from '../../src/errors.js';
import { absPath, ok, pick, plainDisk, relPath, rng } from './grants-gen.js';

const NAMES = ['a', 'b', 'c', 'a b', 'x(1)', '[y]'];
const CASES = 500;

describe('within', () => {
  it('is segment-wise: a sibling sharing a prefix is not inside', () => {
    expect(within('/srv/data', '/srv/data')).toBe(true);
    expect(within('/srv/data', '/srv/data/x')).toBe(true);
    expect(within('/srv/data', '/srv/database')).toBe(false);
    expect(within('/', '/anything')).toBe(true);
  });

  it('holds for every path joined below its parent, and is transitive', () => {
    const r = rng(1);
    for (let i = 0; i < CASES; i++) {
      const a = absPath(r, NAMES, 3);
      const b = path.posix.join(a, relPath(r, NAMES, 3));
      const c = path.posix.join(b, relPath(r, NAMES, 3));
      ok(within(a, b), `within(a, b)`);
      ok(within(a, c), `within(a, c)`);
      if (within(b, a)) expect(a).toBe(b);
    }
  });
});

describe('walkPath: what .. and a symlink mean under a preopen', () => {
  const root = '/host/root';
  const noLinks = { isLink: () => false, readLink: () => '' };

  it('without symlinks, is the normalized path, or refused exactly when .. would climb above the root', () => {
    const r = rng(2);
    for (let i = 0; i < CASES; i++) {
      const start = relPath(r, ['a', 'b'], 2).split('/').filter(Boolean);
      const rel = relPath(r, ['a', 'b', '..', '.', ''], 6);
      if (rel.startsWith('/')) {
        expect(walkPath(root, start, rel, true, noLinks)).toEqual({ ok: false, refused: 'absolute' });
        continue;
      }
      let depth = start.length;
      let escapes = false;
      for (const c of rel.split('/')) {
        if (c === '..') depth--;
        else if (c !== '' && c !== '.') depth++;
        if (depth < 0) escapes = true;
      }
      const w = walkPath(root, start, rel, true, noLinks);
      if (escapes) {
        expect(w).toEqual({ ok: false, refused: 'dotdot' });
      } else {
        ok(w.ok, `w.ok`);
        if (!w.ok) continue;
        const host = path.posix.join(root, ...w.stack);
        ok(within(root, host), `within(root, host)`);
        expect(host).toBe(path.posix.join(root, ...start, rel).replace(/\/$/, ''));
      }
    }
  });

  it('with symlinks anywhere (relative, absolute inside, absolute outside), never lands outside the root', () => {
    const r = rng(3);
    const targets = ['..', '../..', 'a/../..', '../b', '/host/root/a', '/host/root/../x', '/host/rootx', '/etc', 'b', '.'];
    for (let i = 0; i < CASES; i++) {
      const links = new Map<string, string>();
      for (let j = 0; j < 4; j++) links.set(relPath(r, ['a', 'b', 'l'], 3) || 'l', pick(r, targets));
      const key = (stack: readonly string[], name: string) => [...stack, name].join('/');
      const facts = {
        isLink: (s: readonly string[], n: string) => links.has(key(s, n)),
        readLink: (s: readonly string[], n: string) => links.get(key(s, n)) ?? '',
      };
      const rel = relPath(r, ['a', 'b', 'l', '..', '.'], 6);
      const w = walkPath(root, [], rel, r() < 0.5, facts);
      if (!w.ok) {
        expect(['dotdot', 'loop', 'link-outside']).toContain(w.refused);
        continue;
      }
      for (const c of w.stack) expect(['', '.', '..']).not.toContain(c);
      ok(within(root, path.posix.join(root, ...w.stack)), `within(root, path.posix.join(root, ...w.stack))`);
    }
  });

  it('refuses an absolute path, a NUL, a link out of the root, and a link loop', () => {
    const noFollow = { isLink: () => false, readLink: () => '' };
    expect(walkPath(root, [], '/etc/passwd', true, noFollow)).toEqual({ ok: false, refused: 'absolute' });
    expect(walkPath(root, [], 'a\0b', true, noFollow)).toEqual({ ok: false, refused: 'nul' });
    const out = { isLink: (_s: readonly string[], n: string) => n === 'l', readLink: () => '/etc' };
    expect(walkPath(root, ['a'], 'l/passwd', true, out)).toEqual({ ok: false, refused: 'link-outside', link: ['a', 'l'] });
    // The last component is not followed when followLast is false (lstat-like).
    expect(walkPath(root, ['a'], 'l', false, out)).toEqual({ ok: true, stack: ['a', 'l'] });
    const loop = { isLink: () => true, readLink: () => 'self' };
    expect(walkPath(root, [], 'self', true, loop)).toEqual({ ok: false, refused: 'loop' });
  });
});

describe('FsRules: deny before allow', () => {
  function grantFrom(r: () => number): FsGrant {
    const some = (n: number) => Array.from({ length: Math.floor(r() * n) }, () => absPath(r, NAMES, 3));
    return {
      preopens: [],
      read: some(3),
      write: some(3),
      blocked: r() < 0.5 ? [] : [pick(r, ['**/a', '**/*.key', `${escapeGlob('/x(1)')}/**`, '/b/*'])],
      blockedPaths: some(2),
      readOnlyPaths: some(2),
    };
  }

  it('a blocked path is neither readable, writable nor visible, whatever read/write grant', () => {
    const r = rng(4);
    for (let i = 0; i < CASES; i++) {
      const g = grantFrom(r);
      const rules = new FsRules(g);
      const guest = absPath(r, NAMES, 4);
      const blockedByPath = (g.blockedPaths ?? []).some((b) => within(b, guest));
      const blockedByGlob = g.blocked.length > 0 && picomatch(g.blocked, { dot: true })(guest);
      expect(rules.blocked(guest)).toBe(blockedByPath || blockedByGlob);
      if (rules.blocked(guest)) {
        ok(!rules.readable(guest), `not rules.readable(guest)`);
        ok(!rules.writable(guest), `not rules.writable(guest)`);
        ok(!rules.visible(guest), `not rules.visible(guest)`);
      }
      // Writable implies readable; a read-only path is never writable.
      if (rules.writable(guest)) ok(rules.readable(guest), `rules.readable(guest)`);
      if ((g.readOnlyPaths ?? []).some((p) => within(p, guest))) ok(!rules.writable(guest), `not rules.writable(guest)`);
      // Nothing outside every grant is readable.
      if (![...g.read, ...g.write].some((p) => within(p, guest))) ok(!rules.readable(guest), `not rules.readable(guest)`);
    }
  });

  it('a directory with a blocked or read-only path below it cannot be renamed', () => {
    const rules = new FsRules({ preopens: [], read: [], write: ['/w'], blocked: ['/w/s/*.key'], blockedPaths: ['/w/t/secret'], readOnlyPaths: ['/w/ro'] });
    expect(rules.renameConflict('/w/s')).toBe('blocked');
    expect(rules.renameConflict('/w/t')).toBe('blocked');
    expect(rules.renameConflict('/w/ro')).toBe('read-only');
    expect(rules.renameConflict('/w/free')).toBeUndefined();
    expect(new FsRules({ ...NO_FS, write: ['/w'], blocked: ['**/*.key'] }).renameConflict('/w/free')).toBe('blocked');
  });
});

describe('read/write paths and blocked entries', () => {
  it('grantPath resolves against the base and refuses wildcards other than a trailing /**', () => {
    expect(grantPath('./data/**', '/srv', 'POLICY_INVALID', 'p')).toBe('/srv/data');
    expect(grantPath('../x', '/srv/p', 'POLICY_INVALID', 'p')).toBe('/srv/x');
    expect(grantPath('/a(1)/[b]', '/srv', 'POLICY_INVALID', 'p')).toBe('/a(1)/[b]');
    expect(() => grantPath('/srv/*.txt', '/', 'POLICY_INVALID', 'p')).toThrow(CapsuleError);
    expect(() => grantPath('/x'.repeat(300), '/', 'MANIFEST_INVALID', 'p')).toThrow(/path segments/);
  });

  it('a blocked entry anchored at a directory with glob syntax in its name matches that directory literally', () => {
    const r = rng(5);
    for (let i = 0; i < 100; i++) {
      const base = absPath(r, NAMES, 3);
      const e = blockedEntry('./*.key', base);
      expect(e.globs).toHaveLength(1);
      const match = picomatch(e.globs.flatMap(withContents), { dot: true });
      ok(match(`${base}/id.key`), `match(${base}/id.key)`);
      expect(globBase(e.globs[0] as string)).toBe(base);
      if (base !== '/srv') ok(!match('/srv/id.key'), `not match('/srv/id.key')`);
    }
  });

  it('a literal blocked entry is a path, an unanchored one a glob anywhere', () => {
    expect(blockedEntry('./secret', '/srv')).toEqual({ paths: ['/srv/secret'], globs: [] });
    expect(blockedEntry('secret', '/srv')).toEqual({ paths: [], globs: ['**/secret'] });
    expect(blockedEntry('*.key', '/srv')).toEqual({ paths: [], globs: ['**/*.key'] });
    expect(withContents('**/secret')).toEqual(['**/secret', '**/secret/**']);
  });
});

describe('request ∩ grant', () => {
  it('is never wider than either side', () => {
    const r = rng(6);
    for (let i = 0; i < CASES; i++) {
      const req = Array.from({ length: Math.floor(r() * 4) }, () => absPath(r, ['a', 'b', 'c'], 3));
      const grant = Array.from({ length: Math.floor(r() * 4) }, () => absPath(r, ['a', 'b', 'c'], 3));
      const { kept, uncovered } = intersectPaths(req, grant, plainDisk);
      for (const k of kept) {
        ok(
          req.some((q) => within(q, k)),
          `req.some((q) => within(q, k))`,
        );
        ok(
          grant.some((g) => within(g, k)),
          `grant.some((g) => within(g, k))`,
        );
      }
      // Every request is either (partly) kept or reported uncovered.
      for (const q of req) ok(uncovered.includes(q) || kept.some((k) => within(q, k)), `uncovered.includes(q) || kept.some((k) => within(q, k))`);
      // Symmetric in what it allows: the intersection read the other way round covers the same paths.
      const back = intersectPaths(grant, req, plainDisk).kept;
      for (const k of kept)
        ok(
          back.some((b) => within(b, k)),
          `back.some((b) => within(b, k))`,
        );
    }
  });

  it('keeps nothing whose real path leaves the grant (a symlink below it)', () => {
    const disk = { realpath: (p: string) => (p === '/g/link' ? '/etc' : p), isFile: () => false };
    expect(intersectPaths(['/g/link'], ['/g'], disk)).toEqual({ kept: [], uncovered: ['/g/link'] });
    expect(
      realish('/g/link/x/y', {
        realpath: (p: string) => (p === '/g/link' ? '/etc' : p === '/g/link/x' ? undefined : p === '/g/link/x/y' ? undefined : p),
        isFile: () => false,
      }),
    ).toBe('/etc/x/y');
  });

  it('preopens cover every granted path and none is nested in another', () => {
    const r = rng(7);
    for (let i = 0; i < CASES; i++) {
      // `f` is a file, and only ever the last segment.
      const paths = Array.from({ length: 1 + Math.floor(r() * 5) }, () => absPath(r, ['a', 'b'], 3) + (r() < 0.3 ? '/f' : ''));
      const disk = { realpath: (p: string) => p, isFile: (p: string) => p.endsWith('/f') };
      const pre = preopensFor(paths, disk);
      for (const p of paths)
        ok(
          pre.some((d) => within(d, p)),
          `pre.some((d) => within(d, p))`,
        );
      for (const a of pre) for (const b of pre) if (a !== b) ok(!within(a, b), `not within(a, b)`);
      for (const d of pre) ok(!disk.isFile(d), `not disk.isFile(d)`);
    }
  });

  it('a sensitive path inside a broader grant is refused; protected paths below a grant stay blocked', () => {
    const policy = { source: 'p.json', baseDir: '/', grantReal: new Map<string, string>(), sensitive: ['/etc/shadow'], noWrite: ['/usr'] };
    const uncovered: string[] = [];
    expect(() => intersectFs('c', { fs: { read: ['/etc/shadow'] } }, [{ fs: { read: ['/'] } }], policy, '/', plainDisk, uncovered)).toThrow(/sensitive/);
    expect(() =>
      intersectFs('c', { fs: { write: ['/usr/lib'] } }, [{ fs: { write: ['/'] } }], { ...policy, sensitive: [] }, '/', plainDisk, uncovered),
    ).toThrow(/never be written/);
    const g = intersectFs(
      'c',
      { fs: { read: ['/etc'], write: ['/'] } },
      [{ fs: { read: ['/etc'], write: ['/'] } }],
      { ...policy, sensitive: ['/etc/shadow'] },
      '/',
      plainDisk,
      uncovered,
    );
    expect(g.blockedPaths).toContain('/etc/shadow');
    expect(g.readOnlyPaths).toContain('/usr');
    expect(uncovered).toEqual([]);
  });

  it('pathsUnder translates a protected path to the guest view of a symlinked grant', () => {
    const disk = { realpath: (p: string) => (p === '/home/me' ? '/data/me' : p), isFile: () => false };
    expect(pathsUnder(['/home/me'], ['/data/me/.ssh', '/etc'], disk)).toEqual(['/home/me/.ssh']);
  });
});
