// Finds capabilities: every `<dir>/<id>/capability.json` under the configured
// directories. The directory name must equal the id; an id found twice is an
// error. A broken entry is kept with its error, so one bad plugin neither hides
// the others nor goes unnoticed (`capsule list` shows it, `run` reports it).
// The scan checks each manifest but leaves compiling its input/output schemas
// (the costly part) to the first get() or list() that returns the entry: a run
// compiles only its own capability's schemas, with the same error if one is invalid.
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { digestOf } from './component-file.js';
import { readComponentFile } from './component-file.js';
import { compileSchemas, type Manifest, readManifest } from './manifest.js';

export interface CapabilityEntry {
  id: string;
  dir: string;
  manifestPath: string;
  manifest?: Manifest;
  /** Set when the manifest or directory is wrong; running the id raises it. */
  error?: CapsuleError;
}

export class Registry {
  private constructor(private readonly entries: Map<string, CapabilityEntry>) {}

  static async scan(dirs: string[]): Promise<Registry> {
    const entries = new Map<string, CapabilityEntry>();
    for (const root of dirs) {
      for (const name of await listDirs(root)) {
        const entry = await loadEntry(path.join(root, name), name);
        const previous = entries.get(entry.id);
        if (previous) {
          const error = new CapsuleError('MANIFEST_INVALID', `duplicate capability id ${entry.id}: ${previous.manifestPath} and ${entry.manifestPath}`);
          entries.set(entry.id, { ...previous, error });
          continue;
        }
        entries.set(entry.id, entry);
      }
    }
    return new Registry(entries);
  }

  list(): CapabilityEntry[] {
    return [...this.entries.values()].map(settled).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The valid manifest for `id`, or the error that makes it unusable. */
  get(id: string): { entry: CapabilityEntry; manifest: Manifest } {
    const found = this.entries.get(id);
    if (!found) throw new CapsuleError('CAPABILITY_NOT_FOUND', `no capability with id ${JSON.stringify(id)}`);
    const entry = settled(found);
    if (entry.error) throw entry.error;
    return { entry, manifest: entry.manifest as Manifest };
  }
}

/** Scanned entries whose manifest's schemas are not compiled yet. */
const unsettled = new WeakSet<CapabilityEntry>();

/**
 * The entry with its manifest's input/output schemas compiled, or with the error
 * that compile raised (the manifest dropped, as a manifest that failed at scan has none).
 * The checks run in checkManifest's order: schemas, then the id against the directory name.
 */
function settled(entry: CapabilityEntry): CapabilityEntry {
  if (!unsettled.has(entry)) return entry;
  unsettled.delete(entry);
  const manifest = entry.manifest as Manifest;
  try {
    compileSchemas(manifest, entry.manifestPath);
    checkId(manifest, entry);
  } catch (e) {
    entry.manifest = undefined;
    entry.error = asManifestError(e, entry.manifestPath);
  }
  return entry;
}

async function listDirs(root: string): Promise<string[]> {
  try {
    const items = await readdir(root, { withFileTypes: true });
    return items.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CapsuleError('MANIFEST_INVALID', `cannot read capabilities directory ${root}: ${messageOf(e)}`);
  }
}

async function loadEntry(dir: string, name: string): Promise<CapabilityEntry> {
  const manifestPath = path.join(dir, 'capability.json');
  const entry: CapabilityEntry = { id: name, dir, manifestPath };
  try {
    entry.manifest = await readManifest(manifestPath, { schemas: 'later' });
    unsettled.add(entry);
  } catch (e) {
    entry.error = asManifestError(e, manifestPath);
  }
  return entry;
}

function checkId(manifest: Manifest, entry: CapabilityEntry): void {
  if (manifest.id !== entry.id) {
    throw new CapsuleError(
      'MANIFEST_INVALID',
      `${entry.manifestPath}: /id is ${JSON.stringify(manifest.id)} but its directory is named ${JSON.stringify(entry.id)}; they must be equal`,
      { file: entry.manifestPath, problems: ['/id'] },
    );
  }
}

function asManifestError(e: unknown, manifestPath: string): CapsuleError {
  return e instanceof CapsuleError ? e : new CapsuleError('MANIFEST_INVALID', `${manifestPath}: ${messageOf(e)}`);
}

/** Reads a capability's component, refusing paths that leave its directory and checking the digest pin. */
export async function readComponent(entry: CapabilityEntry, manifest: Manifest): Promise<Uint8Array> {
  if (manifest.component === undefined) {
    throw new CapsuleError('MANIFEST_INVALID', `${entry.manifestPath}: missing field /component`);
  }
  const file = path.resolve(entry.dir, manifest.component);
  let bytes: Uint8Array;
  try {
    const [realDir, realFile] = await Promise.all([realpath(entry.dir), realpath(file)]);
    if (!realFile.startsWith(realDir + path.sep)) {
      throw new CapsuleError('MANIFEST_INVALID', `${entry.manifestPath}: /component resolves outside the capability directory`);
    }
    bytes = await readComponentFile(realFile, `${entry.id}: ${manifest.component}`);
  } catch (e) {
    if (e instanceof CapsuleError) throw e;
    throw new CapsuleError('COMPONENT_INVALID', `${entry.id}: cannot read component ${file}: ${messageOf(e)}`);
  }
  if (manifest.digest !== undefined) {
    const actual = digestOf(bytes);
    if (actual !== manifest.digest) {
      throw new CapsuleError('DIGEST_MISMATCH', `${entry.id}: ${manifest.component} has digest ${actual}, but the manifest pins ${manifest.digest}`, {
        expected: manifest.digest,
        actual,
      });
    }
  }
  return bytes;
}
