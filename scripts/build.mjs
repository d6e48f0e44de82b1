// Bundles the CLI, the library entry, the worker entry, the job runner and the transpiler host with esbuild, and emits
// type declarations for the library. Runs on `npm install` (prepare) and before tests.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const external = ['piscina', 'ajv', 'ajv/*', 'ajv-formats', '@bytecodealliance/jco-transpile', '@bytecodealliance/jco-transpile/*', '@extism/extism'];
await build({
  entryPoints: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts',
    worker: 'src/tiers/worker-entry.ts',
    // The job protocol's entrypoint for the process tier and inside a VM.
    'job-runner': 'src/tiers/job-entry.ts',
    // jco runs in this child process, never in the runtime's (src/sandbox/transpile-host.ts).
    'transpile-host': 'src/sandbox/transpile-entry.ts',
  },
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external,
  logLevel: 'warning',
});
// What piscina loads: CommonJS, so that it never require()s the ES worker (see the file).
copyFileSync(path.join(root, 'src', 'tiers', 'worker-loader.cjs'), path.join(dist, 'worker.cjs'));

// Declarations for library users (the CLI and worker need none).
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
if (existsSync(tsc)) {
  execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
