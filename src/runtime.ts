// The Runtime wires the layers for one call:
// registry → policy (grants, limits, tier) → input schema → tier → output checks.
import { totalmem } from 'node:os';
import path from 'node:path';
import { Admission, reservationFor, type AdmissionOptions } from './admission.js';
import { CapsuleError, messageOf } from './errors.js';
import { currentHost } from './host-paths.js';
import { installPaths } from './install-paths.js';
import { refuseKernelPath } from './kernel-paths.js';
import { type CallOverrides, type Decision, requiredLimit } from './policy/decide.js';
import { loadPolicy, type Policy, type PolicyDocument, type PolicyGrant } from './policy/policy.js';
import { fallbackTier, type Tier, type TierDecision } from './policy/tier.js';
import { runnerLabel } from './tiers/vm/vm-tier.js';
import { checkValue, ioValidators, type Manifest } from './registry/manifest.js';
import { checkContainerProvenance, checkProvider, checkSignature, readVerified } from './registry/provenance.js';
import { Registry } from './registry/registry.js';
import { type Tool, toolOf } from './tool-catalog.js';
import { AuditTrail, callEvidence, type RunRecord, type RunSubject } from './run-audit.js';
import { auditDepth } from './grants/levels.js';
import { Lru } from './lru.js';
import { type CompiledComponent, ComponentCompiler, DEFAULT_MEMORY_ENTRIES, defaultCacheDir } from './sandbox/compile.js';
import { cacheMaxBytesFromEnv } from './sandbox/transpile-cache.js';
import { readComponentFile } from './registry/component-file.js';
import type { CommandInput, ContainerJob, Denial, Job, JobResult, LogRecord } from './sandbox/job.js';
import type { ProcessTierOptions } from './tiers/process/process-tier.js';
import { Runners } from './tiers/runners.js';
import type { VmOptions } from './tiers/vm/select.js';
import type { PoolOptions, WorkerRunner } from './tiers/worker.js';
import { containerJob } from './container-job.js';
import { type Plan, type PlanCall, planCall } from './plan/plan.js';
import { PlanCache, planKey } from './plan/plan-cache.js';
import {
  checkInputBytes,
  commandInput,
  fileCapabilityId,
  fileManifest,
  inputText,
  inputValue,
  isPrincipal,
  PRINCIPAL_WANTED,
  runOptions,
} from './run-input.js';
import { oneLineMessage, plainCopy, shown, snapshotOptions } from './api-options.js';
import { capabilityOutputText, commandOutput, parseOutput } from './run-output.js';

export type { CommandOutput } from './run-output.js';
import type { Permissions } from './grants/permissions.js';
import { type HostFunctions, type HostTable, hostImportsFor, hostTable } from './host-functions.js';
import type { HostImports } from './sandbox/job.js';

export interface RuntimeOptions {
  /** Where capabilities live (`<dir>/<id>/capability.json`); default ./capabilities. */
  capabilitiesDir?: string | string[];
  /** Policy file path or object; default grants nothing. */
  policy?: string | PolicyDocument;
  /** Grants added to the policy's (the CLI's --allow-* flags). */
  extraGrants?: PolicyGrant[];
  /** What a bare component file requests (the CLI's --allow-* flags); default nothing. */
  fileRequest?: Permissions;
  /** Audit log path, or false; default $CAPSULE_AUDIT_LOG when set, else off (README: Audit). */
  auditLog?: string | false;
  /** Who this runtime's calls act for (a tenant, a service), written on every audit line; a call's `principal` wins. */
  principal?: string;
  pool?: PoolOptions;
  /** Runtime-wide memory budget and wait queue for calls (see README: Limits). */
  admission?: AdmissionOptions;
  /** The VM tier's runner: `auto` (Apple Container when usable), a named CLI, or `off`; plus image and limits. */
  vm?: VmOptions;
  /** The process tier: bubblewrap `auto` (when it works here) or `off`. */
  process?: ProcessTierOptions;
  /** Transpile cache; default $CAPSULE_CACHE_DIR or ~/.cache/capsule. */
  cacheDir?: string;
  /** Size cap of the transpile cache on disk (LRU eviction); default $CAPSULE_CACHE_MAX_BYTES, else 1 GiB. */
  cacheMaxBytes?: number;
  /** Capabilities and compiled components kept in memory (LRU, each bound separately); default 256. */
  cacheEntries?: number;
  /**
   * The app's host functions: WIT interface name → { function: implementation }
   * (README: Host functions). A component's import of one links only when the
   * policy grants it (`host: ["acme:kv/store"]`); worker and inline tiers call them.
   */
  host?: HostFunctions;
  /** Receives the guests' log records and, for capability-world guests, their stdout/stderr. */
  logger?: (record: GuestLog) => void;
}

export interface GuestLog extends LogRecord {
  capability: string;
  /** log/stdout/stderr: from the guest. runtime: from capsule about this call (e.g. a tier fallback). */
  source: 'log' | 'stdout' | 'stderr' | 'runtime';
}

export interface RunOptions extends CallOverrides {
  signal?: AbortSignal;
  /** Who this call acts for (e.g. the end user), written on its audit lines instead of the runtime's. */
  principal?: string;
  tier?: Tier;
}

export interface RunStats {
  tier: Tier;
  durationMs: number;
  memoryBytes: number;
  /** How the component was obtained for this call (`none` for a container capability). */
  cache: CompiledComponent['source'] | 'none';
  /** The tier decision and its reason, including a policy fallback (`fallbackFrom`, `warning`). */
  tierDecision: TierDecision;
  /** Fuel the call consumed (instructions as capsule's instrumentation counts them; see limits.fuel). */
  fuel?: number;
  /** The worker thread that ran the call (worker tier), so a caller can see a worker reused. */
  worker?: number;
  /** On the call that transpiled the component: how long inserting its fuel checks took, ms (cached with it afterwards). */
  instrumentMs?: number;
}

export interface RunResult<T = unknown> {
  output: T;
  stats: RunStats;
  /** Accesses a granted interface refused during the call (the guest saw EACCES/EPERM). */
  denials: Denial[];
}

/** A capability ready to run: its manifest (real or synthesized) and compiled component (none for a container capability). */
export interface Loaded {
  manifest: Manifest;
  component?: CompiledComponent;
  /** The trusted key that signed the manifest, if it is signed. */
  signedBy?: string;
}

export class Runtime {
  private readonly loaded: Lru<string, Promise<Loaded>>;
  private readonly runners: Runners;
  private closed = false;
  readonly admission: Admission;
  private readonly host: HostTable;
  /** Each call's plan, made once per capability × call overrides (plan/plan-cache.ts says when it is made again). */
  private readonly plans = new PlanCache<Loaded, { plan: Plan; host?: HostImports }>();

  private constructor(
    readonly registry: Registry,
    readonly policy: Policy,
    private readonly compiler: ComponentCompiler,
    private readonly opts: ReadOptions,
    private readonly audit: AuditTrail,
    runners: Runners,
  ) {
    this.loaded = new Lru(opts.cacheEntries ?? DEFAULT_MEMORY_ENTRIES);
    this.host = opts.hostTable;
    const a = opts.admission ?? {};
    this.admission = new Admission(a.memoryBytes ?? Math.min(totalmem() / 2, 16 * 1024 ** 3), a.queueLength ?? 1024);
    this.runners = runners;
  }

  /** The audit file this runtime appends to (absolute), or undefined when auditing is off. */
  get auditPath(): string | undefined {
    return this.audit.path;
  }

  /**
   * `started.worker`: a worker pool the caller started already (capsule's CLI, whose
   * thread boots while the runtime's code loads); the runtime owns and closes it. It has
   * no host functions, so it is refused beside `host`.
   */
  static async create(callerOpts: RuntimeOptions = {}, started: { worker?: WorkerRunner } = {}): Promise<Runtime> {
    const opts = runtimeOptions(callerOpts);
    if (started.worker && opts.hostTable.size > 0) throw new CapsuleError('USAGE', 'a worker pool started before the runtime cannot serve host functions');
    const dirs = [opts.capabilitiesDir ?? './capabilities'].flat().map((d) => path.resolve(d));
    const cacheDir = opts.cacheDir ?? defaultCacheDir();
    refuseKernelPath(cacheDir, 'the cache directory', 'USAGE');
    const audit = (await AuditTrail.open(opts.auditLog, (e) => auditFailed(e, opts.logger))).as(opts.principal);
    const runners = new Runners({
      pool: opts.pool,
      vm: opts.vm,
      process: opts.process,
      host: opts.hostTable,
      ...(started.worker ? { worker: started.worker } : {}),
      onNote: (capability, message) => opts.logger?.({ level: 'info', message, capability, source: 'runtime' }),
    });
    // Workers asked for up front start now, so they boot (on another core) while the
    // registry and policy are read: for `capsule run` that boot was the longest wait.
    if (opts.pool?.minThreads) runners.worker();
    // capsule's own files can never be granted to a guest, and its install and
    // the capabilities it loads can never be written by one (docs/security.md).
    const own = [cacheDir, ...(audit.path ? [audit.path] : [])];
    const readOnly = [...installPaths(), ...dirs];
    let registry: Registry;
    let policy: Policy;
    try {
      [registry, policy] = await Promise.all([Registry.scan(dirs), loadPolicy(opts.policy, opts.extraGrants, own, readOnly)]);
      audit.opened(policy);
    } catch (e) {
      await runners.close().catch(() => undefined);
      await audit.close().catch(() => undefined);
      throw e;
    }
    const compiler = new ComponentCompiler({
      cacheDir,
      cacheMaxBytes: opts.cacheMaxBytes ?? cacheMaxBytesFromEnv(),
      memoryEntries: opts.cacheEntries,
      onTampered: (t) => audit.cacheTampered({ stage: 'read', ...t }),
    });
    return new Runtime(registry, policy, compiler, opts, audit, runners);
  }

  /** Run the capability `id` with `input` (any JSON value; for command world `{ args?, stdin?, env? }`). */
  async run<T = unknown>(id: string, input: unknown, opts: RunOptions = {}): Promise<RunResult<T>> {
    if (typeof id !== 'string') throw new CapsuleError('USAGE', `run needs a capability id (a string), got ${shown(id)}`);
    return this.runLoaded<T>(await this.load(id), input, opts);
  }

  /**
   * Every capability with a readable manifest as a tool for a model's tool-calling
   * API: name, description, input and output JSON Schemas (README: Tool catalog).
   */
  tools(): Tool[] {
    return this.registry.list().flatMap((e) => (e.manifest ? [toolOf(e.manifest)] : []));
  }

  /** Runs the capability behind a tool name from tools(); an unknown name is CAPABILITY_NOT_FOUND. */
  async callTool<T = unknown>(name: string, args: unknown, opts: RunOptions = {}): Promise<RunResult<T>> {
    if (typeof name !== 'string') throw new CapsuleError('USAGE', `callTool needs a tool name (a string), got ${shown(name)}`);
    const tool = this.tools().find((t) => t.name === name);
    if (!tool) throw new CapsuleError('CAPABILITY_NOT_FOUND', `no tool named ${shown(name)}`);
    return this.run<T>(tool.capability, args, opts);
  }

  /** Run a component file without a manifest: nothing is granted beyond what the policy gives `file.<name>`. */
  async runFile<T = unknown>(file: string, input: unknown, opts: RunOptions = {}): Promise<RunResult<T>> {
    if (typeof file !== 'string') throw new CapsuleError('USAGE', `runFile needs a file path (a string), got ${shown(file)}`);
    return this.runLoaded<T>(await this.loadFile(file), input, opts);
  }

  async load(id: string): Promise<Loaded> {
    this.assertOpen();
    let pending = this.loaded.get(id);
    if (!pending) {
      // Provenance (provider, digest, signature) is checked before the component is compiled.
      pending = this.audit.load(id, 'registry', async () => {
        const { entry, manifest } = this.registry.get(id);
        if (manifest.runtime === 'container') {
          // An image, nothing to compile; provider and signature (over the pinned image digest) still apply.
          return { manifest, signedBy: checkContainerProvenance(manifest, this.policy) };
        }
        const { bytes, signedBy } = await readVerified(entry, manifest, this.policy);
        const component = await this.compiler.transpile(bytes, id);
        // The modules a call without a memory override runs, compiled now rather than on the
        // first call's path. A limit they cannot meet is that call's error, not the load's.
        await this.compiler.modulesFor(component, requiredLimit(manifest, this.policy, 'memoryBytes')).catch(() => undefined);
        return { manifest, component, signedBy };
      });
      this.loaded.set(id, pending);
      const p = pending;
      pending.catch(() => this.loaded.deleteIf(id, p));
    }
    return pending;
  }

  /** A bare file has no manifest and so no signature: a policy that requires one for `pure` refuses it. */
  async loadFile(file: string): Promise<Loaded> {
    return this.audit.load(fileCapabilityId(file), 'file', async () => {
      const component = await this.compileFile(file);
      const manifest = fileManifest(file, component, this.opts.fileRequest);
      checkProvider(manifest, this.policy);
      checkSignature(manifest, component.digest, this.policy);
      return { manifest, component };
    });
  }

  /** Compile a component file whatever world it has (for inspect). */
  async compileFile(file: string): Promise<CompiledComponent> {
    this.assertOpen();
    let bytes: Uint8Array;
    try {
      bytes = await readComponentFile(file);
    } catch (e) {
      if (e instanceof CapsuleError) throw e;
      throw new CapsuleError('CAPABILITY_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`);
    }
    return this.compiler.transpile(bytes, file);
  }

  /**
   * The plan for one call of a loaded capability (src/plan/plan.ts), made against this
   * host now; throws what would stop it running, in the order a run is refused.
   */
  plan(l: Loaded, opts: PlanCall = {}): Plan {
    return planCall(l, this.policy, currentHost(), opts);
  }

  /**
   * The tier a call will really run in: the planned tier when a runner serves it,
   * else the policy's fallback (with a warning), else ESCALATION_UNAVAILABLE with the
   * reason. Runs no guest code; inspect and the audit layer read the same decision.
   */
  async resolveTier(l: Loaded, planned: TierDecision, call: Pick<Decision, 'grants' | 'limits'>): Promise<TierDecision> {
    let decided = planned;
    if (planned.tier === 'process') {
      const sandbox = await this.runners.process();
      decided = { ...planned, runner: sandbox.bwrap ? 'bwrap+node-permissions' : 'node-permissions' };
    } else if (planned.tier === 'vm') {
      const vm = await this.runners.vm();
      // The fallback's own tier (process or worker) is resolved like any other; its fields carry over.
      if (!vm.cli) return this.resolveTier(l, fallbackTier(l.manifest, this.policy.doc, planned, vm.reason), call);
      // A plain container (docker/podman without a VM runtime) never stands in for a VM that the
      // capability needs: securityLevel full, or a component whose own tier is vm. It serves
      // container capabilities below full, and calls whose caller asked for tier vm, labelled so.
      const needsVm = l.manifest.securityLevel === 'full' || (l.component !== undefined && planned.required === undefined);
      if (vm.cli.isolation === 'container' && needsVm) {
        const why = `${vm.cli.kind} without a VM runtime runs a plain container, not a VM (set vm.runtime to kata, krun or runsc)`;
        return this.resolveTier(l, fallbackTier(l.manifest, this.policy.doc, planned, why), call);
      }
      decided = { ...planned, runner: runnerLabel(vm.cli) };
    }
    // A tier that cannot honour a grant or limit is refused (or the policy's fallback taken) here,
    // before anything runs; a fallback that cannot honour it either is refused in turn.
    // Worker and inline run capsule's WASI on the host and honour every grant (their
    // cannotHonour says so); asking them here would start a pool for `capsule inspect`.
    // Every other tier is asked, so a tier added later is checked by default.
    const onHost = decided.tier === 'worker' || decided.tier === 'inline';
    const app = onHost ? undefined : this.appHost(l, call.grants.host);
    const why = onHost
      ? undefined
      : app
        ? `the ${decided.tier} tier cannot call the app's host functions (${Object.keys(app).join(', ')}): they run in the worker and inline tiers`
        : (await this.runners.get(decided.tier)).cannotHonour(call, !l.component);
    return why ? this.resolveTier(l, fallbackTier(l.manifest, this.policy.doc, planned, why), call) : decided;
  }

  /** The app host interfaces a call of `l` links under `granted` (checked against the app's functions). */
  private appHost(l: Loaded, granted: string[]): HostImports | undefined {
    return l.component ? hostImportsFor(l.component.importFuncs, this.host, granted) : undefined;
  }

  /** Run what `load` or `loadFile` returned (lets a caller look at the manifest first). */
  runLoaded<T = unknown>(l: Loaded, input: unknown, opts: RunOptions = {}): Promise<RunResult<T>> {
    return this.call(l, { value: input }, opts) as Promise<RunResult<T>>;
  }

  /**
   * Run the capability `id` with its input as JSON text, and get its output as JSON
   * text (README: Library): for a caller that already holds text, nothing is
   * stringified or parsed on this thread unless a schema has to check it.
   */
  async runText(id: string, jsonText: string, opts: RunOptions = {}): Promise<RunResult<string>> {
    if (typeof id !== 'string') throw new CapsuleError('USAGE', `runText needs a capability id (a string), got ${shown(id)}`);
    if (typeof jsonText !== 'string') throw new CapsuleError('USAGE', `runText needs the input as JSON text (a string), got ${shown(jsonText)}`);
    return this.call(await this.load(id), { text: jsonText }, opts) as Promise<RunResult<string>>;
  }

  private async call(l: Loaded, input: CallInput, callerOpts: RunOptions): Promise<RunResult<unknown>> {
    const started = performance.now();
    const { manifest, component } = l;
    const id = manifest.id;
    const opts = runOptions<RunOptions>(callerOpts, id);
    const audit = this.audit.as(opts.principal);
    // The app's host functions are matched to the component's imports here, so a refusal
    // (IMPORT_DENIED naming a missing function) is audited like any other plan refusal.
    let appHost: HostImports | undefined;
    const plan = audit.plan(l, () => {
      const kept = this.plans.get(l, planKey(opts), this.policy, currentHost(), (ctx) => {
        const p = planCall(l, this.policy, ctx, opts);
        return { plan: p, ...withHost(this.appHost(l, p.decision.grants.host)) };
      });
      appHost = kept.host;
      return kept.plan;
    });
    const { decision } = plan;
    const validators = ioValidators(manifest);
    const world = manifest.world;
    const limit = decision.limits.inputBytes;
    const asText = 'text' in input;
    // The input is read once, as JSON: its size is bounded before anything parses or
    // checks it, and the schema checks exactly what the guest will get.
    let sent: string | CommandInput;
    if (asText) checkInputBytes(input.text, limit, id);
    if (world === 'command') {
      sent = commandInput(asText ? inputValue(input.text, id) : input.value, id);
      checkInputBytes(sent, limit, id);
      checkValue(validators.input, sent, 'INPUT_INVALID', id);
    } else {
      sent = asText ? input.text : inputText(input.value, id);
      if (!asText) checkInputBytes(sent, limit, id);
      if (validators.input) checkValue(validators.input, inputValue(sent, id), 'INPUT_INVALID', id);
    }
    // Text nobody parsed here (no schema) is checked to be JSON in the sandbox's thread, and
    // so is output the caller takes as text: sandbox/execute.ts.
    const checkJson = asText && world === 'capability';
    const textChecks = {
      ...(checkJson && !validators.input ? { checkInputJson: true } : {}),
      ...(checkJson && !validators.output ? { checkOutputJson: true } : {}),
    };
    const tier = await audit.escalation(id, plan.tier, () => this.resolveTier(l, plan.tier, decision));
    this.warn(id, tier);
    const job: Job | ContainerJob = component
      ? {
          capabilityId: manifest.id,
          digest: component.digest,
          glueUrl: component.glueUrl,
          modules: await this.modulesFor(l, component, decision.limits.memoryBytes),
          imports: component.glueImports,
          world,
          ...(component.directAbi && world === 'capability' ? { directAbi: component.directAbi } : {}),
          grants: decision.grants,
          limits: decision.limits,
          input: sent,
          ...textChecks,
          bundle: component.bundle,
          ...withHost(appHost),
        }
      : containerJob(manifest, decision, sent as CommandInput);
    const result = this.dispatch(audit, job, tier.tier, opts.signal, async (run) => {
      const result = await this.runners.run(tier.tier, job, opts.signal);
      run.memoryBytes = result.memoryBytes;
      run.denials = result.denials;
      if (result.hostCalls) run.hostCalls = result.hostCalls;
      this.forwardLogs(id, result, world);
      let output: unknown;
      /** What the audit's evidence reads: the output as a value, or its JSON text. */
      let evidence: unknown;
      if (world === 'command') {
        const out = commandOutput(result, job);
        checkValue(validators.output, out, 'OUTPUT_INVALID', id);
        output = asText ? JSON.stringify(out) : out;
        evidence = out;
      } else {
        // The worker and inline tiers ran sandbox/execute.ts in this process: it held the output to outputBytes.
        const text = capabilityOutputText(result, job, tier.tier === 'worker' || tier.tier === 'inline');
        evidence = text;
        if (asText) {
          if (validators.output) checkValue(validators.output, parseOutput(text, job), 'OUTPUT_INVALID', id);
          output = text;
        } else {
          output = parseOutput(text, job);
          checkValue(validators.output, output, 'OUTPUT_INVALID', id);
        }
      }
      if (audit.on) {
        const level = manifest.securityLevel ?? 'pure';
        run.io = callEvidence(auditDepth(this.policy.doc.levels, level), sent, evidence);
      }
      const stats: RunStats = {
        tier: tier.tier,
        durationMs: performance.now() - started,
        memoryBytes: result.memoryBytes,
        cache: component?.source ?? 'none',
        tierDecision: tier,
        ...(result.fuel !== undefined ? { fuel: result.fuel } : {}),
        ...(result.worker !== undefined ? { worker: result.worker } : {}),
        ...(component?.source === 'transpiled' && component.instrumentMs !== undefined ? { instrumentMs: component.instrumentMs } : {}),
      };
      return { output, stats, denials: result.denials };
    });
    return result.catch(async (e: unknown) => {
      if (cacheFileProblem(e)) await this.forgetTampered(l, e as CapsuleError);
      throw e;
    });
  }

  /**
   * A cache file changed between the check when its entry was read and its use
   * (DIGEST_MISMATCH from compileBundle or the glue loader): audit it, and forget
   * the component in memory and on disk so the next load transpiles it again.
   */
  private async forgetTampered(l: Loaded, e: CapsuleError): Promise<void> {
    const c = l.component;
    if (!c) return;
    const file = typeof e.details?.file === 'string' ? e.details.file : 'unknown';
    // A file gone (evicted by the size cap, or cleaned) is not a tamper: no audit line, same recovery.
    if (cacheFileProblem(e) === 'tampered')
      this.audit.cacheTampered({ stage: 'use', digest: c.digest, origin: l.manifest.id, dir: c.bundle.dir, files: [file] });
    this.loaded.delete(l.manifest.id);
    await this.compiler.forget(c);
  }

  private async modulesFor(l: Loaded, c: CompiledComponent, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
    try {
      return await this.compiler.modulesFor(c, memoryBytes);
    } catch (e) {
      if (cacheFileProblem(e)) await this.forgetTampered(l, e as CapsuleError);
      throw e;
    }
  }

  /**
   * Every run, wasm or container, goes through here: a run.start line before it is
   * dispatched, a reservation of what it can hold (admission control, reservationFor), and a
   * run.end line whatever happens.
   */
  private async dispatch<R>(
    audit: AuditTrail,
    subject: RunSubject,
    tier: Tier,
    signal: AbortSignal | undefined,
    body: (run: RunRecord) => Promise<R>,
  ): Promise<R> {
    const run = audit.runStart(subject, tier);
    try {
      const release = await this.admission.acquire(reservationFor(subject.limits), subject.capabilityId, signal);
      try {
        return await body(run);
      } finally {
        release();
      }
    } catch (e) {
      run.error = e;
      throw e;
    } finally {
      audit.runEnd(run);
    }
  }

  /** Live figures for monitoring and the soak script. */
  poolInfo(): { workers: number; inFlightBytes: number; waiting: number } {
    const workers = this.runners.startedWorker()?.threads ?? 0;
    return { workers, inFlightBytes: this.admission.inFlightBytes, waiting: this.admission.waiting };
  }

  /** A fallback is never silent: it goes to the logger as a runtime warning (and is in stats). */
  private warn(id: string, tier: TierDecision): void {
    if (tier.warning) this.opts.logger?.({ level: 'warn', message: tier.warning, capability: id, source: 'runtime' });
  }

  private forwardLogs(id: string, r: JobResult, world: Job['world']): void {
    const log = this.opts.logger;
    if (!log) return;
    for (const rec of r.logs) log({ ...rec, capability: id, source: 'log' });
    if (world === 'capability') {
      if (r.stdout) log({ level: 'info', message: r.stdout, capability: id, source: 'stdout' });
      if (r.stderr) log({ level: 'warn', message: r.stderr, capability: id, source: 'stderr' });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CapsuleError('USAGE', 'this runtime is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.audit.closed();
    } finally {
      try {
        await this.runners.close();
      } finally {
        // Every audit line reaches the disk before close resolves; a line that could not be written rejects it.
        await this.audit.close();
      }
    }
  }

  /** Resolves when every audit line recorded so far is on disk; rejects (AUDIT_INVALID) if one could not be written. */
  flushAudit(): Promise<void> {
    return this.audit.flush();
  }
}

/** A call's input: a value (run), or JSON text the caller already holds (runText). */
type CallInput = { value: unknown } | { text: string };

function withHost(host: HostImports | undefined): { host?: HostImports } {
  return host ? { host } : {};
}

/**
 * A batch of audit lines could not be written: the runtime refuses further calls
 * (AUDIT_INVALID) and close() rejects; this says so at once, to the logger, or as
 * a process warning when there is none, so it is never silent.
 */
function auditFailed(e: CapsuleError, logger: RuntimeOptions['logger']): void {
  if (logger) logger({ level: 'error', message: `${e.code}: ${e.message}`, capability: '', source: 'runtime' });
  else process.emitWarning(e.message, { code: e.code });
}

/**
 * createRuntime's options read once into plain data (api-options.ts): a throwing
 * getter or Proxy is USAGE, and a policy object that cannot be read as JSON is
 * POLICY_INVALID. The policy the checks see is the policy the decisions use.
 */
/** The options as read: the host functions already copied into a table (read once). */
type ReadOptions = RuntimeOptions & { hostTable: HostTable };

function runtimeOptions(callerOpts: unknown): ReadOptions {
  const opts = snapshotOptions(callerOpts, 'createRuntime options', ['logger', 'policy', 'host']);
  // Checked before anything is opened (the audit log, the cache).
  checkCount(opts.cacheMaxBytes, 'cacheMaxBytes');
  checkCount(opts.cacheEntries, 'cacheEntries');
  let policyValue = opts.policy;
  if (policyValue !== undefined && typeof policyValue !== 'string') {
    try {
      policyValue = plainCopy(policyValue);
    } catch (e) {
      throw new CapsuleError('POLICY_INVALID', `(policy object): cannot be read as JSON: ${oneLineMessage(e)}`);
    }
    if (typeof policyValue !== 'object' || policyValue === null || Array.isArray(policyValue)) {
      throw new CapsuleError('POLICY_INVALID', `(policy object): must be a path or an object, got ${shown(opts.policy)}`);
    }
  }
  const strings = (key: string, ok: (v: unknown) => boolean, want: string) => {
    if (opts[key] !== undefined && !ok(opts[key])) throw new CapsuleError('USAGE', `createRuntime option ${key} must be ${want}, got ${shown(opts[key])}`);
  };
  const isString = (v: unknown) => typeof v === 'string';
  strings('capabilitiesDir', (v) => isString(v) || (Array.isArray(v) && v.every(isString)), 'a directory or a list of them');
  strings('cacheDir', isString, 'a directory');
  strings('auditLog', (v) => isString(v) || v === false, 'a file path or false');
  strings('logger', (v) => typeof v === 'function', 'a function');
  strings('principal', isPrincipal, PRINCIPAL_WANTED);
  const logger = opts.logger as RuntimeOptions['logger'];
  return {
    ...(opts as RuntimeOptions),
    policy: policyValue as RuntimeOptions['policy'],
    host: undefined,
    hostTable: hostTable(opts.host),
    // A logger that throws loses its record; it never fails the call it was about.
    logger: logger
      ? (r) => {
          try {
            logger(r);
          } catch {
            /* the caller's logger failed: nothing capsule can do with the record */
          }
        }
      : undefined,
  };
}

/**
 * A transpile-cache file found changed (DIGEST_MISMATCH, not a manifest's digest
 * pin) or gone where it was loaded to run. Matched on code and details, since
 * the error may come back from a worker or child process as data.
 */
function cacheFileProblem(e: unknown): 'tampered' | 'gone' | undefined {
  if (!(e instanceof CapsuleError) || typeof e.details?.file !== 'string') return undefined;
  if (e.code === 'DIGEST_MISMATCH' && 'expected' in e.details) return 'tampered';
  if (e.code === 'INTERNAL' && e.details.cacheEntryGone === true) return 'gone';
  return undefined;
}

/** A size or count option: a positive whole number when given. */
function checkCount(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new CapsuleError('USAGE', `${name} must be a positive whole number, not ${JSON.stringify(value) ?? String(value)}`);
  }
}
