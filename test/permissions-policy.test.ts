// Policy side of permissions: request ∩ policy, refusal or drop of what is not
// covered, security-level ceilings, sensitive paths, relative policy paths and
// the CLI's --allow-* flags.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutput, createRuntime, type PolicyDocument } from '../dist/index.js';
import { cli, fixture, manifest, STACK_TRACE, tempDir, writeCapability, failure } from './helpers.js';

let tmp: string;
let caps: string;
let data: string;

async function runtimeWith(policy: PolicyDocument | string) {
  return createRuntime({ capabilitiesDir: caps, policy, pool: { minThreads: 0, maxThreads: 1 } });
}

beforeAll(() => {
  tmp = tempDir('attack-policy-');
  data = path.join(tmp, 'data');
  mkdirSync(path.join(data, 'inner'), { recursive: true });
  writeFileSync(path.join(data, 'a.txt'), 'A');
  writeFileSync(path.join(data, 'inner', 'b.txt'), 'B');
  caps = tempDir('attack-policy-caps-');
  const cmd = (id: string, level: string, permissions: Record<string, unknown>) =>
    writeCapability(caps, id, manifest(id, { world: 'command', securityLevel: level, permissions }), fixture('attack-fs'));
  cmd('attack.reader', 'controlled', { fs: { read: [`${data}/**`] }, env: ['ATTACK_LANG'] });
  cmd('attack.narrow', 'controlled', { fs: { read: [path.join(data, 'inner')] } });
  cmd('attack.root', 'controlled', { fs: { read: ['/'] } });
  cmd('attack.shadow', 'controlled', { fs: { read: ['/etc/shadow'] } });
  cmd('attack.hosts', 'sandboxed', {
    net: { outbound: ['api.example.org', '*.sub.example.org', 'example.org', 'http://127.0.0.1:8080', 'http://127.0.0.1:9090', 'https://evil.com'] },
  });
  cmd('attack.pure-fs', 'pure', { fs: { read: [data] } });
  cmd('attack.ctl-write', 'controlled', { fs: { write: [data] } });
  cmd('attack.ctl-net', 'controlled', { net: { outbound: ['api.example.com'] } });
});

describe('request ∩ policy', () => {
  it('a request the policy does not cover is refused at load, naming it', async () => {
    const rt = await runtimeWith({ grants: [{ capabilities: 'attack.*', fs: { read: [path.join(tmp, 'elsewhere')] } }] });
    try {
      const e = await failure(rt.run('attack.reader', { args: ['read', `${data}/a.txt`] }));
      expect(e.code).toBe('PERMISSION_DENIED');
      expect(e.message).toContain(`fs.read ${data}`);
      expect(e.message).toContain('env ATTACK_LANG');
    } finally {
      await rt.close();
    }
  });

  it('with "onUngranted": "drop" the request is dropped, the capability runs without it, inspect reports it', async () => {
    const rt = await runtimeWith({ onUngranted: 'drop', grants: [{ capabilities: 'attack.*', env: ['ATTACK_LANG=fr'] }] });
    try {
      const { output } = await rt.run<CommandOutput>('attack.reader', { args: ['preopens', 'env', 'ATTACK_LANG'] });
      expect(output.stdout).toBe('preopens - ok \nenv ATTACK_LANG ok fr\n');
    } finally {
      await rt.close();
    }
    const r = cli(
      [
        'inspect',
        'attack.reader',
        '--capabilities',
        caps,
        '--json',
        '--policy',
        writePolicy({
          onUngranted: 'drop',
          grants: [{ capabilities: 'attack.*', env: ['ATTACK_LANG'] }],
        }),
      ],
      { env: { ATTACK_LANG: 'de' } },
    );
    const report = JSON.parse(r.stdout);
    expect(report.notGranted).toEqual([`fs.read ${data}`]);
    expect(report.granted.env).toEqual(['ATTACK_LANG']);
  });

  it('net patterns: *.domain covers subdomains (not the domain), scheme and port must match', () => {
    const policy = writePolicy({
      onUngranted: 'drop',
      grants: [{ capabilities: 'attack.*', net: { outbound: ['*.example.org', 'http://127.0.0.1:8080'] } }],
    });
    const r = cli(['inspect', 'attack.hosts', '--capabilities', caps, '--json', '--policy', policy]);
    const report = JSON.parse(r.stdout);
    expect(report.granted.net).toEqual(['api.example.org', '*.sub.example.org', 'http://127.0.0.1:8080']);
    expect(report.notGranted).toEqual(['net example.org', 'net http://127.0.0.1:9090', 'net https://evil.com']);
  });

  it('a policy grant narrower than the request narrows it', async () => {
    const rt = await runtimeWith({ grants: [{ capabilities: 'attack.*', fs: { read: [path.join(data, 'inner')] } }] });
    try {
      // attack.reader asks for all of data/; the policy gives data/inner only.
      const e = await failure(rt.run('attack.reader', {}));
      expect(e.message).toContain('env ATTACK_LANG'); // env still uncovered
      const { output } = await rt.run<CommandOutput>('attack.narrow', {
        args: ['read', `${data}/inner/b.txt`, 'read', `${data}/a.txt`],
      });
      expect(output.stdout).toContain(`read ${data}/inner/b.txt ok B`);
      expect(output.stdout).toMatch(new RegExp(`read ${data}/a.txt err `));
    } finally {
      await rt.close();
    }
  });
});

describe('security levels', () => {
  it('pure may not ask for fs; controlled may not ask for fs.write or net', async () => {
    const rt = await runtimeWith({ grants: [{ capabilities: 'attack.*', fs: { read: [data], write: [data] }, net: { outbound: ['api.example.com'] } }] });
    try {
      for (const [id, field] of [
        ['attack.pure-fs', 'fs.read'],
        ['attack.ctl-write', 'fs.write'],
        ['attack.ctl-net', 'net.outbound'],
      ]) {
        const e = await failure(rt.run(id as string, {}));
        expect(e.code).toBe('MANIFEST_INVALID');
        expect(e.message).toContain(field);
      }
    } finally {
      await rt.close();
    }
  });
});

function writePolicy(doc: PolicyDocument, dir = tempDir('attack-policy-file-')): string {
  const file = path.join(dir, 'capsule.policy.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('sensitive paths can never be granted', () => {
  const cases: [string, boolean][] = [
    ['/etc/shadow', false],
    ['/etc/ssh', false],
    ['/proc', false],
    ['/proc/self', false],
    ['/sys', false],
    ['/dev', false],
    ['/var/run/docker.sock', false],
    ['/run/containerd', false],
    ['/', true],
    ['/usr', true],
    ['/etc', true],
    ['/var', true],
  ];
  for (const [p, write] of cases) {
    it(`granting ${p}${write ? ' writable' : ''} is POLICY_INVALID naming it`, async () => {
      const e = await failure(runtimeWith({ grants: [{ capabilities: '*', fs: write ? { write: [p] } : { read: [p] } }] }));
      expect(e.code).toBe('POLICY_INVALID');
      expect(e.message).toContain(p);
    });
  }

  it('capsule’s own policy file, audit file and cache dir cannot be granted', async () => {
    const dir = tempDir('attack-own-');
    const policyFile = path.join(dir, 'capsule.policy.json');
    writeFileSync(policyFile, JSON.stringify({ grants: [{ capabilities: '*', fs: { read: ['./capsule.policy.json'] } }] }));
    const e1 = await failure(runtimeWith(policyFile));
    expect(e1.code).toBe('POLICY_INVALID');
    expect(e1.message).toContain(policyFile);
    const audit = path.join(dir, 'audit.jsonl');
    const e2 = await failure(createRuntime({ capabilitiesDir: caps, auditLog: audit, policy: { grants: [{ capabilities: '*', fs: { write: [audit] } }] } }));
    expect(e2.message).toContain(audit);
    const cache = path.join(dir, 'cache');
    const e3 = await failure(
      createRuntime({ capabilitiesDir: caps, cacheDir: cache, policy: { grants: [{ capabilities: '*', fs: { read: [path.join(cache, 'x')] } }] } }),
    );
    expect(e3.message).toContain(cache);
  });

  it('a manifest asking for a sensitive path under a broader grant is refused, naming it', async () => {
    const rt = await runtimeWith({ grants: [{ capabilities: 'attack.*', fs: { read: ['/'] } }] });
    try {
      const e = await failure(rt.run('attack.shadow', {}));
      expect(e.code).toBe('PERMISSION_DENIED');
      expect(e.message).toContain('/etc/shadow');
    } finally {
      await rt.close();
    }
  });

  it('a readable grant that contains sensitive paths keeps them blocked, and the policy file too', async () => {
    const dir = tempDir('attack-own-');
    writeFileSync(path.join(dir, 'note.txt'), 'note');
    const policyFile = writePolicy({ grants: [{ capabilities: 'attack.*', fs: { read: ['/'] } }] }, dir);
    const rt = await runtimeWith(policyFile);
    try {
      const { output, denials } = await rt.run<CommandOutput>('attack.root', {
        args: ['read', '/etc/shadow', 'read', '/proc/self/environ', 'read', policyFile, 'read', `${dir}/note.txt`, 'ls', '/dev'],
      });
      expect(output.stdout).toContain('read /etc/shadow err EACCES');
      expect(output.stdout).toContain('read /proc/self/environ err EACCES');
      expect(output.stdout).toContain(`read ${policyFile} err EACCES`);
      expect(output.stdout).toContain('ls /dev err EACCES');
      expect(output.stdout).toContain(`read ${dir}/note.txt ok note`);
      expect(denials.length).toBe(4);
    } finally {
      await rt.close();
    }
  });
});

describe('CLI --allow-* flags and policy files', () => {
  it('--allow-read / --allow-write / --allow-env request and grant for a bare .wasm', () => {
    const dir = tempDir('attack-cli-');
    writeFileSync(path.join(dir, 'in.txt'), 'from host');
    const r = cli(
      [
        'run',
        fixture('attack-fs'),
        `--allow-read=${dir}`,
        `--allow-write=${path.join(dir, 'out')}`,
        '--allow-env=ATTACK_CLI',
        '--',
        'read',
        `${dir}/in.txt`,
        'mkdir',
        `${dir}/out`,
        'write',
        `${dir}/x`,
        'no',
        'env',
        'ATTACK_CLI',
        'env',
        'ATTACK_CLI_HIDDEN',
      ],
      { env: { ATTACK_CLI: 'yes', ATTACK_CLI_HIDDEN: 'no' } },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`read ${dir}/in.txt ok from host`);
    expect(r.stdout).toContain(`write ${dir}/x err EPERM`);
    expect(r.stdout).toContain('env ATTACK_CLI ok yes');
    expect(r.stdout).toContain('env ATTACK_CLI_HIDDEN err ENOENT');
    expect(r.stderr).toContain(`capsule: PERMISSION_DENIED: fs ${dir}/x: not granted for writing`);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('without flags a bare .wasm sees nothing', () => {
    const r = cli(['run', fixture('attack-fs'), '--', 'preopens', 'read', '/etc/passwd']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('preopens - ok \n');
    expect(r.stdout).toMatch(/read \/etc\/passwd err /);
  });

  it('relative paths in a policy file resolve against its directory', () => {
    const dir = tempDir('attack-rel-');
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'f.txt'), 'relative');
    const policy = writePolicy({ grants: [{ capabilities: 'file.*', fs: { read: ['./data/**'] } }] }, dir);
    const r = cli(['run', fixture('attack-fs'), '--policy', policy, `--allow-read=${path.join(dir, 'data')}`, '--', 'read', `${dir}/data/f.txt`], { cwd: tmp });
    expect(r.stdout).toContain(`read ${dir}/data/f.txt ok relative`);
  });

  it('the --policy file stays unreadable under an --allow-read of its directory, and cannot be granted itself', () => {
    const dir = tempDir('attack-pf-');
    const policy = writePolicy({ grants: [] }, dir);
    const r = cli(['run', fixture('attack-fs'), '--policy', policy, `--allow-read=${dir}`, '--', 'read', policy]);
    expect(r.stdout).toBe(`read ${policy} err EACCES\n`);
    const g = cli(['run', fixture('attack-fs'), '--policy', policy, `--allow-read=${policy}`]);
    expect(g.status).not.toBe(0);
    expect(g.stderr).toMatch(/^capsule: POLICY_INVALID: extra grants \(--allow-\* flags\): grants .*capsule\.policy\.json/);
  });

  it('a policy granting a sensitive path exits non-zero with POLICY_INVALID naming it', () => {
    const r = cli(['run', fixture('attack-fs'), '--allow-read=/etc/ssh']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^capsule: POLICY_INVALID: .*\/etc\/ssh/);
  });
});

afterAll(() => undefined);
