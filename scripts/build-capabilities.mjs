// Builds each bundled capability from capabilities/<id>/src (one .wat, .c or
// plugin .js entry) into capabilities/<id>/component.wasm and pins its digest
// in capability.json.
//   npm run build:capabilities                 all
//   npm run build:capabilities -- demo.echo    some
//   npm run build:capabilities -- --check      fail if a rebuild differs from what is committed
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSource } from './lib/toolchain.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const capsDir = path.join(root, 'capabilities');
const args = process.argv.slice(2);
const check = args.includes('--check');
const wanted = args.filter((a) => !a.startsWith('--'));

let failed = 0;
for (const id of (await readdir(capsDir)).sort()) {
  if (wanted.length && !wanted.includes(id)) continue;
  const dir = path.join(capsDir, id);
  const manifestFile = path.join(dir, 'capability.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  const entries = (await readdir(path.join(dir, 'src'))).filter((f) => /\.(wat|c)$/.test(f) || f === 'plugin.js');
  if (entries.length !== 1) {
    console.error(`FAILED ${id}: src/ must hold exactly one .wat, .c or plugin.js entry, found ${entries.join(', ') || 'none'}`);
    failed++;
    continue;
  }
  const started = Date.now();
  process.stdout.write(`building ${id} from src/${entries[0]} ...`);
  try {
    const bytes = await buildSource(path.join(dir, 'src', entries[0]), { world: manifest.world });
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (check) {
      const same = digest === manifest.digest;
      if (!same) failed++;
      console.log(same ? ' same digest' : ` DIFFERS: ${digest} vs pinned ${manifest.digest}`);
      continue;
    }
    await writeFile(path.join(dir, manifest.component), bytes);
    manifest.digest = digest;
    await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(` ${bytes.length} bytes, ${Date.now() - started} ms, ${digest.slice(0, 19)}…`);
  } catch (e) {
    failed++;
    console.log(' FAILED');
    console.error(`  ${e.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
