// `capsule new` and `capsule build`. Their code lives in dist/authoring.js, loaded here on
// demand: the other commands never load it, and it reaches build tools only when asked to.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as Authoring from '../authoring/index.js';
import { CapsuleError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { checkValue, ioValidators, readManifest } from '../registry/manifest.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { oneLine } from './safe-text.js';
import { signDirectory } from './sign.js';

async function authoring(): Promise<typeof Authoring> {
  // A computed specifier: esbuild leaves it alone, so dist/cli.js does not bundle it.
  const url = new URL('./authoring.js', import.meta.url);
  return (await import(url.href)) as typeof Authoring;
}

/**
 * dist/authoring.js is a bundle of its own, with its own copy of CapsuleError: its errors
 * are not `instanceof` this one, so they are rebuilt from their code and message.
 */
function adopt(e: unknown): unknown {
  if (e instanceof CapsuleError || !(e instanceof Error)) return e;
  const { code, details } = e as Error & { code?: unknown; details?: Record<string, unknown> };
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) && e.name === 'CapsuleError'
    ? new CapsuleError(code as ErrorCode, e.message, details)
    : e;
}

async function adopted<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw adopt(e);
  }
}

export function newCommand(a: ParsedArgs): Promise<number> {
  return adopted(() => newCapability(a));
}

async function newCapability(a: ParsedArgs): Promise<number> {
  const id = a.positionals[0];
  if (!id) throw usage('new needs a capability id, e.g. capsule new acme.slug --lang js');
  const lang = a.values.lang as string | undefined;
  if (!lang) throw usage('new needs --lang js, ts, c or wat');
  const { dir, files } = await (await authoring()).scaffold(id, { lang, dir: a.values.dir as string | undefined });
  const rel = path.relative(process.cwd(), dir) || '.';
  process.stdout.write(`created ${rel}/\n${files.map((f) => `  ${f}\n`).join('')}next:\n  capsule build ${rel}\n  capsule test ${rel}\n`);
  return 0;
}

/** The capability directories to build: each DIR, or ., or every child of . with a capability.json. */
async function targets(dirs: string[]): Promise<string[]> {
  if (dirs.length > 0) return dirs;
  if (existsSync('capability.json')) return ['.'];
  const children = (await readdir('.', { withFileTypes: true })).filter((e) => e.isDirectory() && existsSync(path.join(e.name, 'capability.json')));
  if (children.length === 0) throw usage('build: no capability.json here or in a directory below; give the capability directory');
  return children.map((e) => e.name).sort();
}

export function buildCommand(a: ParsedArgs): Promise<number> {
  return adopted(() => build(a));
}

/**
 * A manifest that declares build.warmup is checked whole (the schema) and each warm-up
 * input against its inputSchema before anything is built: the warm-up runs the
 * capability's own code, and only with inputs it accepts.
 */
async function checkWarmup(dir: string): Promise<void> {
  const file = path.join(dir, 'capability.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return; // buildCapability reports an unreadable manifest
  }
  const declared = typeof raw === 'object' && raw !== null && 'build' in raw;
  if (!declared) return;
  const m = await readManifest(file);
  const inputs = m.build?.warmup ?? [];
  const v = ioValidators(m).input;
  inputs.forEach((input, i) => {
    try {
      checkValue(v, input, 'INPUT_INVALID', m.id);
    } catch (e) {
      throw new CapsuleError('MANIFEST_INVALID', `${file}: /build/warmup/${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

async function build(a: ParsedArgs): Promise<number> {
  const { buildCapability } = await authoring();
  const key = a.values.sign as string | undefined;
  const check = a.values.check === true;
  if (key && check) throw usage('give either --sign or --check, not both');
  const warn = (m: string) => process.stderr.write(`capsule: warning: ${oneLine(m)}\n`);
  for (const dir of await targets(a.positionals)) {
    await checkWarmup(dir);
    const b = await buildCapability(dir, { warn, check });
    const what = check ? 'checked' : 'built';
    process.stdout.write(
      `${what} ${b.id} from ${path.relative(process.cwd(), b.entry) || b.entry}: ${b.bytes} bytes, ${Math.round(b.ms)} ms, ${b.digest.slice(0, 19)}…\n`,
    );
    if (key) await signDirectory(dir, key, a.values.id as string | undefined);
    else if (b.unsigned) process.stdout.write(`  its signature was over the old digest and is removed: sign it again (capsule build --sign KEY)\n`);
  }
  return 0;
}
