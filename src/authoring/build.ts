// `capsule build`: a capability directory's source (one entry in src/) into its component,
// with the digest pinned in capability.json. The toolchain follows the entry's extension.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { buildC } from './c.js';
import { ALL_FEATURES, buildJs } from './js.js';
import { buildWat } from './wat.js';

/** Entry files `capsule build` looks for in <dir>/src, by name. */
const ENTRY = /^(?:[^.].*\.(?:wat|c)|(?:plugin|index)\.(?:[cm]?js|[cm]?ts))$/;
const JS = /\.[cm]?[jt]s$/;

export interface SourceOptions {
  /** The manifest's world: 'capability' (JSON in, JSON out) or 'command' (wasi:cli). */
  world: 'capability' | 'command';
  /** The manifest's permissions: they choose the WIT world and engine features of a JS build. */
  permissions?: { host?: string[]; clocks?: boolean; random?: boolean; net?: unknown };
  /** For a JS fixture with its own WIT: the WIT file or directory and the world in it. */
  witPath?: string;
  witWorld?: string;
  warn?: (message: string) => void;
  /** The manifest's build.warmup, each input as JSON text (JavaScript/TypeScript only). */
  warmup?: readonly string[];
}

/** Component bytes from one source file. */
export async function buildSource(src: string, o: SourceOptions): Promise<Uint8Array> {
  const ext = path.extname(src);
  if (o.warmup && o.warmup.length > 0 && !JS.test(src)) {
    throw new CapsuleError('BUILD_FAILED', `${src}: build.warmup is for JavaScript and TypeScript capabilities (a ${ext} build has no engine to warm)`);
  }
  if (ext === '.wat') return buildWat(src);
  if (ext === '.c') return buildC(src, o.world === 'command' ? 'command' : 'pure-capability');
  if (JS.test(src)) {
    if (o.witPath) return buildJs(src, { world: o.witWorld ?? path.basename(src, ext), witPath: o.witPath, warn: o.warn, warmup: o.warmup });
    if (o.world === 'command') throw new CapsuleError('BUILD_FAILED', `${src}: a JavaScript capability must be of world "capability"`);
    const p = o.permissions ?? {};
    const keepFeatures = ALL_FEATURES.filter((f) => (f === 'clocks' && p.clocks) || (f === 'random' && p.random) || (f === 'http' && p.net));
    // The log import exists only in the `capability` world: request it, and it is linked.
    const world = p.host?.includes('capsule:host/log') ? 'capability' : 'pure-capability';
    return buildJs(src, { world, keepFeatures, warn: o.warn, warmup: o.warmup });
  }
  throw new CapsuleError('BUILD_FAILED', `${src}: no builder for ${ext || 'extension-less'} files (use .wat, .c, .js or .ts)`);
}

export interface Built {
  id: string;
  dir: string;
  entry: string;
  bytes: number;
  digest: string;
  ms: number;
  /** Whether a signature was dropped because the digest changed (sign again). */
  unsigned: boolean;
}

/** The single entry file in <dir>/src. */
export async function findEntry(dir: string): Promise<string> {
  const srcDir = path.join(dir, 'src');
  const names = existsSync(srcDir) ? (await readdir(srcDir)).filter((f) => ENTRY.test(f)) : [];
  if (names.length !== 1 || names[0] === undefined) {
    throw new CapsuleError(
      'BUILD_FAILED',
      `${srcDir}: needs exactly one entry (a .wat or .c file, or plugin.js / plugin.ts / index.js / index.ts), found ${names.join(', ') || 'none'}`,
    );
  }
  return path.join(srcDir, names[0]);
}

interface RawManifest {
  id?: unknown;
  world?: unknown;
  component?: unknown;
  permissions?: SourceOptions['permissions'];
  build?: unknown;
  digest?: unknown;
  signature?: unknown;
  [key: string]: unknown;
}

async function readRaw(file: string): Promise<RawManifest> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as RawManifest;
    throw new Error('not a JSON object');
  } catch (e) {
    throw new CapsuleError('MANIFEST_INVALID', `${file}: ${messageOf(e)}`);
  }
}

/**
 * The manifest's build.warmup as the JSON texts `run` receives. Only its shape is checked
 * here (this layer runs no validator): the CLI checks each input against inputSchema first.
 */
function warmupInputs(b: unknown, manifestFile: string): string[] | undefined {
  if (b === undefined) return undefined;
  const warmup = typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as { warmup?: unknown }).warmup : null;
  if (warmup === undefined) return undefined;
  if (!Array.isArray(warmup) || warmup.length === 0) {
    throw new CapsuleError('MANIFEST_INVALID', `${manifestFile}: /build/warmup must be a non-empty list of inputs`);
  }
  return warmup.map((input) => JSON.stringify(input));
}

/**
 * Builds <dir>: writes its component and pins the digest in capability.json (a signature
 * over an older digest is removed: it no longer matches). With `check`, writes nothing and
 * fails unless the build gives the pinned digest.
 */
export async function buildCapability(dir: string, o: { warn?: (m: string) => void; check?: boolean } = {}): Promise<Built> {
  const started = performance.now();
  const manifestFile = path.join(dir, 'capability.json');
  const m = await readRaw(manifestFile);
  const id = typeof m.id === 'string' ? m.id : path.basename(dir);
  const component = typeof m.component === 'string' ? m.component : 'component.wasm';
  if (m.world !== 'capability' && m.world !== 'command')
    throw new CapsuleError('MANIFEST_INVALID', `${manifestFile}: "world" must be "capability" or "command"`);
  const entry = await findEntry(dir);
  const bytes = await buildSource(entry, { world: m.world, permissions: m.permissions, warn: o.warn, warmup: warmupInputs(m.build, manifestFile) });
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (o.check) {
    if (digest !== m.digest) throw new CapsuleError('DIGEST_MISMATCH', `${id}: the build gives ${digest}, the manifest pins ${String(m.digest)}`);
    return { id, dir, entry, bytes: bytes.length, digest, ms: performance.now() - started, unsigned: false };
  }
  const out = path.resolve(dir, component);
  await writeFile(`${out}.tmp`, bytes);
  await rename(`${out}.tmp`, out);
  const unsigned = m.signature !== undefined && m.digest !== digest;
  const next: RawManifest = { ...m, digest };
  if (unsigned) delete next.signature;
  await writeFile(`${manifestFile}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  await rename(`${manifestFile}.tmp`, manifestFile);
  return { id, dir, entry, bytes: bytes.length, digest, ms: performance.now() - started, unsigned };
}
