// Node's permission model for the process tier: `--permission` where this Node has
// it (23.5+, 22.13+), `--experimental-permission` on Node 20/21/early 22. Asked of
// Node itself rather than guessed from the version number.
export type PermissionFlag = '--permission' | '--experimental-permission';

export function permissionFlag(flags: ReadonlySet<string> = process.allowedNodeEnvironmentFlags): PermissionFlag | undefined {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return undefined;
}

export interface NodeChild {
  /** The job runner script. */
  entry: string;
  /** The only paths the child may read (the runner's directory and the component bundle). */
  readPaths: string[];
  heapMiB: number;
  permission?: PermissionFlag;
}

/** Node's own arguments for a process-tier child: no writes, no child processes, no workers, no addons. */
export function nodeArgs(c: NodeChild): string[] {
  const permission = c.permission ? [c.permission, ...c.readPaths.map((p) => `--allow-fs-read=${p}`)] : [];
  return [...permission, `--max-old-space-size=${c.heapMiB}`, '--no-warnings', c.entry];
}

/** The child's JS heap follows the call's memory limit, with a floor Node needs to start at all. */
export function heapMiBFor(memoryBytes: number): number {
  return Math.max(32, Math.ceil(memoryBytes / (1024 * 1024)));
}
