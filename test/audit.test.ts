// The audit log: one hash-chained JSON line per decision and outcome, written
// before dispatch and in a finally; `capsule audit verify` names the first broken line.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CapsuleError, createRuntime, type PolicyDocument } from '../dist/index.js';
import { cli, fixture, manifest, STACK_TRACE, tempDir, writeCapability, failure } from './helpers.js';

interface Line {
  seq: number;
  time: string;
  prev: string;
  hash: string;
  event: string;
  capability?: string;
  outcome?: string;
  run?: string;
  [k: string]: unknown;
}

let root: string;
let caps: string;
const policy: PolicyDocument = { grants: [{ capabilities: 'test.logged', host: ['capsule:host/log'] }] };

const rawLines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const lines = (file: string) => rawLines(file).map((l) => JSON.parse(l) as Line);

/** A log made by real runs: a success, a guest error, an import denial, a refused escalation. */
async function realLog(name: string): Promise<string> {
  const file = path.join(root, name);
  const rt = await createRuntime({ capabilitiesDir: caps, policy, auditLog: file, pool: { minThreads: 0, maxThreads: 1 } });
  try {
    await rt.run('test.counter', {});
    await rt.run('test.logged', {});
    expect((await failure(rt.run('test.fail', {}))).code).toBe('CAPABILITY_ERROR');
    expect((await failure(rt.run('test.log', {}))).code).toBe('IMPORT_DENIED');
    expect((await failure(rt.run('test.vm', {}))).code).toBe('ESCALATION_UNAVAILABLE');
    expect((await failure(rt.run('test.nope', {}))).code).toBe('CAPABILITY_NOT_FOUND');
  } finally {
    await rt.close();
  }
  return file;
}

beforeAll(() => {
  root = tempDir('capsule-audit-');
  caps = path.join(root, 'caps');
  writeCapability(caps, 'test.counter', manifest('test.counter'), fixture('counter'));
  writeCapability(caps, 'test.fail', manifest('test.fail'), fixture('fail'));
  writeCapability(caps, 'test.log', manifest('test.log'), fixture('log'));
  writeCapability(caps, 'test.logged', manifest('test.logged', { permissions: { host: ['capsule:host/log'] } }), fixture('log'));
  writeCapability(caps, 'test.vm', manifest('test.vm', { securityLevel: 'full' }), fixture('counter'));
  writeCapability(caps, 'test.spin', manifest('test.spin'), fixture('prov-spin'));
  writeCapability(caps, 'test.trap', manifest('test.trap'), fixture('prov-trap'));
});

describe('what is recorded', () => {
  it('every load, grant, link, denial, escalation and run start/end, chained line to line', async () => {
    const file = await realLog('real.jsonl');
    const log = lines(file);
    expect(log.map((l) => l.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log[0]).toMatchObject({ event: 'runtime.open', prev: '0'.repeat(64) });
    const raw = rawLines(file);
    for (let i = 1; i < log.length; i++) {
      expect(log[i]?.prev).toBe(
        createHash('sha256')
          .update(raw[i - 1] ?? '')
          .digest('hex'),
      );
    }
    for (const l of log) expect(Number.isNaN(Date.parse(l.time))).toBe(false);
    const of = (id: string) => log.filter((l) => l.capability === id).map((l) => `${l.event} ${l.outcome ?? ''}`.trim());
    expect(of('test.counter')).toEqual(['load ok', 'grant', 'link', 'run.start', 'run.end ok']);
    expect(of('test.fail')).toEqual(['load ok', 'grant', 'link', 'run.start', 'run.end CAPABILITY_ERROR']);
    expect(of('test.log')).toEqual(['load ok', 'denial IMPORT_DENIED']);
    expect(of('test.vm')).toEqual(['load ok', 'grant', 'link', 'escalation ESCALATION_UNAVAILABLE']);
    expect(of('test.nope')).toEqual(['load CAPABILITY_NOT_FOUND']);
    expect(log.at(-1)).toMatchObject({ event: 'runtime.close' });
    const grant = log.find((l) => l.capability === 'test.logged' && l.event === 'grant');
    expect(grant).toMatchObject({ grants: { host: ['capsule:host/log'] }, tier: 'worker' });
    const link = log.find((l) => l.capability === 'test.logged' && l.event === 'link');
    expect(link).toMatchObject({ imports: [{ name: 'capsule:host/log@0.1.0', link: 'granted' }] });
    const ends = log.filter((l) => l.event === 'run.end');
    for (const end of ends) {
      expect(log.some((l) => l.event === 'run.start' && l.run === end.run && l.seq < end.seq)).toBe(true);
      expect(end.durationMs).toBeGreaterThan(0);
      expect(end.tier).toBe('worker');
    }
  });

  it('a guest trap and a killed worker (TIMEOUT) each leave their start and end lines', async () => {
    const file = path.join(root, 'crash.jsonl');
    const rt = await createRuntime({ capabilitiesDir: caps, auditLog: file, pool: { minThreads: 0, maxThreads: 1 } });
    let trap: CapsuleError;
    let timeout: CapsuleError;
    try {
      trap = await failure(rt.run('test.trap', {}));
      timeout = await failure(rt.run('test.spin', {}, { timeoutMs: 200 }));
    } finally {
      await rt.close();
    }
    expect(timeout.code).toBe('TIMEOUT');
    const log = lines(file);
    const trapLines = log.filter((l) => l.capability === 'test.trap' && l.event.startsWith('run.'));
    expect(trapLines.map((l) => l.event)).toEqual(['run.start', 'run.end']);
    expect(trapLines[1]).toMatchObject({ outcome: trap.code, run: trapLines[0]?.run });
    expect(trap.code).not.toBe('INTERNAL');
    const spin = log.filter((l) => l.capability === 'test.spin' && ['run.start', 'limit', 'run.end'].includes(l.event));
    expect(spin.map((l) => `${l.event} ${l.outcome ?? l.code ?? ''}`.trim())).toEqual(['run.start', 'limit TIMEOUT', 'run.end TIMEOUT']);
    expect(cli(['audit', 'verify', file]).status).toBe(0);
  });

  it("a guest's refused file access is a denial line of its run", async () => {
    const file = path.join(root, 'guest-denial.jsonl');
    const data = tempDir('capsule-audit-data-');
    writeCapability(
      caps,
      'test.attack',
      manifest('test.attack', { world: 'command', securityLevel: 'controlled', permissions: { fs: { read: [data] } } }),
      fixture('attack-fs'),
    );
    const rt = await createRuntime({
      capabilitiesDir: caps,
      policy: { grants: [{ capabilities: 'test.attack', fs: { read: [data] } }] },
      auditLog: file,
      pool: { minThreads: 0, maxThreads: 1 },
    });
    try {
      await rt.run('test.attack', { args: ['read', `${data}/../../etc/passwd`] });
    } finally {
      await rt.close();
    }
    const log = lines(file).filter((l) => l.capability === 'test.attack');
    const denial = log.find((l) => l.event === 'denial' && l.kind === 'fs');
    expect(denial).toBeDefined();
    expect(String(denial?.target)).toContain('etc/passwd');
    const start = log.find((l) => l.event === 'run.start');
    expect(denial?.run).toBe(start?.run);
    expect(log.findIndex((l) => l.event === 'denial')).toBeLessThan(log.findIndex((l) => l.event === 'run.end'));
  });

  it('provenance refusals are recorded at load, and no run starts', async () => {
    const file = path.join(root, 'provenance.jsonl');
    const rt = await createRuntime({
      capabilitiesDir: caps,
      auditLog: file,
      policy: { requireSignature: ['pure'], deniedProviders: ['tests'] },
    });
    try {
      expect((await failure(rt.run('test.counter', {}))).code).toBe('PROVIDER_DENIED');
      expect((await failure(rt.runFile(fixture('counter'), {}))).code).toBe('SIGNATURE_INVALID');
    } finally {
      await rt.close();
    }
    const log = lines(file);
    expect(log.filter((l) => l.event === 'load').map((l) => l.outcome)).toEqual(['PROVIDER_DENIED', 'SIGNATURE_INVALID']);
    expect(log.some((l) => l.event === 'run.start')).toBe(false);
  });

  it('exposes the resolved audit path; auditLog false writes nothing', async () => {
    const rel = path.relative(process.cwd(), path.join(root, 'sub', 'rel.jsonl'));
    const rt = await createRuntime({ capabilitiesDir: caps, auditLog: rel });
    expect(rt.auditPath).toBe(path.join(root, 'sub', 'rel.jsonl'));
    await rt.close();
    const off = await createRuntime({ capabilitiesDir: caps, auditLog: false });
    expect(off.auditPath).toBeUndefined();
    await off.run('test.counter', {});
    await off.close();
  });
});

describe('continuing a log', () => {
  it('a second runtime on the same file, and two at once, continue one chain', async () => {
    const file = path.join(root, 'shared.jsonl');
    const a = await createRuntime({ capabilitiesDir: caps, auditLog: file });
    await a.run('test.counter', {});
    const b = await createRuntime({ capabilitiesDir: caps, auditLog: file });
    await Promise.all([a.run('test.counter', {}), b.run('test.counter', {})]);
    await Promise.all([a.close(), b.close()]);
    const c = await createRuntime({ capabilitiesDir: caps, auditLog: file });
    await c.close();
    const log = lines(file);
    expect(log.filter((l) => l.event === 'runtime.open')).toHaveLength(3);
    expect(log.map((l) => l.seq)).toEqual(log.map((_, i) => i + 1));
    const r = cli(['audit', 'verify', file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`OK: ${log.length} lines`);
  });

  it('refuses to append to a log whose last line does not check out', async () => {
    const file = await realLog('tail-edited.jsonl');
    const raw = rawLines(file);
    raw[raw.length - 1] = raw.at(-1)?.replace('"runtime.close"', '"runtime.closx"') ?? '';
    writeFileSync(file, `${raw.join('\n')}\n`);
    await expect(createRuntime({ capabilitiesDir: caps, auditLog: file })).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      message: expect.stringMatching(/last line is broken: content does not match its hash/),
    });
  });
});

describe('capsule audit verify', () => {
  let good: string;
  beforeAll(async () => {
    good = await realLog('good.jsonl');
  });
  const tampered = (name: string, edit: (lines: string[]) => string[], end = '\n') => {
    const file = path.join(root, name);
    copyFileSync(good, file);
    writeFileSync(file, edit(rawLines(file)).join('\n') + end);
    return file;
  };
  const broken = (file: string) => {
    const r = cli(['audit', 'verify', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(STACK_TRACE);
    return r.stderr;
  };

  it('passes on a real log', () => {
    const r = cli(['audit', 'verify', good]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${good}: OK: ${rawLines(good).length} lines, hash chain intact\n`);
  });

  it('names an edited line', () => {
    const file = tampered('edited.jsonl', (ls) => ls.map((l, i) => (i === 4 ? l.replace('test.counter', 'test.counteR') : l)));
    expect(broken(file)).toBe(`capsule: AUDIT_INVALID: ${file}: line 5: content does not match its hash (the line was edited)\n`);
  });

  it('names the line after an edited line whose own hash was recomputed', () => {
    const file = tampered('resealed.jsonl', (ls) =>
      ls.map((l, i) => {
        if (i !== 4) return l;
        const body = l.replace(/,"hash":"[0-9a-f]{64}"\}$/, '}').replace('test.counter', 'test.counteR');
        return `${body.slice(0, -1)},"hash":"${createHash('sha256').update(body).digest('hex')}"}`;
      }),
    );
    expect(broken(file)).toMatch(/: line 6: does not chain to line 5 \(prev hash differs\)\n$/);
  });

  it('names the place of a deleted line', () => {
    const file = tampered('deleted.jsonl', (ls) => ls.filter((_, i) => i !== 3));
    expect(broken(file)).toMatch(/: line 4: sequence number is 5 where 4 was expected/);
  });

  it('names the first of two reordered lines', () => {
    const file = tampered('reordered.jsonl', (ls) => {
      const out = [...ls];
      out.splice(6, 2, ls[7] ?? '', ls[6] ?? '');
      return out;
    });
    expect(broken(file)).toMatch(/: line 7: sequence number is 8 where 7 was expected/);
  });

  it('names a truncated last line', () => {
    const file = tampered('truncated.jsonl', (ls) => [...ls.slice(0, -1), ls.at(-1)!.slice(0, 40)], '');
    expect(broken(file)).toMatch(new RegExp(`: line ${rawLines(good).length}: not a complete audit line`));
  });

  it('tail pretty-prints the last lines', () => {
    const r = cli(['audit', 'tail', good, '-n', '3']);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(3);
    const n = rawLines(good).length;
    expect(out[2]).toMatch(new RegExp(`^ +${n}  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  runtime.close`));
    const json = cli(['audit', 'tail', good, '-n', '1', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(lines(good).at(-1));
  });
});

describe('capsule run --audit', () => {
  it('appends the run to the given file', () => {
    const file = path.join(root, 'cli.jsonl');
    const r = cli(['run', 'test.counter', '--capabilities', caps, '--audit', file]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(lines(file).map((l) => l.event)).toEqual(['runtime.open', 'load', 'grant', 'link', 'run.start', 'run.end', 'runtime.close']);
  });
});
