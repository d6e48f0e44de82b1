// Turns component bytes into something a tier can instantiate: jco transpile in
// instantiation mode (cached on disk by content hash and jco version, so a new
// process does not transpile again), and compiled core modules with their memories
// capped at the call's limit (cached in memory per component and limit, cloned to
// workers instead of recompiled per call).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CapsuleError, messageOf } from '../errors.js';
import { type ComponentShape, shapeFromWit } from './describe.js';
import { type DirectAbi, directAbiFromWat } from './direct-abi.js';
import { compileCore } from './core-compile.js';
import { capMemories, definedMemories, pagesPerMemory } from './memory-cap.js';
import type { BundleRef } from './job.js';
import { transpileIsolated } from './transpile-host.js';

export interface CompiledComponent {
  digest: string;
  glueUrl: string;
  /** Import names exactly as the glue looks them up. */
  glueImports: string[];
  shape: ComponentShape;
  /** Set when the component can be called without jco's glue (see direct-abi.ts). */
  directAbi?: DirectAbi;
  /** How this component was obtained: already compiled, from the disk cache, or transpiled now. */
  source: 'memory' | 'disk' | 'transpiled';
  /** The cache directory holding glue and core files (a child process or VM reads it). */
  bundle: BundleRef;
}

interface CacheMeta {
  transpiler: string;
  glueImports: string[];
  coreFiles: string[];
  wit: string;
  directAbi?: DirectAbi;
  instantiations: Record<string, number>;
  memories: number;
}

const LAYOUT = 4; // bump when the cache layout or transpile options change

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function defaultCacheDir(): string {
  if (process.env.CAPSULE_CACHE_DIR) return path.resolve(process.env.CAPSULE_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'capsule');
}

/** Rejects what is not a component before handing bytes to the transpiler. */
export function checkComponentBytes(bytes: Uint8Array, origin: string): void {
  const magic = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) throw new CapsuleError('COMPONENT_INVALID', `${origin} is not WebAssembly (no \\0asm header)`);
  if (bytes[6] === 0 && bytes[7] === 0) {
    throw new CapsuleError(
      'COMPONENT_INVALID',
      `${origin} is a core WebAssembly module, not a component (wrap it with \`jco new\` or wasm-tools component new)`,
    );
  }
}

export class ComponentCompiler {
  private readonly compiled = new Map<string, Promise<CompiledComponent>>();
  private version?: Promise<string>;
  private readonly capped = new Map<string, Promise<Record<string, WebAssembly.Module>>>();

  constructor(private readonly cacheDir = defaultCacheDir()) {}

  /** Compile once per digest; concurrent callers share the same promise. */
  async compile(bytes: Uint8Array, origin: string): Promise<CompiledComponent> {
    const digest = digestOf(bytes);
    const known = this.compiled.get(digest);
    if (known) return { ...(await known), source: 'memory' };
    const pending = this.load(bytes, digest, origin);
    this.compiled.set(digest, pending);
    pending.catch(() => this.compiled.delete(digest));
    return pending;
  }

  private async load(bytes: Uint8Array, digest: string, origin: string): Promise<CompiledComponent> {
    checkComponentBytes(bytes, origin);
    this.version ??= transpilerVersion();
    const version = await this.version;
    const dir = path.join(this.cacheDir, cacheKey(digest, version));
    let meta = await readMeta(dir);
    const source = meta ? 'disk' : 'transpiled';
    if (!meta) meta = await this.transpileInto(dir, bytes, version, origin);
    return {
      digest,
      glueUrl: pathToFileURL(path.join(dir, 'component.js')).href,
      glueImports: meta.glueImports,
      shape: shapeFromWit(meta.wit),
      ...(meta.directAbi ? { directAbi: meta.directAbi } : {}),
      source,
      bundle: { dir, glue: 'component.js', coreFiles: meta.coreFiles, instantiations: meta.instantiations, memories: meta.memories },
    };
  }

  /**
   * The component's core modules compiled with every memory capped at `memoryBytes`
   * (rounded down to whole pages), compiled once per component and cap.
   */
  modulesFor(c: CompiledComponent, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
    const pages = pagesPerMemory(memoryBytes, c.bundle.memories ?? 1);
    const key = `${c.digest}/${pages}`;
    let modules = this.capped.get(key);
    if (!modules) {
      modules = compileBundle(c.bundle, memoryBytes);
      this.capped.set(key, modules);
      modules.catch(() => this.capped.delete(key));
    }
    return modules;
  }

  private async transpileInto(dir: string, bytes: Uint8Array, version: string, origin: string): Promise<CacheMeta> {
    // In a disposable process under time and size limits (transpile-host.ts): a hostile
    // component can neither stall this thread nor break jco for later components.
    const { files, imports: glueImports, wit, printed } = await transpileIsolated(bytes, origin);
    const coreFiles = Object.keys(files).filter((f) => f.endsWith('.wasm'));
    const glue = new TextDecoder().decode(files['component.js']);
    const instantiations = countInstantiations(glue, coreFiles);
    const memories = coreFiles.reduce((n, f) => n + instantiations[f] * definedMemories(files[f]), 0);
    const meta: CacheMeta = { transpiler: version, glueImports, coreFiles, wit, instantiations, memories };
    // Only import-free, single-module capabilities qualify; printing big components would be slow.
    if (glueImports.length === 0 && coreFiles.length === 1 && shapeFromWit(wit).world === 'capability') {
      const abi = printed === undefined ? undefined : directAbiFromWat(printed, coreFiles);
      if (abi) meta.directAbi = abi;
    }
    // Write to a private directory, then rename: a reader never sees half a cache entry.
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await mkdir(tmp, { recursive: true });
    for (const file of [...coreFiles, 'component.js']) await writeFile(path.join(tmp, file), files[file]);
    await writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta));
    try {
      await rename(tmp, dir);
    } catch {
      await rm(tmp, { recursive: true, force: true }); // another process won the race: use its copy
    }
    return meta;
  }

}

/**
 * Compiles a bundle's core files with every memory capped for a call with
 * `memoryBytes` of linear memory. Used here and by the job runner across a
 * process or VM boundary, so every tier applies the same cap.
 */
export async function compileBundle(bundle: BundleRef, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
  const pages = pagesPerMemory(memoryBytes, bundle.memories ?? 1);
  const modules: Record<string, WebAssembly.Module> = {};
  for (const file of bundle.coreFiles) {
    if (path.basename(file) !== file) throw new CapsuleError('INTERNAL', `bundle core file ${file} is not a plain file name`);
    // Off this thread when large, under a time limit (core-compile.ts).
    modules[file] = await compileCore(capMemories(await readFile(path.join(bundle.dir, file)), pages), file);
  }
  return modules;
}

/**
 * How many times jco's glue instantiates each core file (`instantiateCore(yield moduleN`),
 * at least once each. execute.ts refuses a run that instantiates more than this.
 */
function countInstantiations(glue: string, coreFiles: string[]): Record<string, number> {
  const fileOf = new Map<string, string>();
  for (const m of glue.matchAll(/const (module\d+) = getCoreModule\('([^']+)'\)/g)) fileOf.set(m[1], m[2]);
  const counts: Record<string, number> = Object.fromEntries(coreFiles.map((f) => [f, 0]));
  for (const m of glue.matchAll(/instantiateCore\(yield (module\d+)/g)) {
    const file = fileOf.get(m[1]);
    if (file !== undefined && file in counts) counts[file]++;
  }
  for (const f of coreFiles) counts[f] = Math.max(1, counts[f]);
  return counts;
}

function cacheKey(digest: string, transpilerVersion: string): string {
  return createHash('sha256').update(`${digest}\0${transpilerVersion}\0${LAYOUT}`).digest('hex').slice(0, 32);
}

async function readMeta(dir: string): Promise<CacheMeta | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as CacheMeta;
  } catch {
    return undefined;
  }
}

async function transpilerVersion(): Promise<string> {
  const entry = new URL(import.meta.resolve('@bytecodealliance/jco-transpile'));
  const pkg = JSON.parse(await readFile(new URL('../package.json', entry), 'utf8')) as { version: string };
  return `jco-transpile@${pkg.version}`;
}
