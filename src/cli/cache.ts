// `capsule cache [info] [--json]` and `capsule cache clean`: where the transpile
// cache is, how big it is, and emptying it. The directory is $CAPSULE_CACHE_DIR,
// else $XDG_CACHE_HOME/capsule or ~/.cache/capsule, as the runtime uses it.
import { defaultCacheDir } from '../sandbox/compile.js';
import { cacheInfo, cacheMaxBytesFromEnv, cleanCache, DEFAULT_CACHE_MAX_BYTES, ensureCacheDir } from '../sandbox/transpile-cache.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { bytes } from './format.js';

export async function cacheCommand(a: ParsedArgs): Promise<number> {
  const [sub = 'info', ...extra] = a.positionals;
  if (extra.length > 0) throw usage(`cache ${sub} takes no arguments`);
  const dir = defaultCacheDir();
  if (sub === 'info') {
    const info = await cacheInfo(dir);
    const maxBytes = cacheMaxBytesFromEnv() ?? DEFAULT_CACHE_MAX_BYTES;
    if (a.values.json) process.stdout.write(`${JSON.stringify({ ...info, maxBytes }, null, 2)}\n`);
    else process.stdout.write(`path     ${info.dir}\nentries  ${info.entries}\nbytes    ${info.bytes} (${bytes(info.bytes)} of ${bytes(maxBytes)})\n`);
    return 0;
  }
  if (sub === 'clean') {
    // The same checks as a runtime: never remove files through a directory someone else controls.
    await ensureCacheDir(dir);
    const removed = await cleanCache(dir);
    if (a.values.json) process.stdout.write(`${JSON.stringify(removed, null, 2)}\n`);
    else process.stdout.write(`${dir}: removed ${removed.entries} entries (${bytes(removed.bytes)})\n`);
    return 0;
  }
  throw usage(`cache needs info or clean, not ${JSON.stringify(sub)}`);
}
