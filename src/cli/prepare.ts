// `capsule prepare [ID…]`: transpile each capability (every one in the catalog when no id is
// given) into the cache ahead of time, so that the first `run` pays nothing for it: jco's
// transpile and the fuel instrumentation are written to the transpile cache (README: Layout).
// The load is the one `run` does: provenance (digest, signature under --policy) is checked
// first. Progress per capability on stderr; a failure is reported and the rest go on.
import { CapsuleError, messageOf } from '../errors.js';
import { Runtime } from '../runtime.js';
import type { ParsedArgs } from './args.js';
import { report } from './errors.js';
import { SOURCE, seconds } from './progress.js';

interface Prepared {
  id: string;
  /** transpiled | disk | memory, or `container` (an image: nothing to transpile). */
  source?: string;
  ms: number;
  error?: { code: string; message: string };
}

export async function prepareCommand(a: ParsedArgs): Promise<number> {
  const rt = await Runtime.create({ capabilitiesDir: a.capabilitiesDirs, policy: a.values.policy as string | undefined });
  const results: Prepared[] = [];
  try {
    const ids = a.positionals.length > 0 ? a.positionals : rt.registry.list().map((e) => e.id);
    for (const [i, id] of ids.entries()) {
      process.stderr.write(`capsule: [${i + 1}/${ids.length}] preparing ${id}…\n`);
      const started = performance.now();
      try {
        const loaded = await rt.load(id);
        const source = loaded.component ? loaded.component.source : 'container';
        const ms = performance.now() - started;
        results.push({ id, source, ms });
        const how = loaded.component ? SOURCE[loaded.component.source] : 'a container image: nothing to transpile';
        process.stderr.write(`capsule: [${i + 1}/${ids.length}] ${id}: ${how}, ${seconds(ms)}\n`);
      } catch (e) {
        const err = e instanceof CapsuleError ? e : new CapsuleError('INTERNAL', messageOf(e));
        results.push({ id, ms: performance.now() - started, error: { code: err.code, message: err.message } });
        report(err);
      }
    }
  } finally {
    await rt.close();
  }
  const failed = results.filter((r) => r.error).length;
  if (a.values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    const transpiled = results.filter((r) => r.source === 'transpiled').length;
    process.stdout.write(
      `prepared ${results.length - failed} of ${results.length} capabilities (${transpiled} transpiled now, ${results.length - failed - transpiled} already prepared)\n`,
    );
  }
  return failed > 0 ? 1 : 0;
}
