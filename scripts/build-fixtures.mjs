// Builds every test component in fixtures/src into fixtures/build/<name>.wasm, with the
// builders of `capsule build` (dist/authoring.js; run `npm run build` first).
//   npm run build:fixtures              build all (C needs clang lld wasi-libc libclang-rt-14-dev-wasm32)
//   npm run build:fixtures -- --only wat   only the WAT ones (no native toolchain)
//   npm run build:fixtures -- --check   rebuild in memory and fail if a committed file differs
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSource } from '../dist/authoring.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const srcDir = path.join(root, 'fixtures', 'src');
const outDir = path.join(root, 'fixtures', 'build');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

// C fixtures are wasi:cli/command programs; WAT fixtures declare their own world; a JS fixture
// with its own WIT (`<name>.wit` beside it, world `<name>`) imports what that world says.
function options(file) {
  if (file.endsWith('.c')) return { world: 'command' };
  const ownWit = path.join(srcDir, file.replace(/\.js$/, '.wit'));
  return file.endsWith('.js') && existsSync(ownWit) ? { world: 'capability', witPath: ownWit } : { world: 'capability' };
}

const sources = (await readdir(srcDir)).filter((f) => /\.(wat|c|js)$/.test(f) && (!only || f.endsWith(`.${only}`)));
await mkdir(outDir, { recursive: true });
let failed = 0;
for (const file of sources.sort()) {
  const name = file.replace(/\.(wat|c|js)$/, '');
  const out = path.join(outDir, `${name}.wasm`);
  const started = Date.now();
  try {
    const bytes = await buildSource(path.join(srcDir, file), { ...options(file), warn: (m) => console.warn(`warning: ${m}`) });
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
