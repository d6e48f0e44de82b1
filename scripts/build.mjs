// Bundles the CLI, the library entry, the bench entry (capsule/bench), the worker entry, the job runner and the
// transpiler host with esbuild, and emits type declarations for the library. Runs on `npm install` (prepare) and
// before tests.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const external = ['ajv', 'ajv/*', 'ajv-formats', '@extism/extism'];
// The manifest and policy validators are generated CommonJS (src/schema-validators.cjs) that
// require() ajv's runtime helpers and ajv-formats, which stay external: an ES bundle needs a real require.
const banner = { js: "import { createRequire as __capsuleRequire } from 'node:module'; const require = __capsuleRequire(import.meta.url);" };
const common = { absWorkingDir: root, outdir: dist, bundle: true, format: 'esm', platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning', banner };
await build({
  ...common,
  entryPoints: {
    index: 'src/index.ts',
    // capsule/bench: its own entry, outside the library's import graph.
    bench: 'src/bench/index.ts',
    worker: 'src/tiers/worker-entry.ts',
    // The job protocol's entrypoint for the process tier and inside a VM.
    'job-runner': 'src/tiers/job-entry.ts',
  },
  external,
  define: { __JCO_TRANSPILE_VERSION__: JSON.stringify(jcoVersion()) },
});

// The CLI on its own, split: dist/cli.js holds only argument parsing and help, and each command's
// code is a chunk imported when that command runs (src/cli/main.ts), so `capsule --version` loads
// almost nothing. Chunks stay at the top of dist/: code in them finds its siblings by import.meta.url.
await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  splitting: true,
  chunkNames: 'cli-[hash]',
  external,
  define: { __JCO_TRANSPILE_VERSION__: JSON.stringify(jcoVersion()) },
});

// jco runs in this child process, never in the runtime's (src/sandbox/transpile-host.ts). Its transpile path is
// bundled in, so that @bytecodealliance/jco-transpile (a devDependency) is not installed with capsule: that
// package depends on binaryen (93 MB, for jco's optimize and asm.js paths) and oxc-minify (native binaries, for
// its minify option), neither of which capsule ever asks for. They is replaced by a stub that throws.
// preview2-shim stays a runtime dependency (external): its I/O starts a worker from a file beside its own code.
await build({
  ...common,
  // authoring: `capsule new` / `capsule build` (loaded by the CLI on demand), with jco's wasm-tools for WAT and C.
  entryPoints: { 'transpile-host': 'src/sandbox/transpile-entry.ts', authoring: 'src/authoring/index.ts' },
  // Both use jco's wasm-tools: one shared chunk rather than two copies.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  external: ['@bytecodealliance/preview2-shim', '@bytecodealliance/preview2-shim/*'],
  // binaryen is reached only through import.meta.resolve on jco's optimize/asm.js paths: it fails there, unbundled.
  alias: { 'oxc-minify': './scripts/jco-stubs/oxc-minify.mjs' },
  plugins: [jcoCoreWasmPlugin()],
});
copyJco();
// What piscina loads: CommonJS, so that it never require()s the ES worker (see the file).
copyFileSync(path.join(root, 'src', 'tiers', 'worker-loader.cjs'), path.join(dist, 'worker.cjs'));

/** The version of jco-transpile bundled into dist/transpile-host.js: part of the transpile cache's key. */
function jcoVersion() {
  return JSON.parse(readFileSync(path.join(jcoDir(), 'package.json'), 'utf8')).version;
}

function jcoDir() {
  // Its exports do not include package.json: from its main entry (dist/index.js) up two levels.
  const entry = fileURLToPath(import.meta.resolve('@bytecodealliance/jco-transpile'));
  return path.dirname(path.dirname(entry));
}

/** jco's vendored components load their core wasm from beside themselves; bundled, that is dist/jco/. */
function jcoCoreWasmPlugin() {
  return {
    name: 'jco-core-wasm',
    setup(b) {
      b.onLoad({ filter: /jco-transpile[\\/]vendor[\\/][^\\/]+\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const out = text.replace(/new URL\('\.\/([\w.-]+\.wasm)', import\.meta\.url\)/g, "new URL('./jco/$1', import.meta.url)");
        return { contents: out, loader: 'js' };
      });
    },
  };
}

/** The core wasm files the bundled transpile path reads, and jco's licence. */
function copyJco() {
  const from = jcoDir();
  const to = path.join(dist, 'jco');
  mkdirSync(to, { recursive: true });
  for (const f of ['js-component-bindgen-component.core.wasm', 'js-component-bindgen-component.core2.wasm', 'wasm-tools.core.wasm', 'wasm-tools.core2.wasm']) {
    copyFileSync(path.join(from, 'vendor', f), path.join(to, f));
  }
  copyFileSync(path.join(from, 'LICENSE'), path.join(to, 'LICENSE'));
  writeFileSync(path.join(to, 'README.md'), `@bytecodealliance/jco-transpile ${jcoVersion()} (Apache-2.0 WITH LLVM-exception, see LICENSE): its\ncore wasm files, read by ../transpile-host.js, into which its transpile path is bundled. See ../../NOTICE.\n`);
}

// Declarations for library users (the CLI and worker need none).
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
if (existsSync(tsc)) {
  execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // capsule/bench's declarations beside its bundle (dist/bench.js; tsc wrote them to dist/bench/index.d.ts).
  writeFileSync(path.join(dist, 'bench.d.ts'), "export * from './bench/index.js';\n");
}
