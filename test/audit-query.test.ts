// Audit fit for compliance: every line carries its severity and, when given, the
// principal it acted for; `capsule audit query` filters a log and `capsule audit
// report` sums it up. The log is made by running hostile components (an fs
// escape, a disk filler, a spinner, a memory bomb, a denied provider, an unsigned
// manifest where a signature is required), and the chain still verifies with
// lines written before `severity` existed at its start.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type PolicyDocument } from '../dist/index.js';
import { EMPTY_CHAIN, sealLine } from '../src/audit/chain.js';
import { cli, failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

interface Rec {
  seq: number;
  event: string;
  severity: string;
  principal?: string;
  capability?: string;
  outcome?: string;
  tier?: string;
  [k: string]: unknown;
}

let root: string;
let log: string;

const query = (...args: string[]) => {
  const r = cli(['audit', 'query', log, ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
};

beforeAll(async () => {
  root = tempDir('audit-query-');
  const caps = path.join(root, 'caps');
  const data = path.join(root, 'data');
  const outside = path.join(root, 'outside');
  for (const d of [data, outside]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(outside, 'secret.txt'), 'SECRET');
  const fsPerm = { fs: { read: [data], write: [data] } };
  writeCapability(caps, 'hostile.fs', manifest('hostile.fs', { world: 'command', securityLevel: 'sandboxed', permissions: fsPerm }), fixture('attack-fs'));
  writeCapability(
    caps,
    'hostile.disk',
    manifest('hostile.disk', { securityLevel: 'sandboxed', permissions: fsPerm, limits: { writeBytes: 8192 } }),
    fixture('fs-quota'),
  );
  writeCapability(caps, 'hostile.spin', manifest('hostile.spin', { limits: { timeoutMs: 300 } }), fixture('spin'));
  writeCapability(caps, 'hostile.membomb', manifest('hostile.membomb', { limits: { memoryBytes: 16 << 20 } }), fixture('membomb-trap'));
  writeCapability(caps, 'hostile.evil', { ...manifest('hostile.evil'), provider: { name: 'Evil-Plugin' } }, fixture('counter'));
  writeCapability(caps, 'hostile.unsigned', manifest('hostile.unsigned', { securityLevel: 'controlled' }), fixture('counter'));
  writeCapability(caps, 'plain.counter', manifest('plain.counter'), fixture('counter'));
  writeCapability(caps, 'hostile.esc', manifest('hostile.esc'), fixture('counter'));
  const policy: PolicyDocument = {
    grants: [{ capabilities: 'hostile.*', fs: { read: [data], write: [data] } }, { capabilities: 'plain.*' }],
    deniedProviders: ['evil-plugin'],
    requireSignature: ['controlled'],
    // No VM runner in the test environment: the escalation falls back, and says so.
    escalate: ['hostile.esc'],
    fallback: 'worker',
  };

  // Lines as capsule wrote them before `severity` and `principal` existed: the chain must still hold across them.
  log = path.join(root, 'audit.jsonl');
  let state = EMPTY_CHAIN;
  const old: string[] = [];
  for (const fields of [
    { event: 'runtime.open', pid: 1, policy: '(old)', trustedKeys: [] },
    { event: 'load', outcome: 'SIGNATURE_INVALID', capability: 'old.cap', source: 'registry', message: 'old refusal' },
    { event: 'runtime.close', pid: 1 },
  ]) {
    const { line, next } = sealLine(state, new Date('2020-01-01T00:00:00Z'), fields);
    old.push(line);
    state = next;
  }
  writeFileSync(log, `${old.join('\n')}\n`, { mode: 0o600 });

  const rt = await createRuntime({ capabilitiesDir: caps, policy, auditLog: log, principal: 'tenant-a', pool: { minThreads: 1, maxThreads: 1 } });
  try {
    const escaping = await rt.run('hostile.fs', {
      args: ['read', `${data}/../outside/secret.txt`, 'symlink', '/etc/passwd', `${data}/l`, 'link', `${data}/a`, `${data}/b`],
    });
    expect(escaping.denials.length).toBeGreaterThan(0);
    await rt.run('hostile.disk', 'wfill.bin', { principal: 'alice' });
    expect((await failure(rt.run('hostile.spin', {}, { principal: 'alice' }))).code).toBe('TIMEOUT');
    expect((await failure(rt.run('hostile.membomb', {}))).code).toBe('MEMORY_LIMIT');
    expect((await failure(rt.run('hostile.evil', {}))).code).toBe('PROVIDER_DENIED');
    expect((await failure(rt.run('hostile.unsigned', {}))).code).toBe('SIGNATURE_INVALID');
    await rt.run('plain.counter', {}, { principal: 'bob' });
    expect((await rt.run('hostile.esc', {})).stats.tierDecision.fallbackFrom).toBe('vm');
  } finally {
    await rt.close();
  }
}, 120_000);

describe('every line', () => {
  it('carries a severity by event kind, and the principal: the call’s, else the runtime’s', () => {
    const all = query();
    const fresh = all.filter((r) => r.seq > 3);
    expect(fresh.every((r) => ['info', 'warning', 'critical'].includes(r.severity))).toBe(true);
    expect(fresh.every((r) => r.principal !== undefined)).toBe(true);
    const ends = fresh.filter((r) => r.event === 'run.end');
    expect(ends.find((r) => r.capability === 'hostile.spin')).toMatchObject({ principal: 'alice', severity: 'warning', outcome: 'TIMEOUT', tier: 'worker' });
    expect(ends.find((r) => r.capability === 'plain.counter')).toMatchObject({ principal: 'bob', severity: 'info', outcome: 'ok' });
    expect(ends.find((r) => r.capability === 'hostile.membomb')).toMatchObject({ principal: 'tenant-a', outcome: 'MEMORY_LIMIT' });
    expect(fresh.find((r) => r.event === 'load' && r.outcome === 'PROVIDER_DENIED')).toMatchObject({ severity: 'critical' });
    expect(fresh.find((r) => r.event === 'runtime.open')).toMatchObject({ severity: 'info', principal: 'tenant-a' });
  });

  it("records as much of a call's input and output as its level's audit depth says", () => {
    const ends = query('--kind', 'run.end');
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    // sandboxed: comprehensive (sizes and SHA-256 of exactly what went in and came out)
    expect(ends.find((r) => r.capability === 'hostile.disk')).toMatchObject({
      inputBytes: '"wfill.bin"'.length,
      inputSha256: sha('"wfill.bin"'),
      outputBytes: '[8192,23]'.length,
      outputSha256: sha('[8192,23]'),
    });
    // pure: minimal
    const counter = ends.find((r) => r.capability === 'plain.counter');
    expect(counter).toBeDefined();
    expect(counter?.inputBytes).toBeUndefined();
    expect(counter?.inputSha256).toBeUndefined();
  });

  it('old lines (no severity) keep verifying, and a query works their severity out', () => {
    const v = cli(['audit', 'verify', log]);
    expect(v.stdout).toContain('hash chain intact');
    expect(v.status).toBe(0);
    const old = query('--until', '2021-01-01T00:00:00Z');
    expect(old.map((r) => [r.event, r.severity])).toEqual([
      ['runtime.open', 'info'],
      ['load', 'critical'],
      ['runtime.close', 'info'],
    ]);
    expect(old.every((r) => r.principal === undefined)).toBe(true);
  });
});

describe('principal', () => {
  it('must be 1 to 256 printable characters, for the runtime and for a call (USAGE)', async () => {
    for (const principal of ['', 'x'.repeat(257), 'alice\nseverity=info', 7]) {
      const e = await failure(createRuntime({ capabilitiesDir: root, policy: { grants: [] }, auditLog: false, principal: principal as string }));
      expect(e.code).toBe('USAGE');
      expect(e.message).toContain('principal');
    }
    const rt = await createRuntime({ capabilitiesDir: path.join(root, 'caps'), policy: { grants: [{ capabilities: 'plain.*' }] }, auditLog: false });
    try {
      const e = await failure(rt.run('plain.counter', {}, { principal: 'bob\u0000' }));
      expect(e.code).toBe('USAGE');
      expect(e.message).toContain('option principal must be');
    } finally {
      await rt.close();
    }
  });
});

describe('capsule audit query', () => {
  it('filters by principal', () => {
    const alice = query('--principal', 'alice');
    expect(alice.length).toBeGreaterThan(0);
    expect(alice.every((r) => r.principal === 'alice')).toBe(true);
    expect(new Set(alice.map((r) => r.capability))).toEqual(new Set(['hostile.disk', 'hostile.spin']));
  });

  it('filters by severity (that level and above)', () => {
    const critical = query('--severity', 'critical');
    expect(critical.map((r) => [r.capability, r.outcome])).toEqual([
      ['old.cap', 'SIGNATURE_INVALID'],
      ['hostile.evil', 'PROVIDER_DENIED'],
      ['hostile.unsigned', 'SIGNATURE_INVALID'],
    ]);
    const warning = query('--severity', 'warning');
    expect(warning.some((r) => r.severity === 'info')).toBe(false);
    expect(warning.length).toBeGreaterThan(critical.length);
  });

  it('filters by kind and capability (with *)', () => {
    const limits = query('--kind', 'limit');
    expect(limits.map((r) => [r.capability, r.code])).toEqual([
      ['hostile.spin', 'TIMEOUT'],
      ['hostile.membomb', 'MEMORY_LIMIT'],
    ]);
    const fsDenials = query('--kind', 'denial', '--capability', 'hostile.f*');
    expect(fsDenials.length).toBeGreaterThanOrEqual(2);
    expect(fsDenials.every((r) => r.capability === 'hostile.fs' && r.kind === 'fs')).toBe(true);
  });

  it('filters by time', () => {
    expect(query('--since', '1h').every((r) => r.seq > 3)).toBe(true);
    expect(query('--since', '2999-01-01T00:00:00Z')).toEqual([]);
  });

  it('refuses a bad filter and a broken log with a clear error', () => {
    const bad = cli(['audit', 'query', log, '--severity', 'loud']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--severity must be one of info, warning, critical');
    const since = cli(['audit', 'query', log, '--since', 'yesterday']);
    expect(since.stderr).toContain('--since must be');
    const broken = path.join(root, 'broken.jsonl');
    const { line } = sealLine(EMPTY_CHAIN, new Date(), { event: 'runtime.open' });
    writeFileSync(broken, `${line.replace('runtime.open', 'runtime.opex')}\n`);
    const r = cli(['audit', 'query', broken]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('AUDIT_INVALID');
    expect(r.stderr).toContain('line 1');
  });
});

describe('capsule audit report', () => {
  it('sums up calls, denials, limits hit, escalations, fallbacks and provenance refusals', () => {
    const r = cli(['audit', 'report', log, '--since', '1h', '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    // Calls that reached dispatch: fs, disk, spin, membomb, counter, esc (the refused loads never ran).
    expect(s.calls).toMatchObject({ total: 6, ok: 4, failed: 2 });
    expect(s.calls.byOutcome).toEqual({ ok: 4, TIMEOUT: 1, MEMORY_LIMIT: 1 });
    expect(s.limits.byCode).toMatchObject({ TIMEOUT: 1, MEMORY_LIMIT: 1, 'limits.writeBytes': 1 });
    expect(s.denials.byKind.fs).toBeGreaterThanOrEqual(3);
    expect(s.refusals).toEqual({ signature: 1, digest: 0, provider: 1 });
    expect(s.escalations).toEqual({ total: 1, unavailable: 0 });
    expect(s.fallbacks).toBe(1);
    expect(s.byPrincipal).toEqual({ alice: 2, bob: 1, 'tenant-a': 3 });

    const text = cli(['audit', 'report', log, '--since', '1h']);
    expect(text.status).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^audit report: .*audit\.jsonl \(since \d{4}-/);
    expect(lines[2]).toBe('calls: 6 (ok 4, failed 2) (worker 6)');
    expect(text.stdout).toContain('calls: 6 (ok 4, failed 2)');
    expect(text.stdout).toContain('fallbacks to a weaker tier: 1');
    expect(text.stdout).toContain('signature refusals: 1');
    expect(text.stdout).toContain('provider refusals: 1');
    expect(text.stdout).toMatch(/limits hit: 3 \(/);
  });
});
