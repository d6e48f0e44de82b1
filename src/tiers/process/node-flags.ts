// Node's permission model for the process tier: `--permission` where this Node has
// it (23.5+, 22.13+), `--experimental-permission` on Node 20/21/early 22. Asked of
// Node itself rather than guessed from the version number.
import { within } from '../../grants/fs.js';

export type PermissionFlag = '--permission' | '--experimental-permission';

export function permissionFlag(flags: ReadonlySet<string> = process.allowedNodeEnvironmentFlags): PermissionFlag | undefined {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return undefined;
}

export interface NodeChild {
  /** The job runner script. */
  entry: string;
  /** The only paths the child may read (the runner's directory, the component bundle, granted paths). */
  readPaths: string[];
  /** The only paths the child may write (writable grants). */
  writePaths?: string[];
  /** The call's memory limit. */
  memoryBytes: number;
  permission?: PermissionFlag;
}

/** Node's own arguments for a process-tier child: writes only where granted; no child processes, workers or addons. */
export function nodeArgs(c: NodeChild): string[] {
  const permission = c.permission
    ? [c.permission, ...outermost(c.readPaths).map((p) => `--allow-fs-read=${p}`), ...outermost(c.writePaths ?? []).map((p) => `--allow-fs-write=${p}`)]
    : [];
  return [...permission, ...limitFlags(c.memoryBytes), '--no-warnings', c.entry];
}

/**
 * `paths` without those below another of them. Needed, not tidiness: given both a
 * directory and a path below it (a cache inside a granted directory), Node 20 denies
 * the directory itself (statSync(dir) fails with ERR_ACCESS_DENIED) while allowing
 * what is below it.
 */
export function outermost(paths: string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((o) => o !== p && within(o, p)));
}

/**
 * The call's memory limit as V8 flags: the JS heap (with a floor Node needs to start
 * at all) and each wasm memory's page count, so `memory.grow` fails at the limit in
 * a child process or VM whatever the compile step did.
 */
export function limitFlags(memoryBytes: number): string[] {
  return [`--max-old-space-size=${heapMiBFor(memoryBytes)}`, `--wasm-max-mem-pages=${wasmPagesFor(memoryBytes)}`];
}

export function heapMiBFor(memoryBytes: number): number {
  return Math.max(32, Math.ceil(memoryBytes / (1024 * 1024)));
}

export function wasmPagesFor(memoryBytes: number): number {
  return Math.max(1, Math.floor(memoryBytes / 65536));
}
