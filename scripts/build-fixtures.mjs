// Builds every test component in fixtures/src into fixtures/build/<name>.wasm.
//   npm run build:fixtures              build all (C needs clang lld wasi-libc libclang-rt-14-dev-wasm32)
//   npm run build:fixtures -- --only wat   only the WAT ones (no native toolchain)
//   npm run build:fixtures -- --check   rebuild in memory and fail if a committed file differs
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSource } from './lib/toolchain.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const srcDir = path.join(root, 'fixtures', 'src');
const outDir = path.join(root, 'fixtures', 'build');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

// C fixtures are wasi:cli/command programs; WAT and JS fixtures declare their own world.
const worldOf = (file) => (file.endsWith('.c') ? 'command' : 'capability');

const sources = (await readdir(srcDir)).filter((f) => /\.(wat|c|js)$/.test(f) && (!only || f.endsWith(`.${only}`)));
await mkdir(outDir, { recursive: true });
let failed = 0;
for (const file of sources.sort()) {
  const name = file.replace(/\.(wat|c|js)$/, '');
  const out = path.join(outDir, `${name}.wasm`);
  const started = Date.now();
  try {
    const bytes = await buildSource(path.join(srcDir, file), { world: worldOf(file) });
    if (check) {
      const committed = await readFile(out).catch(() => undefined);
      const same = committed && Buffer.compare(Buffer.from(bytes), committed) === 0;
      if (!same) failed++;
      console.log(`${same ? 'same' : 'DIFFERS'}  fixtures/build/${name}.wasm`);
    } else {
      await writeFile(out, bytes);
      console.log(`built  fixtures/build/${name}.wasm  ${bytes.length} bytes  ${Date.now() - started} ms`);
    }
  } catch (e) {
    failed++;
    console.error(`FAILED fixtures/src/${file}: ${e.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
