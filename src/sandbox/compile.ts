// Turns component bytes into something a tier can instantiate: jco transpile in
// instantiation mode (cached on disk by content hash and jco version, so a new
// process does not transpile again; transpile-cache.ts checks every file's hash),
// and compiled core modules with their memories capped at the call's limit
// (cached in memory per component and limit, cloned to workers instead of
// recompiled per call). The in-memory caches are LRUs with a bound.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CapsuleError } from '../errors.js';
import { Lru } from '../lru.js';
import { digestOf } from '../registry/component-file.js';
import { readComponent } from './component/read.js';
import { compileCore } from './core-compile.js';
import { type ComponentShape, importedFuncs, shapeOf } from './describe.js';
import { type DirectAbi, directAbiOf } from './direct-abi.js';
import { bundleCensus, callLimits, capModule, instrumentModule, type TableDecl } from './limits/index.js';
import type { BundleRef, HostImports } from './job.js';
import { type CacheEntry, readCachedFile, type TamperedEntry, TranspileCache } from './transpile-cache.js';
import { transpileIsolated } from './transpile-host.js';

export interface CompiledComponent {
  digest: string;
  glueUrl: string;
  /** Import names exactly as the glue looks them up. */
  glueImports: string[];
  shape: ComponentShape;
  /** Each imported custom interface's functions (app host functions are checked against them). */
  importFuncs: HostImports;
  /** Set when the component can be called without jco's glue (see direct-abi.ts). */
  directAbi?: DirectAbi;
  /** How this component was obtained: already compiled, from the disk cache, or transpiled now. */
  source: 'memory' | 'disk' | 'transpiled';
  /** The cache directory holding glue and core files (a child process or VM reads it). */
  bundle: BundleRef;
  /** The fuel instrumentation pass over the core files when the component was transpiled, ms. */
  instrumentMs?: number;
}

interface CacheMeta {
  transpiler: string;
  glueImports: string[];
  coreFiles: string[];
  wit: string;
  instantiations: Record<string, number>;
  memories: number;
  tables: Record<string, TableDecl[]>;
  /** How long the fuel instrumentation took when the entry was written, ms. */
  instrumentMs: number;
}

// bump when the cache layout or transpile options change (5: per-file SHA-256 and table
// declarations in meta.json; 6: no directAbi in meta.json, it is read from the component;
// 7: fuel-instrumented core files beside the core files)
const LAYOUT = 7;
const GLUE = 'component.js';

/** Components kept compiled in memory per compiler, and capped module sets (component × memory cap). */
export const DEFAULT_MEMORY_ENTRIES = 256;
const TOUCH_EVERY_MS = 60_000;

export interface CompilerOptions {
  /** Transpile cache directory; default defaultCacheDir(). */
  cacheDir?: string;
  /** Size cap of the disk cache; least-recently-used entries are evicted beyond it. */
  cacheMaxBytes?: number;
  /** Compiled components (and capped module sets) kept in memory; default 256. */
  memoryEntries?: number;
  /** Told when a cache entry no longer matched its recorded hashes (it is transpiled again). */
  onTampered?: (e: CacheTamper) => void;
}

/** A cache entry found modified: which component, where, and which files. */
export interface CacheTamper extends TamperedEntry {
  digest: string;
  origin: string;
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
  private readonly compiled: Lru<string, Promise<CompiledComponent>>;
  private version?: Promise<string>;
  private readonly capped: Lru<string, Promise<Record<string, WebAssembly.Module>>>;
  private readonly cache: TranspileCache;
  private readonly touched: Lru<string, number>;

  private readonly opts: CompilerOptions;

  constructor(options: CompilerOptions | string = {}) {
    const opts = typeof options === 'string' ? { cacheDir: options } : options;
    this.opts = opts;
    this.cache = new TranspileCache(opts.cacheDir ?? defaultCacheDir(), opts.cacheMaxBytes);
    this.compiled = new Lru(opts.memoryEntries ?? DEFAULT_MEMORY_ENTRIES);
    this.capped = new Lru(opts.memoryEntries ?? DEFAULT_MEMORY_ENTRIES);
    this.touched = new Lru(opts.memoryEntries ?? DEFAULT_MEMORY_ENTRIES);
  }

  /** Components held compiled in memory now (bounded by memoryEntries). */
  get memoryEntries(): { compiled: number; capped: number } {
    return { compiled: this.compiled.size, capped: this.capped.size };
  }

  /** Transpile (or read from the cache) once per digest; concurrent callers share the same promise. */
  async transpile(bytes: Uint8Array, origin: string): Promise<CompiledComponent> {
    const digest = digestOf(bytes);
    const known = this.compiled.get(digest);
    if (known) return { ...(await known), source: 'memory' };
    const pending = this.load(bytes, digest, origin);
    this.compiled.set(digest, pending);
    pending.catch(() => this.compiled.deleteIf(digest, pending));
    return pending;
  }

  private async load(bytes: Uint8Array, digest: string, origin: string): Promise<CompiledComponent> {
    checkComponentBytes(bytes, origin);
    this.version ??= transpilerVersion();
    const version = await this.version;
    const key = cacheKey(digest, version);
    const found = await this.cache.read<CacheMeta>(key);
    let entry: CacheEntry<CacheMeta> | undefined = 'hit' in found ? found.hit : undefined;
    const tampered = 'tampered' in found ? found.tampered : entry ? uncovered(entry) : undefined;
    if (tampered) {
      // What is on disk is not what was transpiled: never run it, say so, transpile again.
      this.opts.onTampered?.({ ...tampered, digest, origin });
      await this.cache.remove(key);
      entry = undefined;
    }
    const source = entry ? 'disk' : 'transpiled';
    entry ??= await this.transpileInto(key, bytes, version, origin);
    const { meta, dir, sha256 } = entry;
    // Read from the bytes every time, not kept in the cache: what grants and the world
    // are decided on never comes from a file someone else could have written.
    const info = readComponent(bytes);
    const shape = shapeOf(info, meta.wit);
    // Only import-free, single-module capabilities qualify (direct-abi.ts).
    const directAbi = meta.glueImports.length === 0 && shape.world === 'capability' ? directAbiOf(info, meta.coreFiles) : undefined;
    return {
      digest,
      glueUrl: pathToFileURL(path.join(dir, GLUE)).href,
      glueImports: meta.glueImports,
      shape,
      importFuncs: importedFuncs(info),
      ...(directAbi ? { directAbi } : {}),
      source,
      ...(typeof meta.instrumentMs === 'number' ? { instrumentMs: meta.instrumentMs } : {}),
      bundle: {
        dir,
        glue: GLUE,
        coreFiles: meta.coreFiles,
        instantiations: meta.instantiations,
        memories: meta.memories,
        tables: meta.tables,
        sha256,
      },
    };
  }

  /**
   * Drops `c` from memory and its entry from disk, so the next compile
   * transpiles again: a file of it was found changed where it was loaded.
   */
  async forget(c: CompiledComponent): Promise<void> {
    this.compiled.delete(c.digest);
    for (const key of this.capped.keys()) if (key.startsWith(`${c.digest}/`)) this.capped.delete(key);
    await this.cache.remove(path.basename(c.bundle.dir));
  }

  /**
   * The component's core modules compiled with every memory and table capped for a
   * call with `memoryBytes` (limits/plan.ts), compiled once per component and limit.
   */
  modulesFor(c: CompiledComponent, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
    this.used(c);
    let key: string;
    try {
      // Keyed by the caps, not the byte count: limits that round to the same caps share modules.
      const caps = callLimits(memoryBytes, c.bundle);
      key = `${c.digest}/${caps.pagesPerMemory}/${caps.tableGrowElements}`;
    } catch (e) {
      return Promise.reject(e);
    }
    let modules = this.capped.get(key);
    if (!modules) {
      const pending = compileBundle(c.bundle, memoryBytes);
      this.capped.set(key, pending);
      pending.catch(() => {
        this.capped.deleteIf(key, pending);
        // A file changed after it was checked: next time the component is transpiled again.
        this.compiled.delete(c.digest);
      });
      modules = pending;
    }
    return modules;
  }

  /** Refreshes the disk entry's use time at most once a minute per component (for the size cap's LRU order). */
  private used(c: CompiledComponent): void {
    const now = Date.now();
    const last = this.touched.get(c.digest);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(c.digest, now);
    void this.cache.touch(path.basename(c.bundle.dir));
  }

  private async transpileInto(key: string, bytes: Uint8Array, version: string, origin: string): Promise<CacheEntry<CacheMeta>> {
    // In a disposable process under time and size limits (transpile-host.ts): a hostile
    // component can neither stall this thread nor break jco for later components.
    const { files, imports: glueImports, wit } = await transpileIsolated(bytes, origin);
    const coreFiles = Object.keys(files).filter((f) => f.endsWith('.wasm'));
    const glue = new TextDecoder().decode(fileOf(files, 'component.js'));
    const instantiations = countInstantiations(glue, coreFiles);
    const { memories, tables } = bundleCensus(Object.fromEntries(coreFiles.map((f) => [f, fileOf(files, f)])), instantiations);
    // Instrumented once per component, here, and cached with it (every tier reads the result).
    const started = performance.now();
    const fuelFiles = Object.fromEntries(coreFiles.map((f) => [fuelFileOf(f), instrumentModule(fileOf(files, f))]));
    const instrumentMs = performance.now() - started;
    const meta: CacheMeta = { transpiler: version, glueImports, coreFiles, wit, instantiations, memories, tables, instrumentMs };
    const entryFiles = { ...Object.fromEntries([...coreFiles, GLUE].map((f) => [f, fileOf(files, f)])), ...fuelFiles };
    return this.cache.write(key, entryFiles, meta);
  }
}

/**
 * Where an entry holds a core file with its fuel checks inserted: beside it, under a
 * fixed name, so no map in meta.json (which is not itself hashed) can point a core
 * file at an uninstrumented one.
 */
const fuelFileOf = (coreFile: string) => `${coreFile}.fuel`;

/**
 * Compiles a bundle's core files with fuel checks inserted (limits/fuel.ts: the
 * instrumented file the cache entry holds, written at transpile time so no tier
 * instruments again) and every memory and table capped for a call with `memoryBytes` (limits/plan.ts:
 * tables are counted against it). Used here and by the job runner across a process or
 * VM boundary, so every tier applies the same checks and caps.
 */
export async function compileBundle(bundle: BundleRef, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
  const caps = callLimits(memoryBytes, bundle);
  const modules: Record<string, WebAssembly.Module> = {};
  for (const file of bundle.coreFiles) {
    const source = fuelFileOf(file);
    if (path.basename(file) !== file) {
      throw new CapsuleError('INTERNAL', `bundle core file ${file} is not a plain file name`);
    }
    // Checked again here, where the bytes are compiled: the entry was checked when read, but may have changed since.
    const expected = bundle.sha256 && (Object.hasOwn(bundle.sha256, source) ? bundle.sha256[source] : '');
    const bytes = expected === undefined ? await readFile(path.join(bundle.dir, source)) : await readCachedFile(bundle.dir, source, expected);
    // Off this thread when large, under a time limit (core-compile.ts).
    modules[file] = await compileCore(capModule(bytes, caps), file);
  }
  return modules;
}

/** A file the transpiler must have produced (a missing one is jco's fault, reported as the component's). */
function fileOf(files: Record<string, Uint8Array>, name: string): Uint8Array {
  const bytes = files[name];
  if (bytes === undefined) throw new CapsuleError('COMPONENT_INVALID', `the transpiler produced no ${name}`);
  return bytes;
}

/**
 * How many times jco's glue instantiates each core file (`instantiateCore(yield moduleN`),
 * at least once each. execute.ts refuses a run that instantiates more than this.
 */
function countInstantiations(glue: string, coreFiles: string[]): Record<string, number> {
  const moduleFile = new Map<string, string>();
  for (const [, name = '', file = ''] of glue.matchAll(/const (module\d+) = getCoreModule\('([^']+)'\)/g)) moduleFile.set(name, file);
  const counts: Record<string, number> = Object.fromEntries(coreFiles.map((f) => [f, 0]));
  for (const [, name = ''] of glue.matchAll(/instantiateCore\(yield (module\d+)/g)) {
    const file = moduleFile.get(name);
    if (file !== undefined && file in counts) counts[file] = (counts[file] ?? 0) + 1;
  }
  for (const f of coreFiles) counts[f] = Math.max(1, counts[f] ?? 0);
  return counts;
}

function cacheKey(digest: string, transpilerVersion: string): string {
  return createHash('sha256').update(`${digest}\0${transpilerVersion}\0${LAYOUT}`).digest('hex').slice(0, 32);
}

/**
 * An entry whose meta names a file it has no hash for (the glue, a core file or its fuel file) was
 * edited: every file that runs must be covered.
 */
function uncovered(entry: CacheEntry<CacheMeta>): TamperedEntry | undefined {
  const meta = entry.meta as Partial<CacheMeta>;
  if (!Array.isArray(meta.coreFiles) || typeof meta.wit !== 'string' || !Array.isArray(meta.glueImports)) {
    return { dir: entry.dir, files: ['meta.json'] };
  }
  const files = [...meta.coreFiles, ...meta.coreFiles.map((f) => (typeof f === 'string' ? fuelFileOf(f) : f)), GLUE];
  const missing = files.filter((f) => typeof f !== 'string' || !Object.hasOwn(entry.sha256, f));
  return missing.length > 0 ? { dir: entry.dir, files: missing.map(String) } : undefined;
}

/** Set by scripts/build.mjs in the bundles: jco-transpile is bundled into dist/transpile-host.js, not installed. */
declare const __JCO_TRANSPILE_VERSION__: string | undefined;

async function transpilerVersion(): Promise<string> {
  if (typeof __JCO_TRANSPILE_VERSION__ === 'string') return `jco-transpile@${__JCO_TRANSPILE_VERSION__}`;
  // Run from source (tests import src/): the installed devDependency.
  const entry = new URL(import.meta.resolve('@bytecodealliance/jco-transpile'));
  const pkg = JSON.parse(await readFile(new URL('../package.json', entry), 'utf8')) as { version: string };
  return `jco-transpile@${pkg.version}`;
}
