// policy ∩ manifest (src/grants/intersect.ts, env.ts, levels.ts) with the
// host injected: no disk, no process environment, no current directory.
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { intersectEnv } from '../../src/grants/env.js';
import { within } from '../../src/grants/fs.js';
import { grantedSwitch, intersectPermissions } from '../../src/grants/intersect.js';
import { checkLevel, LEVELS, levelFor } from '../../src/grants/levels.js';
import type { Permissions, SecurityLevel } from '../../src/grants/permissions.js';
import { permissionsFromFlags } from '../../src/grants/permissions.js';
import { absPath, ok, pick, plainDisk, rng } from './grants-gen.js';

const policy = (onUngranted?: 'refuse' | 'drop') => ({
  doc: { onUngranted },
  source: 'policy.json',
  baseDir: '/srv',
  grantReal: new Map<string, string>(),
  sensitive: [],
  noWrite: [],
});
const host = { cwd: '/work', env: { HOME: '/home/me', TOKEN: 'host-token' }, disk: plainDisk };

describe('env', () => {
  it('a policy value wins over the host value; a bare name takes the host value; ungranted names are reported', () => {
    const uncovered: string[] = [];
    const env = intersectEnv(['TOKEN', 'HOME', 'MISSING', 'NOPE'], ['TOKEN=policy', 'HOME', 'MISSING'], host.env, uncovered);
    expect(env).toEqual({ TOKEN: 'policy', HOME: '/home/me' });
    expect(uncovered).toEqual(['env NOPE']);
  });
});

describe('intersectPermissions', () => {
  it('refuses what no grant covers, naming it, unless the policy says drop', () => {
    const req: Permissions = { env: ['X'], net: { outbound: ['example.org'] }, fs: { read: ['./data'] } };
    expect(() => intersectPermissions('c', req, [], policy(), host)).toThrow(CapsuleError);
    const s = intersectPermissions('c', req, [], policy('drop'), host);
    expect(s.notGranted).toEqual(['fs.read /work/data', 'env X', 'net example.org']);
  });

  it('is never wider than the request nor the grants (fs, env, net), over generated cases', () => {
    const r = rng(21);
    const names = ['a', 'b', 'c'];
    for (let i = 0; i < 300; i++) {
      const paths = () => Array.from({ length: Math.floor(r() * 3) }, () => absPath(r, names, 3));
      const vars = () => Array.from({ length: Math.floor(r() * 3) }, () => pick(r, ['A', 'B', 'C']));
      const req: Permissions = { fs: { read: paths(), write: paths() }, env: vars(), net: { outbound: [pick(r, ['a.org', 'b.org'])] } };
      const grants: Permissions[] = [{ fs: { read: paths(), write: paths() }, env: vars(), net: { outbound: [pick(r, ['a.org', '*.org'])] } }];
      const s = intersectPermissions('c', req, grants, policy('drop'), { ...host, env: { A: '1', B: '2', C: '3' } });
      const given = (k: 'read' | 'write') => (k === 'read' ? [...(grants[0]?.fs?.read ?? []), ...(grants[0]?.fs?.write ?? [])] : (grants[0]?.fs?.write ?? []));
      for (const k of ['read', 'write'] as const) {
        for (const p of s.fs[k]) {
          ok(
            req.fs?.[k]?.some((q) => within(q, p)),
            `req.fs?.[k]?.some((q) => within(q, p))`,
          );
          ok(
            given(k).some((g) => within(g, p)),
            `given(k).some((g) => within(g, p))`,
          );
        }
      }
      for (const name of Object.keys(s.env)) {
        expect(req.env).toContain(name);
        expect(grants[0]?.env).toContain(name);
      }
      for (const n of s.net) expect(req.net?.outbound).toContain(n);
      for (const p of s.fs.preopens)
        ok(
          [...s.fs.read, ...s.fs.write].some((g) => within(p, g)),
          `[...s.fs.read, ...s.fs.write].some((g) => within(p, g))`,
        );
    }
  });

  it('a grant whose path has been swapped for a symlink since the policy loaded grants nothing', () => {
    const moved = { ...policy('drop'), grantReal: new Map([['/srv/data', '/srv/data']]) };
    const disk = { realpath: (p: string) => (p === '/srv/data' ? '/etc' : p), isFile: () => false };
    const s = intersectPermissions('c', { fs: { read: ['/srv/data'] } }, [{ fs: { read: ['./data'] } }], moved, { ...host, disk });
    expect(s.notGranted).toEqual(['fs.read /srv/data']);
  });
});

describe('clocks and random', () => {
  it('are granted when requested unless a grant says false', () => {
    expect(grantedSwitch('clocks', { clocks: true }, [])).toBe(true);
    expect(grantedSwitch('clocks', { clocks: true }, [{}, { clocks: false }])).toBe(false);
    expect(grantedSwitch('random', {}, [{ random: true }])).toBe(false);
  });
});

describe('security levels', () => {
  it('levelFor gives a level whose ceiling allows the request, and no weaker level does', () => {
    const order: SecurityLevel[] = ['pure', 'controlled', 'sandboxed'];
    const r = rng(31);
    for (let i = 0; i < 200; i++) {
      const p: Permissions = {};
      if (r() < 0.3) p.fs = { read: r() < 0.5 ? ['/a'] : [], write: r() < 0.5 ? ['/b'] : [] };
      if (r() < 0.3) p.env = ['X'];
      if (r() < 0.3) p.net = { outbound: ['a.org'] };
      const level = levelFor(p);
      expect(() => checkLevel('c', level, p)).not.toThrow();
      for (const weaker of order.slice(0, order.indexOf(level))) expect(() => checkLevel('c', weaker, p)).toThrow(/does not allow/);
    }
    expect(LEVELS.full).toEqual(LEVELS.sandboxed);
  });

  it('flags resolve paths against the given directory', () => {
    expect(permissionsFromFlags({ host: [], read: ['d'], write: [], env: ['E'], net: [] }, '/work')).toEqual({
      fs: { read: ['/work/d'], write: [] },
      env: ['E'],
    });
  });
});
