// Per-call grants (README: Per-call grants): one runtime, one pool; each call is
// given its own directory, held to the policy's perCall ceiling.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutput, createRuntime, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

let tmp: string;
let ws: string;
let outside: string;
let rt: Runtime;

/** `op path` → `ok VALUE` / `err ERRNO`, from attack-fs's output lines. */
function seen(out: CommandOutput): Record<string, string> {
  const m: Record<string, string> = {};
  for (const line of out.stdout.split('\n').filter(Boolean)) {
    const [op, target, ...rest] = line.split(' ');
    m[`${op} ${target}`] = rest.join(' ');
  }
  return m;
}

beforeAll(async () => {
  tmp = tempDir('capsule-percall-');
  ws = path.join(tmp, 'workspaces');
  outside = path.join(tmp, 'outside');
  for (const u of ['u1', 'u2']) {
    mkdirSync(path.join(ws, u), { recursive: true });
    writeFileSync(path.join(ws, u, `${u}.txt`), `${u} data`);
  }
  mkdirSync(outside);
  const caps = tempDir('capsule-percall-caps-');
  const probe = (id: string, permissions: Record<string, unknown>) =>
    writeCapability(caps, id, manifest(id, { world: 'command', securityLevel: 'sandboxed', permissions }), fixture('attack-fs'));
  probe('ws.symbolic', { fs: { read: ['$workspace'] } });
  probe('ws.broad', { fs: { read: [ws] } });
  rt = await createRuntime({
    capabilitiesDir: caps,
    policy: { grants: [{ capabilities: 'ws.*' }], perCall: { fs: { read: [`${ws}/**`] } } },
    pool: { minThreads: 2, maxThreads: 2 },
  });
});
afterAll(() => rt.close());

const probeArgs = (own: string, other: string) => [
  'ls',
  path.join(ws, own),
  'read',
  path.join(ws, own, `${own}.txt`),
  'read',
  path.join(ws, other, `${other}.txt`),
  'ls',
  path.join(ws, other),
];

describe('per-call fs grants', () => {
  it('two concurrent calls of one capability each see only their own directory', async () => {
    const [a, b] = await Promise.all([
      rt.run<CommandOutput>('ws.symbolic', { args: probeArgs('u1', 'u2') }, { grants: { dirs: { workspace: path.join(ws, 'u1') } } }),
      rt.run<CommandOutput>('ws.symbolic', { args: probeArgs('u2', 'u1') }, { grants: { dirs: { workspace: path.join(ws, 'u2') } } }),
    ]);
    const sa = seen(a.output);
    const sb = seen(b.output);
    expect(sa[`ls ${ws}/u1`]).toBe('ok u1.txt');
    expect(sa[`read ${ws}/u1/u1.txt`]).toBe('ok u1 data');
    expect(sa[`read ${ws}/u2/u2.txt`]).toMatch(/^err /);
    expect(sa[`ls ${ws}/u2`]).toMatch(/^err /);
    expect(sb[`ls ${ws}/u2`]).toBe('ok u2.txt');
    expect(sb[`read ${ws}/u2/u2.txt`]).toBe('ok u2 data');
    expect(sb[`read ${ws}/u1/u1.txt`]).toMatch(/^err /);
    expect(sb[`ls ${ws}/u1`]).toMatch(/^err /);
  });

  it('a per-call grant inside a broader request narrows it to the grant', async () => {
    const r = await rt.run<CommandOutput>('ws.broad', { args: probeArgs('u1', 'u2') }, { grants: { fs: { read: [path.join(ws, 'u1')] } } });
    const s = seen(r.output);
    expect(s[`read ${ws}/u1/u1.txt`]).toBe('ok u1 data');
    expect(s[`read ${ws}/u2/u2.txt`]).toMatch(/^err /);
  });

  it('a per-call grant outside the ceiling is PERMISSION_DENIED naming it', async () => {
    const e = await failure(rt.run('ws.broad', { args: [] }, { grants: { fs: { read: [outside, path.join(ws, 'u1')] }, env: ['SECRET=x'] } }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toContain(`fs.read ${outside}`);
    expect(e.message).toContain('env SECRET');
    expect(e.message).not.toContain(`fs.read ${ws}/u1`);
    const filled = await failure(rt.run('ws.symbolic', { args: [] }, { grants: { dirs: { workspace: outside } } }));
    expect(filled.code).toBe('PERMISSION_DENIED');
    expect(filled.message).toContain(`fs.read ${outside}`);
  });

  it('a symbolic path no call fills in is refused; a malformed grants option is USAGE', async () => {
    const e = await failure(rt.run('ws.symbolic', { args: [] }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toContain('fs.read $workspace');
    const u = await failure(rt.run('ws.symbolic', { args: [] }, { grants: { fs: { read: 'nope' } } as never }));
    expect(u.code).toBe('USAGE');
  });

  it('without a perCall ceiling, a per-call grant is refused', async () => {
    const caps = tempDir('capsule-percall-none-');
    writeCapability(
      caps,
      'ws.broad',
      manifest('ws.broad', { world: 'command', securityLevel: 'sandboxed', permissions: { fs: { read: [ws] } } }),
      fixture('attack-fs'),
    );
    const plain = await createRuntime({ capabilitiesDir: caps, policy: { grants: [{ capabilities: 'ws.*' }], onUngranted: 'drop' } });
    try {
      const e = await failure(plain.run('ws.broad', { args: [] }, { grants: { fs: { read: [path.join(ws, 'u1')] } } }));
      expect(e.code).toBe('PERMISSION_DENIED');
      expect(e.message).toContain('perCall');
    } finally {
      await plain.close();
    }
  });
});
