// Where capsule's own code lives: its package directory and the node_modules
// directories its runtime dependencies load from (ajv, preview2-shim for the transpiler host). A guest
// that could write there would have its code run on the host by the next
// runtime, so no grant may write them (docs/security.md, sensitive paths;
// the list is src/grants/sensitive.ts, finding them on disk is here).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_DEPENDENCIES } from './grants/sensitive.js';

/** capsule's package directory (this file is bundled into dist/) and its dependencies' node_modules. */
export function installPaths(): string[] {
  const out = new Set([fileURLToPath(new URL('..', import.meta.url))]);
  const req = createRequire(import.meta.url);
  const marker = `${path.sep}node_modules${path.sep}`;
  for (const dep of RUNTIME_DEPENDENCIES) {
    let file: string;
    try {
      file = req.resolve(dep);
    } catch {
      continue; // not installed, or ESM-only without a require entry: its package dir is found through another
    }
    const i = file.lastIndexOf(marker);
    if (i >= 0) out.add(file.slice(0, i + marker.length - 1));
  }
  return [...out];
}
