// The VM tier: one container (one lightweight VM with Apple's `container`, or an
// OCI runtime such as kata under docker/podman) per call. Every CLI call has its own
// wall-clock bound, the container has a name chosen before it starts, and it is
// deleted by that name whatever happened (`container run` can hang: APPLE_CONTAINER.md).
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError } from '../../errors.js';
import { mountModes } from '../../grants/fs.js';
import type { NetRules } from '../../grants/net.js';
import type { ContainerJob, DeniedAccess, Grants, Job, JobResult, Limits } from '../../sandbox/job.js';
import { toWire } from '../../sandbox/wire.js';
import { childFailure, runChildJob } from '../child-job.js';
import { CallDeadline } from '../deadline.js';
import { type BoundedExit, type Exit, runBounded, spawnGroup } from '../exec.js';
import { limitFlags } from '../process/node-flags.js';
import { JOB_RUNNER_FILE } from '../process/process-tier.js';
import type { TierRunner } from '../tier-runner.js';
import { APPLE_SINGLE_FILE_MOUNTS, appleDeleteArgv, appleMemory, appleRunArgv, versionBelow } from './apple-container.js';
import { type EgressNetwork, ensureEgressNetwork } from './egress-network.js';
import { type EgressProxy, startEgressProxy } from './egress-proxy.js';
import { writeEnvFile } from './env-file.js';
import { inspectImage, pinnedDigest } from './image.js';
import { type OciCli, ociDeleteArgv, ociRunArgv } from './oci.js';
import {
  checkVmCpus,
  type ContainerSpec,
  containerName,
  grantMounts,
  handshakeCommand,
  memoryMiB,
  NODE_OVERHEAD_MIB,
  networkGranted,
  READY_MARKER,
} from './spec.js';

export type VmRunnerKind = 'apple-container' | OciCli;

export interface ContainerCli {
  kind: VmRunnerKind;
  /** The CLI to run (absolute path, or a name looked up on PATH). */
  command: string;
  /** What `--version` said, when the probe read it (features depend on it: APPLE_SINGLE_FILE_MOUNTS). */
  version?: string;
  /**
   * `container` for docker/podman without a VM runtime (plain runc): it runs container
   * capabilities, labelled so, but never satisfies an escalation that needs a VM
   * (src/runtime.ts resolveTier). Default `vm`.
   */
  isolation?: 'vm' | 'container';
}

/** How a plain container is named where a tier's runner is shown (stats.tierDecision.runner, inspect). */
export function runnerLabel(cli: ContainerCli): string {
  return cli.isolation === 'container' ? `${cli.kind} (container, not a VM)` : cli.kind;
}

export interface VmConfig {
  /** Image holding Node and dist/job-runner.js (see Containerfile); default `capsule-runner`. */
  image?: string;
  /**
   * docker/podman: run from this host root (`--rootfs DIR:O`, an overlay discarded
   * after the run) instead of an image, for wasm jobs and container capabilities alike.
   * For hosts that cannot pull images (these CI machines); the image is ignored then.
   */
  rootfs?: string;
  /** docker/podman `--runtime` (kata, runsc, krun, runc). */
  runtime?: string;
  cpus?: number;
  /** Pass --memory (default true). Some hosts' cgroups refuse limits (see README). */
  memoryLimit?: boolean;
  /** Bound on starting the container and compiling, before the guest's clock starts; default 60 s. */
  startTimeoutMs?: number;
  /** Bound on `delete --force` / `rm -f`; default 15 s. */
  deleteTimeoutMs?: number;
  /**
   * docker/podman: the internal network a container capability with net grants joins,
   * created on first use (egress-network.ts); default `capsule-egress`.
   */
  egressNetwork?: string;
}

/** Where the Containerfile puts the job runner in the image. */
export const IMAGE_JOB_RUNNER = '/capsule/app/job-runner.js';

/** Where the component bundle appears inside the VM. */
export const BUNDLE_TARGET = '/capsule/bundle';

export interface ContainerOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What the egress proxy refused (hosts not granted, limits hit). */
  denials: DeniedAccess[];
}

/** A call's way out: its proxy, the network it listens on, and the env that points the container at it. */
interface Egress {
  network: string;
  proxy: EgressProxy;
  env: Record<string, string>;
}

/** The granted paths that are files, not directories (each becomes a single-file bind mount). */
function fileGrants(grants: Grants): string[] {
  return mountModes(grants.fs)
    .map((m) => m.path)
    .filter((p) => {
      try {
        return !statSync(p).isDirectory();
      } catch {
        return false; // gone: the CLI's own error says so at the run
      }
    });
}

export class VmRunner implements TierRunner {
  /** Aborted by close(): in-flight containers are killed and deleted. */
  private readonly closing = new AbortController();
  /**
   * The egress network, found (or made) once per runner: every net-granted call would
   * otherwise spawn the CLI for `network inspect`. A failure is not kept, so the next
   * call asks again.
   */
  private egressNetwork?: Promise<EgressNetwork>;
  /** Notes about the last calls (e.g. memory raised to Apple's minimum); each also goes to `onNote`. */
  readonly notes: string[] = [];

  constructor(
    readonly cli: ContainerCli,
    private readonly config: VmConfig = {},
    private readonly onNote?: (capabilityId: string, note: string) => void,
  ) {
    checkVmCpus(config.cpus);
  }

  /**
   * A wasm job keeps capsule's WASI inside the VM, which applies the per-host rules. A
   * container capability's own traffic goes through the call's egress proxy on an
   * internal network (docker/podman); Apple `container` has no internal network the
   * proxy could guard, so net grants are refused there rather than widened to the
   * whole network. Nor has a container fuel checks: a CPU or fuel budget (limits.cpuMs, limits.fuel) is refused
   * for it rather than ignored.
   */
  cannotHonour({ grants, limits }: { grants: Grants; limits: Limits }, native: boolean): string | undefined {
    const files = this.cli.kind === 'apple-container' && versionBelow(this.cli.version ?? '0', APPLE_SINGLE_FILE_MOUNTS) ? fileGrants(grants) : [];
    if (files.length > 0) {
      return `a grant of a single file (${files.join(', ')}) is mounted as that file, which Apple container ${this.cli.version ?? '(unknown version)'} cannot do before ${APPLE_SINGLE_FILE_MOUNTS} (the run fails with "Not a directory"); upgrade container, or grant the directory`;
    }
    if (!native) return undefined;
    if (networkGranted(grants) && this.cli.kind === 'apple-container') {
      return `Apple container cannot limit a container to the granted hosts (${grants.net.join(', ')}): it would reach the whole network (net grants for container capabilities need docker or podman, whose internal network routes only to capsule's egress proxy)`;
    }
    const budgets = [limits.cpuMs === undefined ? '' : `cpuMs ${limits.cpuMs}`, limits.fuel === undefined ? '' : `fuel ${limits.fuel}`].filter(Boolean);
    if (budgets.length > 0) return `a container cannot be held to a CPU or fuel budget (${budgets.join(', ')}): only wasm guests have fuel checks`;
    return undefined;
  }

  /** A component's Job runs in the job runner inside the VM; a container capability's, as its image's command. */
  async run(job: Job | ContainerJob, signal?: AbortSignal): Promise<JobResult> {
    if ('image' in job) {
      const out = await this.runCommand(job, signal);
      const outcome = { ok: true as const, value: '', exitCode: out.exitCode };
      return { outcome, stdout: out.stdout, stderr: out.stderr, truncated: false, logs: [], denials: out.denials, memoryBytes: 0 };
    }
    const bundleDir = toWire(job).bundle.dir;
    const wire = toWire(job, BUNDLE_TARGET);
    const spec = this.spec(job.capabilityId, {
      image: this.config.image ?? 'capsule-runner',
      // The image's entrypoint is `node`; the runner passes the limits and the script.
      command: this.config.rootfs
        ? [process.execPath, ...limitFlags(job.limits.memoryBytes), JOB_RUNNER_FILE]
        : [...limitFlags(job.limits.memoryBytes), IMAGE_JOB_RUNNER],
      memoryMiB: memoryMiB(job.limits.memoryBytes, NODE_OVERHEAD_MIB),
      mounts: [
        { source: bundleDir, target: BUNDLE_TARGET, readonly: true },
        // From a host root, the runner is reached at its own path; bind it so a
        // checkout under /tmp is not hidden by the container's fresh /tmp.
        ...(this.config.rootfs ? [{ source: path.dirname(JOB_RUNNER_FILE), target: path.dirname(JOB_RUNNER_FILE), readonly: true }] : []),
        ...grantMounts(job.grants, false, job.capabilityId),
      ],
      // A wasm guest's env grant travels inside the job, on stdin.
      network: networkGranted(job.grants),
    });
    if (!this.config.rootfs) await this.verifyImage(job.capabilityId, spec.image);
    const what = `container ${spec.name}`;
    const startFailure = (exit: Exit) => this.startFailure(job.capabilityId, spec.name, exit);
    try {
      return await runChildJob(
        job,
        { command: this.cli.command, args: this.runArgv(spec), env: process.env, wire, startTimeoutMs: this.startTimeout(), what, startFailure },
        this.withClose(signal),
      );
    } finally {
      await this.remove(spec.name);
    }
  }

  /** A container capability: stdin in, stdout/stderr/exit code out, bounded by timeout + start time. */
  async runCommand(call: ContainerJob, callerSignal?: AbortSignal): Promise<ContainerOutput> {
    const signal = this.withClose(callerSignal);
    const mounts = grantMounts(call.grants, true, call.capabilityId);
    await this.verifyImage(call.capabilityId, call.image);
    const egress = networkGranted(call.grants) ? await this.startEgress(call.capabilityId, call.grants, call.limits.connections) : undefined;
    try {
      const spec = this.spec(call.capabilityId, {
        image: call.image,
        ...handshakeCommand([...call.command, ...(call.input.args ?? [])]),
        memoryMiB: memoryMiB(call.limits.memoryBytes),
        mounts,
        network: egress !== undefined,
        networkName: egress?.network,
      });
      // The proxy's URL holds the call's secret: it travels in the 0600 env file, never on the command line.
      const envFile = await writeEnvFile(call.capabilityId, { ...(call.input.env ?? {}), ...call.grants.env, ...egress?.env });
      try {
        const out = await this.runContainer(call, { ...spec, envFile: envFile?.path }, signal);
        return { ...out, denials: [...(egress?.proxy.denials ?? [])] };
      } finally {
        await envFile?.remove();
      }
    } finally {
      await egress?.proxy.close();
    }
  }

  /**
   * The call's egress proxy, listening where the container reaches the host: the
   * gateway of capsule's internal network. That bridge may appear only when the first
   * container joins it, so the proxy listens on all addresses and accepts only what
   * arrives at the gateway address (and carries the call's secret).
   */
  private async startEgress(id: string, rules: NetRules, connections: number | undefined): Promise<Egress> {
    if (this.cli.kind === 'apple-container') throw new CapsuleError('INTERNAL', `${id}: net grants reached the Apple container runner`);
    const kind = this.cli.kind;
    this.egressNetwork ??= ensureEgressNetwork(kind, this.cli.command, this.startTimeout(), this.config.egressNetwork).catch((e: unknown) => {
      this.egressNetwork = undefined;
      throw e;
    });
    const network = await this.egressNetwork;
    const proxy = await startEgressProxy({ rules, maxConnections: connections, listenHost: '0.0.0.0', acceptOn: network.gateway });
    const url = proxy.url(network.gateway);
    // Tools differ in which spelling they read (curl ignores upper-case HTTP_PROXY): set all four.
    return { network: network.name, proxy, env: { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url } };
  }

  private async runContainer(call: ContainerJob, spec: ContainerSpec, signal: AbortSignal): Promise<Omit<ContainerOutput, 'denials'>> {
    const bound = call.limits.timeoutMs + this.startTimeout();
    const child = spawnGroup(this.cli.command, this.runArgv(spec), {
      input: call.input.stdin ?? '',
      env: process.env,
      maxStdoutBytes: call.limits.outputBytes,
      maxStderrBytes: call.limits.outputBytes,
    });
    // A container says nothing when its command starts: one bound covers both stages.
    const deadline = new CallDeadline(bound, call.limits.timeoutMs, () => child.kill(), signal);
    try {
      const exit = await child.done;
      const id = call.capabilityId;
      if (deadline.stopped === 'aborted') throw new CapsuleError('ABORTED', `${id}: the caller aborted the call`);
      if (deadline.stopped !== undefined) {
        throw new CapsuleError(
          'TIMEOUT',
          `${id}: no result within ${call.limits.timeoutMs} ms (+ ${this.startTimeout()} ms to start); container ${spec.name} was killed`,
        );
      }
      if (exit.overflow) {
        throw new CapsuleError('OUTPUT_TOO_LARGE', `${id}: output over the limit of ${call.limits.outputBytes} bytes`);
      }
      const marker = exit.stderr.indexOf(`${READY_MARKER}\n`);
      if (marker < 0) {
        // Never reached the command: the CLI's failure, whatever its exit code.
        if (exit.code === 0) {
          throw new CapsuleError('INTERNAL', `${id}: container ${spec.name} exited 0 without the handshake of capsule's entrypoint`);
        }
        throw this.startFailure(id, spec.name, exit);
      }
      if (exit.code === null) throw childFailure(id, call.limits.memoryBytes, `container ${spec.name}`, exit);
      // What the CLI said before the command ran (e.g. pull progress) is not the command's stderr.
      const stderr = exit.stderr.slice(marker + READY_MARKER.length + 1);
      return { exitCode: exit.code, stdout: exit.stdout, stderr };
    } finally {
      deadline.dispose();
      await this.remove(spec.name);
    }
  }

  /**
   * An image pinned as `name@sha256:…` runs only when the local image holds that
   * digest: not present is ESCALATION_UNAVAILABLE (a run never pulls), another digest
   * DIGEST_MISMATCH. An unpinned image is run as found (the policy decides whether
   * that is allowed: registry/provenance.ts checkContainerProvenance).
   */
  private async verifyImage(id: string, image: string): Promise<void> {
    const pin = pinnedDigest(image);
    if (pin === undefined || this.config.rootfs) return;
    const local = await inspectImage(this.cli, image, this.startTimeout());
    if (!local.present) {
      throw new CapsuleError('ESCALATION_UNAVAILABLE', `${id}: image ${image} is not present locally (${local.message}); pull it before the call`, {
        runner: this.cli.kind,
        cliMessage: local.message,
      });
    }
    if (!local.digests.includes(pin)) {
      throw new CapsuleError(
        'DIGEST_MISMATCH',
        `${id}: the local image ${image} has digest ${local.digests.join(', ') || '(none)'}, not ${pin}; it was not run`,
      );
    }
  }

  /**
   * A container that never reached its entrypoint's handshake: the CLI could not start
   * it (missing image, unknown flag, CLI too old, API server down). Not the guest's
   * failure: ESCALATION_UNAVAILABLE with the CLI's own words.
   */
  private startFailure(id: string, name: string, exit: Exit): CapsuleError {
    const said = exit.spawnError ?? (exit.stderr.trim().split('\n').slice(-5).join('\n') || `exit ${exit.code ?? exit.signal}`);
    return new CapsuleError('ESCALATION_UNAVAILABLE', `${id}: ${this.cli.kind} could not start container ${name}: ${said}`, {
      runner: this.cli.kind,
      cliMessage: said,
    });
  }

  private spec(id: string, s: Omit<ContainerSpec, 'name' | 'cpus' | 'runtime' | 'rootfs'>): ContainerSpec {
    const spec: ContainerSpec = {
      ...s,
      name: containerName(id, randomBytes(4).toString('hex')),
      cpus: this.config.cpus ?? 1,
      runtime: this.config.runtime,
      rootfs: this.config.rootfs,
    };
    if (this.cli.kind === 'apple-container') {
      const note = appleMemory(spec.memoryMiB).note;
      if (note) this.note(id, note);
    }
    return spec;
  }

  runArgv(spec: ContainerSpec): string[] {
    const argv = this.cli.kind === 'apple-container' ? appleRunArgv(spec) : ociRunArgv(this.cli.kind, spec);
    if (this.config.memoryLimit !== false) return argv;
    const i = argv.indexOf('--memory');
    return i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 2)];
  }

  deleteArgv(name: string): string[] {
    return this.cli.kind === 'apple-container' ? appleDeleteArgv(name) : ociDeleteArgv(this.cli.kind, name, this.config.runtime);
  }

  /** Delete by name, bounded; a container already gone (--rm) is fine. */
  private async remove(name: string): Promise<BoundedExit> {
    return runBounded(this.cli.command, this.deleteArgv(name), this.config.deleteTimeoutMs ?? 15_000);
  }

  private startTimeout(): number {
    return this.config.startTimeoutMs ?? 60_000;
  }

  private note(id: string, text: string): void {
    this.notes.push(`${id}: ${text}`);
    if (this.notes.length > 50) this.notes.shift();
    this.onNote?.(id, text);
  }

  private withClose(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}
