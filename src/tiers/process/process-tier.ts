// The process tier: each call in a fresh child process running dist/job-runner.js,
// with Node's permission model (reads only the runner, the bundle and the granted
// paths; writes only the writable grants; no child processes, workers or addons)
// and, where bubblewrap works, inside a bwrap sandbox with no network, where only
// the granted paths are bound. Its HTTP requests go to the parent over the job
// channel. A timeout or abort SIGKILLs the child's process group.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Grants, Job, JobResult } from '../../sandbox/job.js';
import { toWire } from '../../sandbox/wire.js';
import { runChildJob } from '../child-job.js';
import type { Probe } from '../probe.js';
import type { TierRunner } from '../tier-runner.js';
import { bwrapArgs, nodePrefix, probeBwrap } from './bwrap.js';
import { type ChildFs, childFs } from './fs-grant.js';
import { nodeArgs, type PermissionFlag, permissionFlag } from './node-flags.js';

// Bundled layout: dist/job-runner.js sits beside the file holding this code.
export const JOB_RUNNER_FILE = fileURLToPath(new URL('./job-runner.js', import.meta.url));

const PROC_FDS = '/proc/self/fd';

export interface ProcessTierOptions {
  /** Use bubblewrap when it works here (`auto`, the default) or never (`off`). */
  bwrap?: 'auto' | 'off';
  /** Bound on starting a child and compiling the component; default 30 s. */
  startTimeoutMs?: number;
}

export interface ProcessSandbox {
  permission?: PermissionFlag;
  bwrap?: string;
  /** One line per layer in use or missing, for doctor. */
  notes: string[];
}

export async function probeProcessSandbox(opts: ProcessTierOptions = {}): Promise<{ sandbox: ProcessSandbox; probe: Probe; bwrap: Probe }> {
  const permission = permissionFlag();
  const bwrap: Probe = opts.bwrap === 'off' ? { available: false, reason: 'bwrap off (process.bwrap: off)' } : await probeBwrap();
  const notes = [
    permission ? `node ${permission} (reads: runner, bundle and granted paths only)` : `node ${process.version} has no permission model`,
    bwrap.available ? `bubblewrap ${bwrap.version}` : `no bubblewrap: ${bwrap.reason}`,
  ];
  const sandbox: ProcessSandbox = { permission, bwrap: bwrap.available ? bwrap.path : undefined, notes };
  return { sandbox, probe: { available: true, reason: notes.join('; ') }, bwrap };
}

export class ProcessRunner implements TierRunner {
  /** Aborted by close(): no child outlives its runtime. */
  private readonly closing = new AbortController();

  constructor(
    readonly sandbox: ProcessSandbox,
    private readonly opts: ProcessTierOptions = {},
    private readonly entry = JOB_RUNNER_FILE,
  ) {}

  static async create(opts: ProcessTierOptions = {}): Promise<ProcessRunner> {
    return new ProcessRunner((await probeProcessSandbox(opts)).sandbox, opts);
  }

  /**
   * Grants are honoured: granted paths are bound and allowed to Node (process/fs-grant.ts)
   * and capsule's WASI in the child applies the rest of the fs rules; HTTP goes through
   * the parent under the same allowlist (sandbox/net/relay.ts). Refused: a granted path
   * that resolves to a name Node's permission flags would read as a pattern; and any fs
   * or net grant where neither bubblewrap nor Node's permission model is here, since the
   * child would then hold the host's whole filesystem and network, and only its wasm
   * would stand between them and the guest (no stronger than the worker tier, which the
   * caller did not ask for). run() reads the disk again, when it starts the child.
   */
  cannotHonour({ grants }: { grants: Grants }): string | undefined {
    if (!this.sandbox.bwrap && !this.sandbox.permission) {
      const what = [grants.fs.preopens.length + grants.fs.read.length + grants.fs.write.length > 0 ? 'fs' : '', grants.net.length > 0 ? 'net' : ''].filter(
        Boolean,
      );
      if (what.length > 0) {
        return `the process tier has neither bubblewrap nor Node's permission model here, so it cannot confine the ${what.join(' and ')} grant to what is granted`;
      }
    }
    const { unsafe } = childFs(grants.fs);
    if (unsafe.length > 0) {
      return `the process tier cannot pass ${unsafe.join(', ')} to Node's permission model (a * there is a wildcard, which would grant more)`;
    }
    return undefined;
  }

  run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    const wire = toWire(job);
    const { command, args } = this.command(this.entry, [wire.bundle.dir], job.limits.memoryBytes, childFs(job.grants.fs));
    return runChildJob(
      job,
      { command, args, env: {}, wire, startTimeoutMs: this.opts.startTimeoutMs ?? 30_000, what: 'its child process', netViaParent: true },
      signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal,
    );
  }

  /**
   * The child's command line: `node` with permission flags reading only the entry's
   * directory, `readPaths` and the granted paths (writing only the writable ones), inside
   * bwrap when available. Public so tests can run their own probe script under exactly
   * the same sandbox.
   */
  command(entry: string, readPaths: string[], memoryBytes: number, fs?: ChildFs): { command: string; args: string[] } {
    const reads = [path.dirname(entry), ...readPaths];
    // capsule's WASI checks where an opened descriptor really is (/proc/self/fd): a denied readlink would skip that check.
    const granted = fs && fs.read.length > 0 ? [...fs.read, PROC_FDS] : [];
    const node = [
      process.execPath,
      ...nodeArgs({ entry, readPaths: [...reads, ...granted], writePaths: fs?.write, memoryBytes, permission: this.sandbox.permission }),
    ];
    if (!this.sandbox.bwrap) return { command: process.execPath, args: node.slice(1) };
    const prefix = nodePrefix();
    const readOnly = [...reads, ...(prefix ? [prefix] : [])];
    return { command: this.sandbox.bwrap, args: bwrapArgs({ readOnly, grants: fs?.binds, symlinks: fs?.symlinks, command: node }) };
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}
