// The runners a Runtime uses, one per tier, created on first use. Probing (bwrap,
// VM runner CLIs) happens once per runtime, off every call's path after the first.
import { CapsuleError } from '../errors.js';
import type { HostTable } from '../host-functions.js';
import type { Tier } from '../policy/tier.js';
import type { ContainerJob, Job, JobResult } from '../sandbox/job.js';
import { InlineRunner } from './inline.js';
import { ProcessRunner, type ProcessSandbox, type ProcessTierOptions, probeProcessSandbox } from './process/process-tier.js';
import type { TierRunner } from './tier-runner.js';
import { VmRunner } from './vm/vm-tier.js';
import { selectVm, type VmOptions, type VmSelection } from './vm/select.js';
import { checkVmCpus } from './vm/spec.js';
import { type PoolOptions, WorkerRunner } from './worker.js';

export interface RunnerOptions {
  pool?: PoolOptions;
  vm?: VmOptions;
  process?: ProcessTierOptions;
  /** The app's host functions (worker and inline tiers call them). */
  host?: HostTable;
  /** What a runner has to say about one call (e.g. memory raised to a runner's minimum). */
  onNote?: (capabilityId: string, note: string) => void;
  /**
   * A worker pool started before the runtime, used as the worker tier (and closed with
   * it): `capsule run` starts its thread while the rest of its code is still loading.
   */
  worker?: WorkerRunner;
}

export class Runners {
  private readonly runners = new Map<Tier, TierRunner>();
  private vmSelection?: Promise<VmSelection>;
  private processSandbox?: Promise<ProcessSandbox>;
  private vmRunner?: VmRunner;
  private closed = false;

  constructor(private readonly opts: RunnerOptions = {}) {
    // Refused when the runtime is created, not at its first VM call.
    checkVmCpus(opts.vm?.cpus);
  }

  /** Which VM runner (if any) serves the vm tier here, and why. */
  vm(): Promise<VmSelection> {
    this.vmSelection ??= selectVm(this.opts.vm);
    return this.vmSelection;
  }

  /** The process tier's layers: Node permission flags, bubblewrap when it works. */
  process(): Promise<ProcessSandbox> {
    this.processSandbox ??= probeProcessSandbox(this.opts.process).then((p) => p.sandbox);
    return this.processSandbox;
  }

  /** The worker tier's runner, synchronously (to start the pool early). */
  worker(): TierRunner {
    return this.cached('worker', () => this.opts.worker ?? new WorkerRunner(this.opts.pool, undefined, this.opts.host));
  }

  /** The worker pool if one has been started (monitoring must not start one). */
  startedWorker(): WorkerRunner | undefined {
    return this.runners.get('worker') as WorkerRunner | undefined;
  }

  async get(tier: Tier): Promise<TierRunner> {
    const known = this.runners.get(tier);
    if (known) return known;
    if (tier === 'inline') return this.cached(tier, () => new InlineRunner(this.opts.host));
    if (tier === 'worker') return this.worker();
    if (tier === 'process') {
      const sandbox = await this.process();
      return this.cached(tier, () => new ProcessRunner(sandbox, this.opts.process));
    }
    return this.container();
  }

  /**
   * Runs a job in `tier`'s runner. A container capability's job goes to the VM runner,
   * the only one that runs images (its tier is always vm: policy/tier.ts requiredTier).
   */
  async run(tier: Tier, job: Job | ContainerJob, signal?: AbortSignal): Promise<JobResult> {
    if ('image' in job) {
      const vm = await this.container();
      this.assertOpen(job.capabilityId);
      return vm.run(job, signal);
    }
    const runner = await this.get(tier);
    // close() may have run while the runner was found (a probe, a load): a job started now would outlive it.
    this.assertOpen(job.capabilityId);
    return runner.run(job, signal);
  }

  private assertOpen(id: string): void {
    if (this.closed) throw new CapsuleError('ABORTED', `${id}: the runtime was closed before the call ran`);
  }

  async container(): Promise<VmRunner> {
    const selection = await this.vm();
    if (!selection.cli) throw new CapsuleError('ESCALATION_UNAVAILABLE', selection.reason);
    if (!this.vmRunner) {
      this.assertOpen('the vm tier');
      this.vmRunner = new VmRunner(selection.cli, this.opts.vm, this.opts.onNote);
      this.runners.set('vm', this.vmRunner);
    }
    return this.vmRunner;
  }

  private cached(tier: Tier, make: () => TierRunner): TierRunner {
    let r = this.runners.get(tier);
    if (!r) {
      // A runner made after close() would never be closed (a pool's threads, a child).
      this.assertOpen(`the ${tier} tier`);
      r = make();
      this.runners.set(tier, r);
    }
    return r;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.runners.values()].map((r) => r.close()));
    this.runners.clear();
  }
}
