// The process tier: each call in a fresh child process running dist/job-runner.js,
// with Node's permission model (reads only the runner and the bundle; no writes,
// child processes, workers or addons) and, where bubblewrap works, inside a bwrap
// sandbox. A timeout or abort SIGKILLs the child's process group.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Grants, Job, JobResult } from '../../sandbox/job.js';
import { toWire } from '../../sandbox/wire.js';
import { runChildJob } from '../child-job.js';
import type { Probe } from '../probe.js';
import type { TierRunner } from '../tier-runner.js';
import { bwrapArgs, nodePrefix, probeBwrap } from './bwrap.js';
import { nodeArgs, type PermissionFlag, permissionFlag } from './node-flags.js';

// Bundled layout: dist/job-runner.js sits beside the file holding this code.
export const JOB_RUNNER_FILE = fileURLToPath(new URL('./job-runner.js', import.meta.url));

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
    permission ? `node ${permission} (reads: runner and bundle only)` : `node ${process.version} has no permission model`,
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
   * The child reads only the runner and the bundle, and Node's permission model gives it
   * no worker threads (capsule's HTTP client runs in one): a granted path or host would
   * fail inside the guest ("Capabilities insufficient", a raw permission error), so such
   * a call is refused here instead.
   */
  cannotHonour({ grants }: { grants: Grants }): string | undefined {
    const kinds = [
      grants.fs.preopens.length > 0 ? `fs grants (${grants.fs.preopens.join(', ')})` : '',
      grants.net.length > 0 ? `net grants (${grants.net.join(', ')})` : '',
    ].filter((k) => k !== '');
    return kinds.length > 0 ? `the process tier cannot honour ${kinds.join(' or ')}` : undefined;
  }

  run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    const wire = toWire(job);
    const { command, args } = this.command(this.entry, [wire.bundle.dir], job.limits.memoryBytes);
    return runChildJob(
      job,
      { command, args, env: {}, wire, startTimeoutMs: this.opts.startTimeoutMs ?? 30_000, what: 'its child process' },
      signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal,
    );
  }

  /**
   * The child's command line: `node` with permission flags reading only the entry's
   * directory and `readPaths`, inside bwrap when available. Public so tests can run
   * their own probe script under exactly the same sandbox.
   */
  command(entry: string, readPaths: string[], memoryBytes: number): { command: string; args: string[] } {
    const reads = [path.dirname(entry), ...readPaths];
    const node = [process.execPath, ...nodeArgs({ entry, readPaths: reads, memoryBytes, permission: this.sandbox.permission })];
    if (!this.sandbox.bwrap) return { command: process.execPath, args: node.slice(1) };
    const prefix = nodePrefix();
    return { command: this.sandbox.bwrap, args: bwrapArgs({ readOnly: [...reads, ...(prefix ? [prefix] : [])], command: node }) };
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}
