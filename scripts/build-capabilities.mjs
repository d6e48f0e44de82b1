// Builds the bundled catalog with `capsule build` itself (dist/cli.js; run `npm run build`
// first): each capabilities/<id>/src entry into its component, digest pinned in capability.json.
//   npm run build:capabilities                 all
//   npm run build:capabilities -- demo.echo    some
//   npm run build:capabilities -- --check      fail if a rebuild differs from the pinned digest
//                                              (WAT and C rebuild byte for byte; JS does not)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const wanted = args.filter((a) => !a.startsWith('--'));
const ids = wanted.length > 0 ? wanted : readdirSync(path.join(root, 'capabilities'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
let failed = 0;
for (const id of ids.sort()) {
  // One capsule build per capability: a failure is reported and the others still build.
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'build', path.join('capabilities', id), ...args.filter((a) => a === '--check')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
