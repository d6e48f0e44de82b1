// Classes 9 and 10 of issue 9 (policy and path parts): provider names that
// differ from a denied one only in case, spacing or Unicode form; capsule's own
// files under /proc, /sys or /dev; a leap-second `expiresAt` that never expired;
// fs paths and blocked globs too big to resolve or match in bounded time.
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type PolicyDocument } from '../dist/index.js';
import { cli, failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

let tmp: string;
let caps: string;
let cache: string;

beforeAll(() => {
  tmp = tempDir('policy-hostile-');
  caps = path.join(tmp, 'caps');
  cache = path.join(tmp, 'cache');
  mkdirSync(caps);
});

const runtime = (policy: PolicyDocument, extra: Record<string, unknown> = {}) => createRuntime({ capabilitiesDir: caps, cacheDir: cache, policy, ...extra });

describe('deniedProviders compares normalised names (class 9)', () => {
  const spellings = ['Evil-Plugin', 'evil-plugin ', ' EVIL-PLUGIN', 'ｅｖｉｌ-ｐｌｕｇｉｎ', 'evil\u200b-plugin', 'evil-plugin\t'];
  for (const [i, name] of spellings.entries()) {
    it(`provider ${JSON.stringify(name)} is refused by a deny of "evil-plugin"`, async () => {
      const id = `test.evil${i}`;
      writeCapability(caps, id, { ...manifest(id), provider: { name } }, fixture('counter'));
      const rt = await runtime({ deniedProviders: ['evil-plugin'] });
      try {
        const e = await failure(rt.run(id, {}));
        expect(e.code).toBe('PROVIDER_DENIED');
      } finally {
        await rt.close();
      }
    });
  }

  it('a deny entry with odd case and spacing still matches, and other providers run', async () => {
    writeCapability(caps, 'test.plain', { ...manifest('test.plain'), provider: { name: 'evil-plugin' } }, fixture('counter'));
    writeCapability(caps, 'test.good', { ...manifest('test.good'), provider: { name: 'evil-plugins' } }, fixture('counter'));
    const rt = await runtime({ deniedProviders: ['  Evil-PLUGIN '] });
    try {
      expect((await failure(rt.run('test.plain', {}))).code).toBe('PROVIDER_DENIED');
      await expect(rt.run('test.good', {})).resolves.toBeDefined();
    } finally {
      await rt.close();
    }
  });
});

describe("capsule's own paths under /proc, /sys, /dev are refused (class 9)", () => {
  it('a cache directory there is USAGE, also through a symlink', async () => {
    for (const dir of ['/proc/self/fd/capsule', '/sys/kernel/capsule', '/dev/shm/../zero/cache']) {
      const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: dir, policy: {} }));
      expect(e.code, dir).toBe('USAGE');
      expect(e.message, dir).toMatch(/under \/(proc|sys|dev)/);
    }
    const link = path.join(tmp, 'proc-link');
    symlinkSync('/proc/self', link);
    const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: path.join(link, 'cache'), policy: {} }));
    expect(e.code).toBe('USAGE');
    expect(e.message).toContain('/proc');
  }, 15_000);

  it('an audit log there is AUDIT_INVALID', async () => {
    for (const file of ['/dev/zero', '/proc/self/mem', '/sys/kernel/notes']) {
      const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: cache, auditLog: file, policy: {} }));
      expect(e.code, file).toBe('AUDIT_INVALID');
      expect(e.message, file).toMatch(/under \/(proc|sys|dev)/);
    }
  }, 15_000);

  it('capsule keygen --out there is a usage error', () => {
    const r = cli(['keygen', '--out', '/proc/self/fd']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/USAGE: .*under \/proc/);
  }, 15_000);
});

describe('grant lifetimes must be finite instants (class 10)', () => {
  it('a leap-second expiresAt is POLICY_INVALID naming the field, alone and with ttlSeconds', async () => {
    for (const grant of [
      { capabilities: '*', expiresAt: '2016-12-31T23:59:60Z' },
      { capabilities: '*', expiresAt: '2016-12-31T23:59:60Z', ttlSeconds: 1 },
    ]) {
      const e = await failure(runtime({ grants: [{ capabilities: 'x.*' }, grant] }));
      expect(e.code).toBe('POLICY_INVALID');
      expect(e.message).toContain('/grants/1/expiresAt');
    }
  });

  it('an ordinary expiresAt still loads', async () => {
    const rt = await runtime({ grants: [{ capabilities: '*', expiresAt: '2099-12-31T23:59:59Z' }] });
    await rt.close();
  });
});

describe('fs paths and blocked patterns are bounded at load (class 10)', () => {
  it('a policy path with 50 000 missing segments is POLICY_INVALID at once, naming the field', async () => {
    const deep = path.join(tmp, ...Array.from({ length: 50_000 }, () => 'a'));
    const started = Date.now();
    const e = await failure(runtime({ grants: [{ capabilities: '*', fs: { read: [deep] } }] }));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.message).toContain('/grants/0/fs/read/0');
    expect(Date.now() - started).toBeLessThan(5_000); // generous: it took 29 s before
  });

  it('a path under the length cap but over the segment cap is POLICY_INVALID too', async () => {
    const deep = `/${Array.from({ length: 300 }, () => 'a').join('/')}`;
    const e = await failure(runtime({ grants: [{ capabilities: '*', fs: { write: [deep] } }] }));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.message).toContain('/grants/0/fs/write/0');
    expect(e.message).toContain('path segments');
  });

  it('a 64 KiB blocked glob is POLICY_INVALID naming the field (it made every fs call INTERNAL)', async () => {
    const glob = `${tmp}/${'*'.repeat(64 * 1024)}`;
    const e = await failure(runtime({ grants: [{ capabilities: '*', fs: { read: [tmp], blocked: [glob] } }] }));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.message).toContain('/grants/0/fs/blocked/0');
  });

  it('a manifest asking for an oversized path or blocked glob is MANIFEST_INVALID naming the field', async () => {
    const perms = (fs: Record<string, string[]>) => ({ world: 'command', securityLevel: 'controlled', permissions: { fs } });
    writeCapability(caps, 'test.bigpath', manifest('test.bigpath', perms({ read: [`/${'a/'.repeat(300)}x`] })), fixture('attack-fs'));
    writeCapability(caps, 'test.bigglob', manifest('test.bigglob', perms({ read: [tmp], blocked: [`*${'?'.repeat(64 * 1024)}`] })), fixture('attack-fs'));
    const rt = await runtime({ grants: [{ capabilities: 'test.*', fs: { read: ['/tmp'] } }] });
    try {
      const big = await failure(rt.run('test.bigpath', {}));
      expect(big.code).toBe('MANIFEST_INVALID');
      expect(big.message).toContain('permissions.fs.read');
      expect(big.message).toContain('path segments');
      const glob = await failure(rt.run('test.bigglob', {}));
      expect(glob.code).toBe('MANIFEST_INVALID');
      expect(glob.message).toContain('/permissions/fs/blocked/0');
    } finally {
      await rt.close();
    }
  });
});
