// The package as a user gets it: `npm pack`'s tarball installed into an empty app,
// offline. The app's lockfile is built from capsule's own (its non-dev packages,
// with their resolved URLs and integrity, plus the tarball as a file: dependency),
// so `npm ci --offline` installs from the npm cache the repository's own `npm ci`
// filled: no network, and the same versions capsule is tested with.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

/** The goal of issue 14: capsule installed as a dependency, all packages included. */
const MAX_INSTALL_BYTES = 40 * 1024 * 1024;

interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  [key: string]: unknown;
}
interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockPackage>;
}
interface PackFile {
  path: string;
  size: number;
}

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

/** Bytes of every file under dir (apparent sizes; symlinks not followed) and the packages in it. */
function measure(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += lstatSync(p).size;
        if (e.name === 'package.json' && path.basename(path.dirname(path.dirname(p))).match(/^(node_modules|@.+)$/)) packages++;
      }
    }
  };
  walk(dir);
  return { bytes, packages };
}

let app: string;
let tarball: string;
let packed: PackFile[];

beforeAll(() => {
  const out = tempDir('capsule-pack-');
  // dist/ is built by `npm test` before the tests; --ignore-scripts: no second build.
  const info = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], ROOT)) as { filename: string; files: PackFile[] }[];
  const first = info[0];
  if (first === undefined) throw new Error('npm pack printed no result');
  packed = first.files;
  tarball = path.join(out, first.filename);

  app = tempDir('capsule-app-');
  const spec = `file:${tarball}`;
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    bin: Record<string, string>;
    engines: Record<string, string>;
    license: string;
  };
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const packages: Record<string, LockPackage> = {
    '': { name: 'app', version: '1.0.0', dependencies: { capsule: spec } },
    'node_modules/capsule': {
      version: pkg.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || entry.dev === true) continue;
    packages[where] = entry;
  }
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module', dependencies: { capsule: spec } }, null, 2),
  );
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  npm(['ci', '--offline', '--no-audit', '--no-fund'], app);
}, 180_000);

describe('the packed tarball', () => {
  it('carries the library, CLI, schemas, WIT, docs and licences, and nothing tests-only', () => {
    const names = packed.map((f) => f.path);
    for (const f of [
      'LICENSE',
      'NOTICE',
      'CHANGELOG.md',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/bench.js',
      'dist/bench.d.ts',
      'dist/cli.js',
      'dist/worker.cjs',
      'dist/transpile-host.js',
      'dist/jco/LICENSE',
      'dist/jco/wasm-tools.core.wasm',
      'wit/capsule.wit',
      'schema/capability.schema.json',
      'schema/policy.schema.json',
      'capabilities/demo.echo/capability.json',
    ]) {
      expect(names).toContain(f);
    }
    const unwanted = names.filter(
      (n) =>
        /^(test|src|scripts|fixtures\/(corpus|src))\/|\.map$|^capabilities\/demo\.markdown\.render\//.test(n) ||
        (n.startsWith('fixtures/') && !/^fixtures\/build\/bench-[\w-]+\.wasm$/.test(n)),
    );
    expect(unwanted).toEqual([]);
    const total = packed.reduce((n, f) => n + f.size, 0);
    console.log(`capsule tarball: ${packed.length} files, ${(total / 1024 / 1024).toFixed(1)} MiB unpacked`);
  });

  it('every doc the README links is in the tarball', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]);
    const names = new Set(packed.map((f) => f.path));
    const missing = links.filter((l) => l !== undefined && !names.has(l) && ![...names].some((n) => n.startsWith(`${l.replace(/\/$/, '')}/`)));
    expect(missing).toEqual([]);
  });
});

describe('installed into an empty app, offline', () => {
  it(`is at most ${MAX_INSTALL_BYTES / 1024 / 1024} MiB with its dependencies`, () => {
    const { bytes, packages } = measure(path.join(app, 'node_modules'));
    console.log(`capsule installed: ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${packages} packages (node_modules of an empty app)`);
    expect(bytes).toBeLessThanOrEqual(MAX_INSTALL_BYTES);
  });

  it.each(['node16', 'nodenext'])("`import { createRuntime } from 'capsule'` type-checks under module: %s", (mode) => {
    writeFileSync(
      path.join(app, 'index.ts'),
      [
        "import { createRuntime, CapsuleError, type RunResult } from 'capsule';",
        "import { runBench } from 'capsule/bench';",
        "const rt = await createRuntime({ capabilitiesDir: 'node_modules/capsule/capabilities' });",
        "const r: RunResult = await rt.run('demo.echo', { a: 1 });",
        'console.log(r.stats.tier, CapsuleError.name, typeof runBench);',
        'await rt.close();',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: mode,
          moduleResolution: mode,
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['index.ts'],
      }),
    );
    const tsc = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('`npx capsule run` runs a bundled capability (transpiled by the bundled jco, fresh cache)', () => {
    const cache = tempDir('capsule-app-cache-');
    for (const [id, input, want] of [
      ['demo.echo', '{"hello":"world"}', { hello: 'world' }],
      ['demo.text.wordcount', '{"text":"hello capsule world"}', { words: 3, lines: 1, chars: 19 }],
    ] as const) {
      const r = spawnSync('npx', ['--no-install', 'capsule', 'run', id, '--input', input, '--capabilities', 'node_modules/capsule/capabilities'], {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, CAPSULE_CACHE_DIR: cache, npm_config_update_notifier: 'false' },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(want);
    }
  });

  it('without --capabilities and without ./capabilities, the CLI uses the catalog installed with capsule', () => {
    const r = spawnSync('npx', ['--no-install', 'capsule', 'run', 'demo.echo', '--input', '{"n":1}'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 1 });
  });

  it('capsule/wit/*, capsule/schema/* and capsule/package.json resolve (import and require)', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      "for (const s of ['capsule/wit/capsule.wit', 'capsule/schema/capability.schema.json', 'capsule/schema/policy.schema.json', 'capsule/package.json']) {",
      '  console.log(new URL(import.meta.resolve(s)).pathname, require.resolve(s));',
      '}',
    ].join('\n');
    writeFileSync(path.join(app, 'resolve.mjs'), script);
    const r = spawnSync(process.execPath, ['resolve.mjs'], { cwd: app, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [viaImport, viaRequire] = line.split(' ');
      expect(viaImport).toBe(viaRequire);
      expect(viaImport).toContain(`${path.sep}node_modules${path.sep}capsule${path.sep}`);
    }
  });
});
