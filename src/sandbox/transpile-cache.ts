// The transpile cache on disk: one directory per component and transpiler
// version, holding jco's glue (which runs with full Node access in a worker) and
// the core modules. What runs must be what was transpiled, so:
// - the cache directory must be the user's own and writable by nobody else
//   (refused otherwise, as ssh refuses a key file others could change), created 0700;
// - entries are written read-only (files 0444, directory 0555), atomically (a
//   private directory renamed into place), with each file's SHA-256 in meta.json;
// - reading an entry checks every file against those hashes, and whoever loads a
//   file later (compileBundle, the glue loader in a worker or child process)
//   checks it again against the hash carried in the job, so a file swapped
//   between the check and its use is refused too;
// - the directory is kept under a size cap by evicting least-recently-used
//   entries (a read refreshes an entry's mtime).
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, realpath, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';

export const DEFAULT_CACHE_MAX_BYTES = 1024 ** 3;
/** After an eviction the cache is brought to this share of its cap, so the next write does not evict again. */
const EVICT_TO = 0.9;
/** Entry directory names: the first 32 hex digits of a SHA-256 (see compile.ts cacheKey). */
const ENTRY = /^[0-9a-f]{32}$/;
/** Leftovers of an interrupted write or removal; only names capsule makes are ever removed. */
const LEFTOVER = /^([0-9a-f]{32}\.tmp-|\.trash-)[0-9a-z-]+$/;
const META = 'meta.json';

export interface CacheEntry<M> {
  dir: string;
  meta: M;
  /** SHA-256 (hex) of each file of the entry, as recorded when it was written and checked now. */
  sha256: Record<string, string>;
}

/** An entry whose files no longer match the hashes recorded when it was written. */
export interface TamperedEntry {
  dir: string;
  /** The files that differ, are missing, or `meta.json` when the record itself is unreadable. */
  files: string[];
}

export type CacheRead<M> = { hit: CacheEntry<M> } | { tampered: TamperedEntry } | { miss: true };

interface StoredMeta<M> {
  meta: M;
  sha256: Record<string, string>;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks bytes read from a cache entry against the hash recorded for them; used
 * where a file is loaded to run (compileBundle, the glue loader).
 */
export function checkCachedFile(dir: string, file: string, bytes: Uint8Array | string, expected: string | undefined): void {
  if (expected === undefined) return; // a bundle without recorded hashes: nothing to check against
  const actual = sha256Hex(bytes);
  if (actual !== expected) {
    throw new CapsuleError(
      'DIGEST_MISMATCH',
      `transpile cache file ${path.join(dir, file)} changed after it was checked (sha256 ${actual}, recorded ${expected}); it was not run`,
      { file, expected, actual },
    );
  }
}

/**
 * Reads a file of a cache entry to use it, checked against its recorded hash.
 * A file that is gone (the entry was evicted or cleaned since it was read) is
 * INTERNAL with `details.cacheEntryGone`, so the runtime can drop the component
 * and transpile it again on the next call.
 */
export async function readCachedFile(dir: string, file: string, expected: string | undefined): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, file));
  } catch (e) {
    throw new CapsuleError(
      'INTERNAL',
      `transpile cache file ${path.join(dir, file)} cannot be read (evicted or removed since it was checked?): ${messageOf(e)}; the next call transpiles it again`,
      {
        file,
        cacheEntryGone: true,
      },
    );
  }
  checkCachedFile(dir, file, bytes, expected);
  return bytes;
}

/** `$CAPSULE_CACHE_MAX_BYTES` as a number of bytes (`512MiB`, `2G`, `1073741824`), or undefined. */
export function cacheMaxBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.CAPSULE_CACHE_MAX_BYTES;
  if (text === undefined || text === '') return undefined;
  const n = parseSize(text);
  if (n === undefined || n <= 0) {
    throw new CapsuleError('USAGE', `CAPSULE_CACHE_MAX_BYTES=${JSON.stringify(text)}: expected a positive size such as 1073741824 or 512MiB`);
  }
  return n;
}

function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * scale);
}

/**
 * Creates the cache directory (0700) if needed and refuses one that another
 * user could change: not a directory, not owned by this user, writable by group
 * or others, or below a directory that someone other than this user or root
 * owns or can write without the sticky bit (so could rename it away).
 */
export async function ensureCacheDir(dir: string): Promise<void> {
  try {
    await checkCacheDir(dir);
  } catch (e) {
    if (e instanceof CapsuleError) throw e;
    throw new CapsuleError('USAGE', `cannot check the transpile cache ${dir}: ${messageOf(e)} (set CAPSULE_CACHE_DIR or cacheDir to a directory you own)`);
  }
}

async function checkCacheDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CapsuleError('USAGE', `cannot create the transpile cache ${dir}: ${messageOf(e)} (set CAPSULE_CACHE_DIR or cacheDir to a directory you own)`);
  }
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no POSIX owners or modes to check
  const real = await realpath(dir);
  const own = await stat(real);
  if (!own.isDirectory()) throw unsafe(dir, 'is not a directory', 'set CAPSULE_CACHE_DIR or cacheDir to a directory');
  if (own.uid !== uid) {
    throw unsafe(dir, `is owned by uid ${own.uid}, not by this user (uid ${uid})`, `use a directory of your own (CAPSULE_CACHE_DIR or cacheDir)`);
  }
  if ((own.mode & 0o022) !== 0) {
    throw unsafe(dir, `is writable by ${writers(own.mode)} (mode ${octal(own.mode)})`, `chmod go-w ${shellQuote(real)}`);
  }
  for (let p = path.dirname(real); ; p = path.dirname(p)) {
    const s = await stat(p);
    if (s.uid !== uid && s.uid !== 0) {
      throw unsafe(dir, `is inside ${p}, owned by uid ${s.uid} (neither this user nor root), who could replace it`, 'use a directory under your own home');
    }
    if ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0) {
      throw unsafe(
        dir,
        `is inside ${p}, writable by ${writers(s.mode)} without the sticky bit (mode ${octal(s.mode)}), so another user could replace it`,
        `chmod go-w ${shellQuote(p)}, or use a directory under your own home`,
      );
    }
    if (path.dirname(p) === p) break;
  }
}

function unsafe(dir: string, what: string, fix: string): CapsuleError {
  return new CapsuleError('USAGE', `transpile cache ${dir} ${what}: capsule runs code from it, so it refuses to use it; fix: ${fix}`, { cacheDir: dir });
}

function writers(mode: number): string {
  return [(mode & 0o020) !== 0 ? 'its group' : '', (mode & 0o002) !== 0 ? 'all users' : ''].filter(Boolean).join(' and ');
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

function shellQuote(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

export class TranspileCache {
  private ready?: Promise<void>;
  /** Bytes in the cache as last counted plus what this process wrote since; undefined until first counted. */
  private known?: number;

  constructor(
    readonly root: string,
    readonly maxBytes = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  /** Checks (once) that the directory is safe to run code from; see ensureCacheDir. */
  prepare(): Promise<void> {
    this.ready ??= ensureCacheDir(this.root);
    this.ready.catch(() => (this.ready = undefined)); // fixed by the user: check again next time
    return this.ready;
  }

  entryDir(key: string): string {
    return path.join(this.root, key);
  }

  /** The entry for `key` with every file checked against its recorded hash. */
  async read<M>(key: string): Promise<CacheRead<M>> {
    await this.prepare();
    const dir = this.entryDir(key);
    let text: string;
    try {
      text = await readFile(path.join(dir, META), 'utf8');
    } catch {
      return { miss: true };
    }
    const stored = parseStored<M>(text);
    if (!stored) return { tampered: { dir, files: [META] } };
    const bad: string[] = [];
    for (const [file, expected] of Object.entries(stored.sha256)) {
      try {
        if (sha256Hex(await readFile(path.join(dir, file))) !== expected) bad.push(file);
      } catch {
        // Evicted by another process between reading meta.json and this file: a miss, not a tamper.
        if (!(await exists(path.join(dir, META)))) return { miss: true };
        bad.push(file);
      }
    }
    if (bad.length > 0) return { tampered: { dir, files: bad } };
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined); // most recently used: evicted last
    return { hit: { dir, meta: stored.meta, sha256: stored.sha256 } };
  }

  /**
   * Writes an entry read-only and atomically, replacing whatever is at `key`
   * (a tampered entry), then evicts least-recently-used entries over the cap.
   */
  async write<M>(key: string, files: Record<string, Uint8Array>, meta: M): Promise<CacheEntry<M>> {
    await this.prepare();
    const dir = this.entryDir(key);
    const sha256: Record<string, string> = {};
    let size = 0;
    for (const [file, bytes] of Object.entries(files)) {
      if (path.basename(file) !== file || file === META) throw new CapsuleError('INTERNAL', `cache file name ${file} is not a plain file name`);
      sha256[file] = sha256Hex(bytes);
      size += bytes.byteLength;
    }
    const stored: StoredMeta<M> = { meta, sha256 };
    const tmp = path.join(this.root, `${key}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(tmp, { mode: 0o700 });
      for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(tmp, file), bytes, { mode: 0o444, flag: 'wx' });
      const metaText = JSON.stringify(stored);
      await writeFile(path.join(tmp, META), metaText, { mode: 0o444, flag: 'wx' });
      size += Buffer.byteLength(metaText);
      if (!(await this.place(tmp, key))) {
        // Another process wrote the same entry first: use it if it checks out.
        const other = await this.read<M>(key);
        if ('hit' in other) return other.hit;
        await this.remove(key);
        if (!(await this.place(tmp, key))) throw new CapsuleError('INTERNAL', `cannot write the transpile cache entry ${dir}`);
      }
    } catch (e) {
      if (e instanceof CapsuleError) throw e;
      throw new CapsuleError('INTERNAL', `cannot write the transpile cache entry ${dir}: ${messageOf(e)}`);
    } finally {
      await removeTree(tmp);
    }
    await this.account(size, key);
    return { dir, meta, sha256 };
  }

  /** Renames the finished private directory into place; false when something is already there. */
  private async place(tmp: string, key: string): Promise<boolean> {
    const dir = this.entryDir(key);
    try {
      await rename(tmp, dir);
    } catch {
      return false;
    }
    await chmod(dir, 0o555);
    return true;
  }

  /** Marks the entry as used now, so the size cap evicts others first (a runtime holding it in memory does not read it again). */
  async touch(key: string): Promise<void> {
    const now = new Date();
    await utimes(this.entryDir(key), now, now).catch(() => undefined);
  }

  /** Removes the entry at `key` (renamed away first, so readers see all of it or none). */
  async remove(key: string): Promise<void> {
    await removeEntry(this.root, key);
  }

  private async account(bytes: number, keep: string): Promise<void> {
    this.known = this.known === undefined ? (await scan(this.root)).reduce((n, e) => n + e.bytes, 0) : this.known + bytes;
    if (this.known > this.maxBytes) this.known = await evict(this.root, this.maxBytes, keep);
  }
}

interface ScannedEntry {
  name: string;
  bytes: number;
  usedMs: number;
}

async function scan(root: string): Promise<ScannedEntry[]> {
  const out: ScannedEntry[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!ENTRY.test(name)) continue;
    try {
      const dir = path.join(root, name);
      const s = await lstat(dir);
      if (!s.isDirectory()) continue;
      let bytes = 0;
      for (const f of await readdir(dir)) bytes += (await lstat(path.join(dir, f))).size;
      out.push({ name, bytes, usedMs: s.mtimeMs });
    } catch {
      // removed while we looked: not there
    }
  }
  return out;
}

/** Removes least-recently-used entries (never `keep`) until the cache is under EVICT_TO of `maxBytes`; returns the bytes left. */
export async function evict(root: string, maxBytes: number, keep?: string): Promise<number> {
  const entries = (await scan(root)).sort((a, b) => a.usedMs - b.usedMs);
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  if (total <= maxBytes) return total;
  for (const e of entries) {
    if (total <= maxBytes * EVICT_TO) break;
    if (e.name === keep) continue;
    await removeEntry(root, e.name);
    total -= e.bytes;
  }
  return total;
}

export interface CacheInfo {
  dir: string;
  entries: number;
  bytes: number;
}

/** What `capsule cache` prints: where the cache is, how many entries, how many bytes. */
export async function cacheInfo(dir: string): Promise<CacheInfo> {
  const entries = await scan(dir);
  return { dir, entries: entries.length, bytes: entries.reduce((n, e) => n + e.bytes, 0) };
}

/** Removes every entry (and leftovers of interrupted writes); touches nothing else in the directory. */
export async function cleanCache(dir: string): Promise<CacheInfo> {
  const before = await cacheInfo(dir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return before;
  }
  for (const name of names) {
    if (ENTRY.test(name)) await removeEntry(dir, name);
    else if (LEFTOVER.test(name)) await removeTree(path.join(dir, name));
  }
  return before;
}

async function removeEntry(root: string, name: string): Promise<void> {
  const trash = path.join(root, `.trash-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await rename(path.join(root, name), trash);
  } catch {
    return; // already gone
  }
  await removeTree(trash);
}

/** rm -r of a directory whose entries are read-only (its mode is restored to writable first). */
async function removeTree(dir: string): Promise<void> {
  try {
    const s = await lstat(dir);
    if (s.isDirectory()) await chmod(dir, 0o700);
  } catch {
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

function parseStored<M>(text: string): StoredMeta<M> | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredMeta<M>>;
    if (typeof v !== 'object' || v === null || typeof v.meta !== 'object' || v.meta === null) return undefined;
    const sha = v.sha256;
    if (typeof sha !== 'object' || sha === null) return undefined;
    for (const [file, hex] of Object.entries(sha)) {
      if (path.basename(file) !== file || file === META || typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return undefined;
    }
    return v as StoredMeta<M>;
  } catch {
    return undefined;
  }
}

/** Removes a whole cache directory (a temporary one: bench, tests), read-only entries included. */
export async function removeCacheDir(dir: string): Promise<void> {
  await cleanCache(dir);
  await removeTree(dir);
}
