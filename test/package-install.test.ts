// The package as a user gets it: `npm pack`'s tarball installed into an empty app,
// offline, from the npm cache the repository's own `npm ci` filled (test/packed-app.ts).
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';
import { installApp, type PackFile, pack } from './packed-app.js';

/** The goal of issue 14: capsule installed as a dependency, all packages included. */
const MAX_INSTALL_BYTES = 40 * 1024 * 1024;

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
let packed: PackFile[];

beforeAll(() => {
  const p = pack();
  packed = p.files;
  app = installApp(p.tarball);
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
      'types/guest.d.ts',
      'dist/authoring.js',
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

  it('`capsule new` + `capsule build` of WAT need nothing beside capsule; JS names the build tools to install', () => {
    const cli = (args: string[]) =>
      spawnSync('npx', ['--no-install', 'capsule', ...args], { cwd: app, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    expect(cli(['new', 'acme.echo', '--lang', 'wat']).status).toBe(0);
    const wat = cli(['build', 'acme.echo']);
    expect(wat.stderr).toBe('');
    expect(wat.status).toBe(0);
    expect(cli(['new', 'acme.js', '--lang', 'js']).status).toBe(0);
    const js = cli(['build', 'acme.js']);
    expect(js.stderr).toBe(
      'capsule: BUILD_FAILED: building JavaScript needs esbuild, which is not installed: run npm install --save-dev @bytecodealliance/componentize-js@0.22.0 esbuild@0.28.2\n',
    );
    expect(js.status).toBe(1);
  });
});
