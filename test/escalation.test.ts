// Fail closed: a capability that must run in a VM never runs in a weaker tier. With
// no VM runner here it is ESCALATION_UNAVAILABLE with the reason, and the guest never
// runs; only an explicit policy fallback moves it, and that is reported.
import { readFileSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, createRuntime, type GuestLog, type PolicyDocument, type Runtime } from '../dist/index.js';
import { cli, fixture, manifest, tempDir, writeCapability } from './helpers.js';

let dir: string;
const LOG_GRANT = { capabilities: 'esc.*', host: ['capsule:host/log'] };
const logged = { permissions: { host: ['capsule:host/log'] } };
// Where Apple Container cannot run, the reason names this machine (e.g. "this is Linux x86_64").
const here = `${{ linux: 'Linux', darwin: 'macOS' }[platform() as string] ?? platform()} ${arch() === 'x64' ? 'x86_64' : arch()}`;
const appleUsable = platform() === 'darwin' && arch() === 'arm64';

beforeAll(() => {
  dir = tempDir('capsule-esc-');
  const cap = (id: string, extra: Record<string, unknown>) => writeCapability(dir, id, manifest(id, { ...logged, ...extra }), fixture('log'));
  cap('esc.full', { securityLevel: 'full' });
  cap('esc.vm', { isolation: 'vm' });
  cap('esc.escalated', {});
  cap('esc.plain', {});
  writeCapability(
    dir,
    'esc.tool',
    manifest('esc.tool', { component: undefined, runtime: 'container', world: 'command', container: { image: 'alpine:3', command: ['wc', '-w'] } }),
  );
});

async function withRuntime<T>(policy: PolicyDocument, body: (rt: Runtime, logs: GuestLog[]) => Promise<T>, vm: object = {}): Promise<T> {
  const logs: GuestLog[] = [];
  const rt = await createRuntime({ capabilitiesDir: dir, policy, logger: (r) => logs.push(r), vm });
  try {
    return await body(rt, logs);
  } finally {
    await rt.close();
  }
}

async function failure(p: Promise<unknown>): Promise<CapsuleError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CapsuleError);
  return e as CapsuleError;
}

describe.skipIf(appleUsable)('no VM runner here: ESCALATION_UNAVAILABLE, and the guest never runs', () => {
  const policy: PolicyDocument = { grants: [LOG_GRANT], escalate: ['esc.escalated'] };
  const cases: [string, RegExp][] = [
    ['esc.full', /securityLevel full always runs in a VM/],
    ['esc.vm', /the manifest asks for isolation vm/],
    ['esc.escalated', /the policy escalates it/],
  ];
  for (const [id, why] of cases) {
    it(`${id}: the reason names what is missing; the logger gets nothing`, async () => {
      await withRuntime(policy, async (rt, logs) => {
        const e = await failure(rt.run(id, {}));
        expect(e.code).toBe('ESCALATION_UNAVAILABLE');
        expect(e.message).toMatch(why);
        expect(e.message).toContain(`Apple Container needs macOS 26 on Apple silicon; this is ${here}`);
        expect(e.message).toMatch(/it was not run/);
        expect(e.details).toMatchObject({ required: 'vm' });
        // The same guest logs "hello from guest" whenever it runs (esc.plain below proves it).
        expect(logs).toEqual([]);
      });
    });
  }

  it('the same guest does log when it may run, so an empty log above means it never ran', async () => {
    await withRuntime(policy, async (rt, logs) => {
      await rt.run('esc.plain', {});
      expect(logs.map((l) => l.message)).toEqual(['hello from guest']);
    });
  });

  it('asking for a weaker tier does not help', async () => {
    const p = { ...policy, grants: [{ ...LOG_GRANT, tier: 'inline' as const }] };
    await withRuntime(p, async (rt, logs) => {
      for (const tier of ['inline', 'worker', 'process'] as const) {
        expect((await failure(rt.run('esc.full', {}, { tier }))).code).toBe('PERMISSION_DENIED');
      }
      expect(logs).toEqual([]);
    });
  });

  it('vm.runner off says so', async () => {
    await withRuntime(
      policy,
      async (rt) => {
        const e = await failure(rt.run('esc.full', {}));
        expect(e.code).toBe('ESCALATION_UNAVAILABLE');
        expect(e.message).toMatch(/the VM tier is off \(vm.runner: off\)/);
      },
      { runner: 'off' },
    );
  });

  it('a container capability has nowhere else to run, even with a policy fallback', async () => {
    await withRuntime({ fallback: 'process' }, async (rt) => {
      const e = await failure(rt.run('esc.tool', { stdin: 'a b' }));
      expect(e.code).toBe('ESCALATION_UNAVAILABLE');
      expect(e.message).toMatch(/a container capability always runs in a VM/);
      expect(e.message).toMatch(/a policy fallback cannot run a container capability/);
    });
  });
});

describe.skipIf(appleUsable)('an explicit policy fallback runs it there, and says so', () => {
  for (const fallback of ['process', 'worker'] as const) {
    it(`fallback ${fallback}`, async () => {
      await withRuntime({ grants: [LOG_GRANT], fallback }, async (rt, logs) => {
        const { output, stats } = await rt.run('esc.full', {});
        expect(output).toEqual({ logged: true });
        expect(stats.tier).toBe(fallback);
        expect(stats.tierDecision).toMatchObject({ tier: fallback, required: 'vm', fallbackFrom: 'vm' });
        expect(stats.tierDecision.reason).toMatch(new RegExp(`policy fallback ${fallback}`));
        expect(stats.tierDecision.warning).toContain(`Apple Container needs macOS 26 on Apple silicon; this is ${here}`);
        const warnings = logs.filter((l) => l.source === 'runtime');
        expect(warnings).toEqual([{ level: 'warn', capability: 'esc.full', source: 'runtime', message: stats.tierDecision.warning }]);
        expect(logs.filter((l) => l.source === 'log').map((l) => l.message)).toEqual(['hello from guest']);
      });
    });
  }
});

describe.skipIf(appleUsable)('the audit log records escalation decisions', () => {
  it('a refused escalation and a fallback to process are each an escalation line', async () => {
    const log = `${tempDir('capsule-esc-audit-')}/audit.jsonl`;
    const run = async (policy: PolicyDocument) => {
      const rt = await createRuntime({ capabilitiesDir: dir, policy, auditLog: log });
      try {
        return await rt.run('esc.full', {}).catch((e: unknown) => e);
      } finally {
        await rt.close();
      }
    };
    expect((await run({ grants: [LOG_GRANT] })) as CapsuleError).toMatchObject({ code: 'ESCALATION_UNAVAILABLE' });
    expect(await run({ grants: [LOG_GRANT], fallback: 'process' })).toMatchObject({ output: { logged: true } });
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const escalations = lines.filter((l) => l.event === 'escalation');
    expect(escalations).toHaveLength(2);
    expect(escalations[0]).toMatchObject({ capability: 'esc.full', tier: 'vm', outcome: 'ESCALATION_UNAVAILABLE' });
    expect(escalations[1]).toMatchObject({ capability: 'esc.full', tier: 'vm', outcome: 'ok', fallbackFrom: 'vm', ranIn: 'process' });
    expect(String(escalations[1].warning)).toContain('Apple Container needs macOS 26');
    // The refused call never started; the fallback call ran in the process tier.
    const runs = lines.filter((l) => l.event === 'run.start');
    expect(runs.map((l) => l.tier)).toEqual(['process']);
    expect(cli(['audit', 'verify', log]).status).toBe(0);
  });
});

describe('capsule inspect shows the tier decision and its reason', () => {
  it.skipIf(appleUsable)('refused, with the reason', () => {
    const r = cli(['inspect', 'esc.full', '--capabilities', dir, '--allow-host', 'capsule:host/log']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/tier\s+vm \(securityLevel full always runs in a VM\)/);
    expect(r.stdout).toMatch(/would be refused: ESCALATION_UNAVAILABLE: .*this is /);
  });

  it.skipIf(appleUsable)('with a fallback: the fallback tier, and the warning', () => {
    const policyDir = tempDir('capsule-esc-policy-');
    const file = `${policyDir}/policy.json`;
    writeFileSync(file, JSON.stringify({ grants: [LOG_GRANT], fallback: 'process' }));
    const r = cli(['inspect', 'esc.full', '--capabilities', dir, '--policy', file, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.tier).toMatchObject({ tier: 'process', fallbackFrom: 'vm', required: 'vm' });
    expect(report.tier.warning).toMatch(/policy names fallback process/);
    expect(report.refusal).toBeUndefined();
  });

  it('a container capability: image, command and tier vm', () => {
    const r = cli(['inspect', 'esc.tool', '--capabilities', dir]);
    expect(r.stdout).toMatch(/container\s+alpine:3 wc -w/);
    expect(r.stdout).toMatch(/tier\s+vm \(a container capability always runs in a VM/);
  });
});

describe('container manifests are schema-checked', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ runtime: 'container', world: 'command' }, /missing field \/container/],
    [{ runtime: 'container', world: 'capability', container: { image: 'alpine', command: ['true'] } }, /\/world must be "command" for runtime container/],
    [{ container: { image: 'alpine', command: ['true'] }, component: 'component.wasm' }, /\/container is only for runtime "container"/],
    [{ runtime: 'container', world: 'command', container: { image: 'alpine', shell: true } }, /unknown field \/container\/shell/],
    [{ runtime: 'wasm', component: undefined }, /missing field \/component/],
  ];
  bad.forEach(([extra, message], i) => {
    it(`case ${i + 1}: ${message.source}`, async () => {
      const d = tempDir('capsule-esc-bad-');
      writeCapability(d, 'esc.bad', manifest('esc.bad', { component: undefined, ...extra }));
      const rt = await createRuntime({ capabilitiesDir: d });
      try {
        const e = await failure(rt.run('esc.bad', {}));
        expect(e.code).toBe('MANIFEST_INVALID');
        expect(e.message).toMatch(message);
      } finally {
        await rt.close();
      }
    });
  });
});
