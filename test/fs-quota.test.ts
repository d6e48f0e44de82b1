// Disk and descriptor limits (limits.writeBytes, files, openFiles): a guest with a
// writable grant that writes, creates or opens past them sees ENOSPC / EDQUOT, the
// call reports a denial, and the host file stops at the quota. The guest
// (fixtures/src/fs-quota.wat) calls wasi:filesystem directly and prints `[N,E]`:
// how far it got and the error code index that stopped it.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Denial, type PolicyDocument, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

const QUOTA = 6; // wasi:filesystem error-code `quota` (EDQUOT)
const NO_SPACE = 23; // `insufficient-space` (ENOSPC)

let rt: Runtime;
let caps: string;
let out: string;

function guest(id: string, limits: Record<string, number>, dir: string) {
  writeCapability(caps, id, manifest(id, { securityLevel: 'sandboxed', permissions: { fs: { write: [dir] } }, limits }), fixture('fs-quota'));
}

beforeAll(async () => {
  caps = tempDir('fs-quota-caps-');
  out = tempDir('fs-quota-out-');
  for (const d of ['w', 'c', 'o', 'd', 'low', 'ceil']) mkdirSync(path.join(out, d));
  writeFileSync(path.join(out, 'o', 'f'), 'x');
  writeFileSync(path.join(out, 'd', 'f'), 'x');
  guest('quota.write', { writeBytes: 10_000 }, path.join(out, 'w'));
  guest('quota.files', { files: 5 }, path.join(out, 'c'));
  guest('quota.open', { openFiles: 8 }, path.join(out, 'o'));
  guest('quota.defaults', {}, path.join(out, 'd'));
  guest('quota.low', { writeBytes: 1_000_000 }, path.join(out, 'low'));
  guest('quota.ceiling', { writeBytes: 1_000_000 }, path.join(out, 'ceil'));
  guest('quota.toomany', { openFiles: 100_000 }, path.join(out, 'o'));
  const policy: PolicyDocument = { grants: [{ capabilities: 'quota.*', fs: { write: [out] } }] };
  rt = await createRuntime({ capabilitiesDir: caps, policy: { grants: policy.grants }, pool: { minThreads: 1, maxThreads: 1 } });
});

afterAll(async () => {
  await rt?.close();
});

const fsDenials = (ds: Denial[]) => ds.filter((d) => d.kind === 'fs');

describe('limits.writeBytes', () => {
  it('a guest writing past it sees ENOSPC, the call reports a denial, and the host file stops at the quota', async () => {
    const r = await rt.run<[number, number]>('quota.write', 'wdata.bin');
    expect(r.output).toEqual([10_000, NO_SPACE]);
    expect(statSync(path.join(out, 'w', 'data.bin')).size).toBe(10_000);
    const ds = fsDenials(r.denials as Denial[]);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ target: `${path.join(out, 'w')}/data.bin` });
    expect(ds[0]?.reason).toContain('limits.writeBytes');
  });

  it('counts per call: the next call starts again from zero', async () => {
    const r = await rt.run<[number, number]>('quota.write', 'wagain.bin');
    expect(r.output).toEqual([10_000, NO_SPACE]);
  });

  it('a call option lowers it and cannot raise it', async () => {
    const lower = await rt.run<[number, number]>('quota.low', 'wa.bin', { writeBytes: 4096 * 3 });
    expect(lower.output).toEqual([4096 * 3, NO_SPACE]);
    expect(statSync(path.join(out, 'low', 'a.bin')).size).toBe(4096 * 3);
    const higher = await rt.run<[number, number]>('quota.write', 'wb.bin', { writeBytes: 1_000_000 });
    expect(higher.output).toEqual([10_000, NO_SPACE]);
  });

  it('a policy ceiling caps the manifest', async () => {
    const capped = await createRuntime({
      capabilitiesDir: caps,
      policy: { grants: [{ capabilities: 'quota.*', fs: { write: [out] } }], ceilings: { writeBytes: 5000 } },
      pool: { minThreads: 1, maxThreads: 1 },
    });
    try {
      const r = await capped.run<[number, number]>('quota.ceiling', 'wc.bin');
      expect(r.output).toEqual([5000, NO_SPACE]);
      expect(statSync(path.join(out, 'ceil', 'c.bin')).size).toBe(5000);
    } finally {
      await capped.close();
    }
  });

  it('zero means no byte may be written', async () => {
    const r = await rt.run<[number, number]>('quota.low', 'wzero.bin', { writeBytes: 0 });
    expect(r.output).toEqual([0, NO_SPACE]);
    expect(statSync(path.join(out, 'low', 'zero.bin')).size).toBe(0);
  });

  it('a negative or non-numeric option is a USAGE error', async () => {
    expect((await failure(rt.run('quota.low', 'wx', { writeBytes: -1 }))).code).toBe('USAGE');
    expect((await failure(rt.run('quota.low', 'wx', { openFiles: 0 }))).code).toBe('USAGE');
  });
});

describe('limits.files', () => {
  it('a guest creating past it sees EDQUOT and a denial; only that many files exist', async () => {
    const r = await rt.run<[number, number]>('quota.files', 'cn');
    expect(r.output).toEqual([5, QUOTA]);
    expect(readdirSync(path.join(out, 'c')).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    const ds = fsDenials(r.denials as Denial[]);
    expect(ds).toHaveLength(1);
    expect(ds[0]?.reason).toContain('limits.files');
  });
});

describe('limits.openFiles', () => {
  it('a guest holding descriptors past it sees EDQUOT and a denial', async () => {
    const r = await rt.run<[number, number]>('quota.open', 'of');
    expect(r.output).toEqual([8, QUOTA]);
    expect(fsDenials(r.denials as Denial[])[0]?.reason).toContain('limits.openFiles');
  });

  it('has a default (256) that a manifest without limits gets', async () => {
    const r = await rt.run<[number, number]>('quota.defaults', 'of');
    expect(r.output).toEqual([256, QUOTA]);
  });

  it('a manifest asking for more descriptors than the hard ceiling is MANIFEST_INVALID', async () => {
    const e = await failure(rt.run('quota.toomany', 'of'));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toContain('openFiles');
  });
});
