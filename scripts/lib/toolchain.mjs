// Picks the builder for a source file by its extension. Each builder returns
// component bytes; WAT needs nothing but npm packages, C needs clang + wasi-libc,
// JS needs componentize-js (a devDependency).
import { existsSync } from 'node:fs';
import path from 'node:path';

// Fixtures with their own WIT call WASI imports directly; the engine's own fetch stays off.
const OWN_WIT_DISABLED = ['http', 'fetch-event', 'stdio', 'clocks', 'random'];
import { buildWat } from './wat.mjs';

export async function buildSource(src, { world }) {
  const ext = path.extname(src);
  if (ext === '.wat') return buildWat(src);
  if (ext === '.c') {
    const { buildC } = await import('./c.mjs');
    return buildC(src, { kind: world === 'command' ? 'command' : 'pure-capability' });
  }
  if (ext === '.js') {
    const { buildJs } = await import('./js.mjs');
    // A fixture with its own WIT (`<name>.wit/` beside it, world `<name>`) imports what that world says.
    const ownWit = src.replace(/\.js$/, '.wit');
    if (existsSync(ownWit)) {
      return buildJs(src, { world: path.basename(src, '.js'), witPath: ownWit, disableFeatures: OWN_WIT_DISABLED });
    }
    return buildJs(src, { world: world ?? 'capability' });
  }
  throw new Error(`${src}: no builder for ${ext} files`);
}
