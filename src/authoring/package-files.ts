// Files capsule ships (wit/) and files of optional peers, found on disk. This module runs
// bundled as dist/authoring.js and, under the unit tests, as src/authoring/*.ts: the
// package root is one or two levels up.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** capsule's wit/capsule.wit (shipped in the package). */
export function capsuleWitFile(): string {
  for (const up of ['..', path.join('..', '..')]) {
    const f = path.join(here, up, 'wit', 'capsule.wit');
    if (existsSync(f)) return f;
  }
  throw new Error(`wit/capsule.wit not found above ${here}`);
}

/** `node_modules/<rel>` in the first of `from`'s ancestors (then capsule's own) that has it. */
export function findInNodeModules(rel: string, from: string): string | undefined {
  for (const start of [path.resolve(from), here]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const f = path.join(dir, 'node_modules', rel);
      if (existsSync(f)) return f;
      if (path.dirname(dir) === dir) break;
    }
  }
  return undefined;
}
