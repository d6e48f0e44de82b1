// Picks the builder for a source file by its extension. Each builder returns
// component bytes; WAT needs nothing but npm packages, C needs clang + wasi-libc,
// JS needs componentize-js (a devDependency).
import path from 'node:path';
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
    return buildJs(src, { world: world ?? 'capability' });
  }
  throw new Error(`${src}: no builder for ${ext} files`);
}
