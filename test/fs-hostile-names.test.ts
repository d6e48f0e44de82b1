// Class 5 and 8 of issue 9: protections built from host paths must hold when a
// directory name carries glob syntax (`(`, `)`, `{`, `}`, `[`, `]`, `+(`, `@(`,
// `!`, `\`), and a broad grant must not expose credentials, shell start-up
// files, capsule's cache or the capabilities it loads. One policy grants the
// guest (attack-fs) read and write on a temp tree whose directories have such
// names; every protected path below it must stay out of reach. The chained
// attack: a writable grant around the transpile cache, and the guest rewrites
// the cached JS glue that the next run would execute on the host.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutput, createRuntime, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

/** Credentials in well-known places under $HOME (planted below, then attacked). */
const CREDENTIALS = [
  '.ssh/id_rsa',
  '.npmrc',
  '.git-credentials',
  '.netrc',
  '.config/gh/hosts.yml',
  '.pypirc',
  '.cargo/credentials.toml',
  '.config/gcloud/creds',
  '.azure/token',
];

/** Directory names that are glob syntax to picomatch (no spaces: attack-fs prints `OP PATH ok|err ...`). */
const NAMES = ['p(a)ren', 'close)', '{br}', '{a,b}', '[sq]', '+(plus)', '@(at)', '!bang', 'back\\slash', '*star?'];
const ALL = 'all(1)[2]{3}+(4)@(5)!6\\7';

let tmp: string;
let home: string;
let cache: string;
let caps: string;
let policyDir: string;
let policyFile: string;
let audit: string;
let rt: Runtime;
const savedHome = process.env.HOME;

function seen(out: CommandOutput): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.stdout.split('\n').filter(Boolean)) {
    const [op, target, ...rest] = line.split(' ');
    m.set(`${op} ${target}`, rest.join(' '));
  }
  return m;
}

/** Each protection is tried in the tier the grant gives (worker), and in the process tier with and without bubblewrap. */
const TIERS = [
  { name: 'the worker tier' },
  { name: 'the process tier (bubblewrap where it works)', tier: 'process' as const },
  { name: 'the process tier, Node permission flags only', tier: 'process' as const, bwrap: 'off' as const },
];
type Where = (typeof TIERS)[number];
let flagsOnly: Runtime;

async function attack(where: Where, args: string[]): Promise<Map<string, string>> {
  const r = await ('bwrap' in where ? flagsOnly : rt).run<CommandOutput>('hostile.fs', { args }, 'tier' in where ? { tier: where.tier } : {});
  expect(r.stats.tier).toBe(where.tier ?? 'worker');
  return seen(r.output);
}

function put(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

beforeAll(async () => {
  tmp = tempDir('hostile-names-');
  home = path.join(tmp, `home${ALL}`);
  // Its parent (tmp) is granted writable. No `\` here: Node refuses to import a module
  // from a path holding one (ERR_INVALID_MODULE_SPECIFIER), so no cache could live there.
  cache = path.join(tmp, `cache${ALL.replace('\\', '')}`);
  caps = path.join(tmp, `caps${ALL}`);
  policyDir = path.join(tmp, `policy${ALL}`);
  policyFile = path.join(policyDir, 'policy.json');
  // A single file was protected even by the old globs (picomatch matches a pattern equal to
  // the input string), but only that: this test keeps it so with the structural check.
  audit = path.join(tmp, `audit${ALL}`, 'audit.jsonl');
  for (const n of NAMES) {
    put(path.join(tmp, 'blk', n, 'secret.txt'), 'SECRET');
    put(path.join(tmp, 'open', n, 'ok.txt'), 'fine');
  }
  put(path.join(policyDir, 'rel', 'x.txt'), 'SECRET');
  put(path.join(policyDir, 'a.key'), 'SECRET');
  put(path.join(policyDir, 'plain.txt'), 'fine');
  put(path.join(policyDir, 'sub', 'b.txt'), 'fine');
  for (const f of CREDENTIALS) {
    put(path.join(home, f), 'SECRET');
  }
  for (const f of ['.bashrc', '.profile', '.zshrc', '.bash_profile', '.config/fish/config.fish']) put(path.join(home, f), 'ORIGINAL');
  writeCapability(
    caps,
    'hostile.fs',
    manifest('hostile.fs', { world: 'command', securityLevel: 'sandboxed', permissions: { fs: { read: [tmp], write: [tmp] } } }),
    fixture('attack-fs'),
  );
  put(
    policyFile,
    JSON.stringify({
      grants: [
        {
          capabilities: 'hostile.*',
          fs: { read: [tmp], write: [tmp], blocked: [...NAMES.map((n) => path.join(tmp, 'blk', n)), './rel/**', './*.key'] },
        },
      ],
    }),
  );
  // The credentials and start-up files are found below $HOME, as capsule sees it.
  process.env.HOME = home;
  rt = await createRuntime({ capabilitiesDir: caps, policy: policyFile, cacheDir: cache, auditLog: audit, pool: { minThreads: 1, maxThreads: 1 } });
  flagsOnly = await createRuntime({ capabilitiesDir: caps, policy: policyFile, cacheDir: cache, auditLog: audit, process: { bwrap: 'off' } });
});

afterAll(async () => {
  await rt?.close();
  await flagsOnly?.close();
  process.env.HOME = savedHome;
});

describe.each(TIERS)('in $name', (where) => {
  describe('protections hold under directory names with glob syntax (class 5)', () => {
    it('blocked entries naming such directories block them; their neighbours stay readable', async () => {
      const args = NAMES.flatMap((n) => ['read', path.join(tmp, 'blk', n, 'secret.txt'), 'read', path.join(tmp, 'open', n, 'ok.txt')]);
      const s = await attack(where, args);
      for (const n of NAMES) {
        expect(s.get(`read ${path.join(tmp, 'blk', n, 'secret.txt')}`), n).toBe('err EACCES');
        expect(s.get(`read ${path.join(tmp, 'open', n, 'ok.txt')}`), n).toBe('ok fine');
      }
    });

    it('relative blocked entries anchored at a policy directory with such a name hold, and the policy file is unreadable', async () => {
      const s = await attack(where, [
        'read',
        `${policyDir}/rel/x.txt`,
        'read',
        `${policyDir}/a.key`,
        'read',
        policyFile,
        'write',
        policyFile,
        '{}',
        'read',
        `${policyDir}/plain.txt`,
        'mv',
        `${policyDir}/sub`,
        `${policyDir}/sub2`,
        'mv',
        `${policyDir}/a.key`,
        `${policyDir}/a.txt`,
      ]);
      // A directory where the anchored glob may match below cannot be moved; nor can a blocked file.
      expect(s.get(`mv ${policyDir}/sub`)).toBe('err EACCES');
      expect(s.get(`mv ${policyDir}/a.key`)).toBe('err EACCES');
      expect(s.get(`read ${policyDir}/rel/x.txt`)).toBe('err EACCES');
      expect(s.get(`read ${policyDir}/a.key`)).toBe('err EACCES');
      expect(s.get(`read ${policyFile}`)).toBe('err EACCES');
      expect(s.get(`write ${policyFile}`)).toBe('err EACCES');
      expect(s.get(`read ${policyDir}/plain.txt`)).toBe('ok fine');
    });

    it('the audit log in such a directory cannot be read or written', async () => {
      expect(existsSync(audit)).toBe(true);
      const before = readFileSync(audit, 'utf8');
      const s = await attack(where, ['read', audit, 'write', audit, 'forged', 'ls', path.dirname(audit)]);
      expect(s.get(`read ${audit}`)).toBe('err EACCES');
      expect(s.get(`write ${audit}`)).toBe('err EACCES');
      expect(readFileSync(audit, 'utf8').startsWith(before)).toBe(true);
    });

    it('chained: with write granted on the cache directory’s parent, the guest cannot rewrite cached glue', async () => {
      await attack(where, ['ls', tmp]); // makes sure the component is transpiled into the cache
      const entries = readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
      expect(entries.length).toBeGreaterThan(0);
      const glue = path.join(cache, entries[0] as string);
      const original = readFileSync(glue, 'utf8');
      const s = await attack(where, [
        'write',
        glue,
        'PWNED',
        'append',
        glue,
        'PWNED',
        'read',
        glue,
        'rm',
        glue,
        'mv',
        glue,
        `${tmp}/stolen.js`,
        'ls',
        cache,
        'mkdir',
        `${cache}/x`,
        'mv',
        cache,
        `${tmp}/moved`,
      ]);
      expect(s.get(`write ${glue}`)).toBe('err EACCES');
      expect(s.get(`append ${glue}`)).toBe('err EACCES');
      expect(s.get(`read ${glue}`)).toBe('err EACCES');
      expect(s.get(`rm ${glue}`)).toBe('err EACCES');
      expect(s.get(`mv ${glue}`)).toBe('err EACCES');
      expect(s.get(`ls ${cache}`)).toBe('err EACCES');
      expect(s.get(`mkdir ${cache}/x`)).toBe('err EACCES');
      expect(s.get(`mv ${cache}`)).toBe('err EACCES');
      expect(readFileSync(glue, 'utf8')).toBe(original);
    });
  });

  describe('credentials, start-up files and capsule’s own files under a broad grant (class 8)', () => {
    it('credentials in well-known places under $HOME are unreadable', async () => {
      const files = CREDENTIALS;
      const s = await attack(
        where,
        files.flatMap((f) => ['read', path.join(home, f)]),
      );
      for (const f of files) expect(s.get(`read ${path.join(home, f)}`), f).toBe('err EACCES');
    });

    it('shell start-up files stay readable but can never be written', async () => {
      const files = ['.bashrc', '.profile', '.zshrc', '.bash_profile', '.config/fish/config.fish'];
      const s = await attack(where, [
        ...files.flatMap((f) => ['write', path.join(home, f), 'evil']),
        'write',
        `${home}/.zprofile`,
        'evil',
        'read',
        `${home}/.bashrc`,
      ]);
      for (const f of files) {
        expect(s.get(`write ${path.join(home, f)}`), f).toBe('err EPERM');
        expect(readFileSync(path.join(home, f), 'utf8')).toBe('ORIGINAL');
      }
      expect(s.get(`write ${home}/.zprofile`)).toBe('err EPERM');
      expect(existsSync(`${home}/.zprofile`)).toBe(false);
      expect(s.get(`read ${home}/.bashrc`)).toBe('ok ORIGINAL');
    });

    it('the capabilities directory in use cannot be written (no planted or edited capability)', async () => {
      const m = path.join(caps, 'hostile.fs', 'capability.json');
      const before = readFileSync(m, 'utf8');
      const s = await attack(where, [
        'write',
        m,
        '{}',
        'mkdir',
        `${caps}/evil`,
        'write',
        `${caps}/evil.json`,
        'x',
        'mv',
        `${caps}/hostile.fs`,
        `${tmp}/gone`,
        'read',
        m,
      ]);
      expect(s.get(`write ${m}`)).toBe('err EPERM');
      expect(s.get(`mkdir ${caps}/evil`)).toBe('err EPERM');
      expect(s.get(`write ${caps}/evil.json`)).toBe('err EPERM');
      expect(s.get(`mv ${caps}/hostile.fs`)).toBe('err EPERM');
      expect(s.get(`read ${m}`)).toMatch(/^ok /);
      expect(readFileSync(m, 'utf8')).toBe(before);
    });
  });
});

describe('never-writable paths cover everything below them (class 8)', () => {
  const cases: [string, string][] = [
    ['/usr/local/bin', '/usr'],
    ['/etc/cron.d', '/etc'],
    ['/opt/app', '/opt'],
    ['/lib/x86_64-linux-gnu', '/lib'],
  ];
  for (const [p, root] of cases) {
    it(`a write grant of ${p} is POLICY_INVALID`, async () => {
      const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: cache, policy: { grants: [{ capabilities: '*', fs: { write: [p] } }] } }));
      expect(e.code).toBe('POLICY_INVALID');
      expect(e.message).toContain(root);
    });
  }

  it('$HOME itself, a shell start-up file, capsule’s install and a capabilities dir cannot be granted writable', async () => {
    // capsule's install: its package directory and the node_modules its dependencies load from.
    const ajv = createRequire(path.join(ROOT, 'dist', 'index.js')).resolve('ajv');
    const deps = ajv.slice(0, ajv.lastIndexOf('/node_modules/') + '/node_modules'.length);
    for (const p of [home, path.join(home, '.bashrc'), path.join(home, '.config', 'fish'), path.join(ROOT, 'dist'), path.join(deps, 'ajv'), caps]) {
      const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: cache, policy: { grants: [{ capabilities: '*', fs: { write: [p] } }] } }));
      expect(e.code, p).toBe('POLICY_INVALID');
      expect(e.message, p).toContain('can never be granted for writing');
    }
  });

  it('credentials and orchestrator secrets cannot be granted at all', async () => {
    for (const p of [path.join(home, '.npmrc'), path.join(home, '.config', 'gh'), '/run/secrets', '/var/run/secrets/kubernetes.io']) {
      const e = await failure(createRuntime({ capabilitiesDir: caps, cacheDir: cache, policy: { grants: [{ capabilities: '*', fs: { read: [p] } }] } }));
      expect(e.code, p).toBe('POLICY_INVALID');
      expect(e.message, p).toContain('sensitive path');
    }
  });
});
