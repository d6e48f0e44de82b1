// `capsule test [DIR]`: runs the capability's declared examples (examples.json beside its
// capability.json: [{ name?, input, output? , error? }]) under the given policy and
// --allow-* flags; one pass/fail line each, with the denials; exit 1 if any fails.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CapsuleError, messageOf } from '../errors.js';
import { Runtime } from '../runtime.js';
import type { Denial } from '../sandbox/job.js';
import type { Tier } from '../policy/tier.js';
import { flagGrants, type ParsedArgs } from './args.js';
import { printGuestLog } from './guest-log.js';
import { oneLine } from './safe-text.js';

interface Example {
  name?: string;
  input: unknown;
  /** The expected output (deep equality); absent: any output passes. */
  output?: unknown;
  /** An expected failure: its error code (e.g. "CAPABILITY_ERROR") or words from its message. */
  error?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CapsuleError('MANIFEST_INVALID', `${file}: ${messageOf(e)}`);
  }
}

function readExamples(file: string): Example[] {
  const v = readJson(file);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || !('input' in x))) {
    throw new CapsuleError('MANIFEST_INVALID', `${file}: expected an array of { "name"?, "input", "output"?, "error"? }`);
  }
  return v as Example[];
}

const short = (v: unknown) => oneLine(JSON.stringify(v) ?? 'undefined').slice(0, 200);

/** Why an example failed, or undefined when it passed. */
function verdict(ex: Example, got: { output?: unknown; error?: CapsuleError }): string | undefined {
  if (got.error) {
    const e = got.error;
    if (ex.error !== undefined && (e.code === ex.error || e.message.includes(ex.error))) return undefined;
    return `${e.code}: ${e.message}`;
  }
  if (ex.error !== undefined) return `expected an error (${ex.error}), got ${short(got.output)}`;
  if ('output' in ex && !isDeepStrictEqual(got.output, ex.output)) return `expected ${short(ex.output)}, got ${short(got.output)}`;
  return undefined;
}

function denialLines(denials: Denial[]): string {
  return denials.map((d) => `    denied: ${oneLine(d.kind === 'more' ? d.reason : `${d.kind} ${d.target}: ${d.reason}`)}\n`).join('');
}

export async function testCommand(a: ParsedArgs): Promise<number> {
  const dir = path.resolve(a.positionals[0] ?? '.');
  const manifest = readJson(path.join(dir, 'capability.json')) as { id?: unknown };
  if (typeof manifest.id !== 'string') throw new CapsuleError('MANIFEST_INVALID', `${path.join(dir, 'capability.json')}: no "id"`);
  const id = manifest.id;
  const examples = readExamples(path.join(dir, 'examples.json'));
  const rt = await Runtime.create({
    capabilitiesDir: [path.dirname(dir)],
    policy: a.values.policy as string | undefined,
    extraGrants: flagGrants(a, id),
    pool: { minThreads: 1, maxThreads: 1 },
    logger: printGuestLog,
  });
  let failed = 0;
  try {
    const loaded = await rt.load(id);
    for (const [i, ex] of examples.entries()) {
      const name = oneLine(ex.name ?? `example ${i + 1}`);
      let got: { output?: unknown; error?: CapsuleError };
      let denials: Denial[] = [];
      try {
        const r = await rt.runLoaded(loaded, ex.input, { timeoutMs: a.number('timeout'), tier: a.values.tier as Tier | undefined });
        got = { output: r.output };
        denials = r.denials;
      } catch (e) {
        const err = e instanceof CapsuleError ? e : new CapsuleError('INTERNAL', messageOf(e));
        got = { error: err };
        denials = (err.details?.denials as Denial[] | undefined) ?? [];
      }
      const why = verdict(ex, got);
      if (why) failed++;
      process.stdout.write(`${why ? 'FAIL' : 'pass'}  ${name}${why ? `\n    ${oneLine(why)}` : ''}\n${denialLines(denials)}`);
    }
  } finally {
    await rt.close();
  }
  process.stdout.write(`${id}: ${examples.length - failed} of ${examples.length} examples passed\n`);
  return failed > 0 ? 1 : 0;
}
