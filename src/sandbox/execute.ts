// Runs one Job in the current thread: link, instantiate fresh, call, collect.
// Every tier ends up here, so a call behaves the same wherever it runs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapsuleError, messageOf, type ErrorData } from '../errors.js';
import { Lru } from '../lru.js';
import type { CommandInput, Job, JobOutcome, JobResult, LogRecord } from './job.js';
import { CallBudget, inGuest } from './call-budget.js';
import type { DirectAbi } from './direct-abi.js';
import { callDirect } from './direct-call.js';
import type { HostCallCounts } from './host/app.js';
import { remoteHostCall } from './host/remote.js';
import { linkImports } from './linker.js';
import { FuelMeter } from './fuel-meter.js';
import { callLimits, FUEL_EXPORT, FUEL_IMPORT, HIDDEN_EXPORT, PAGE, tableCap } from './limits/index.js';
import type { SpareInstance } from './spare.js';
import { readCachedFile } from './transpile-cache.js';
import { parseJson } from '../json-text.js';
import { bytesOver } from '../utf8-size.js';
import { diskLimits } from './wasi/fs-quota.js';
import { createWasi, ExitSignal } from './wasi/index.js';
import { GLUE_CACHE_ENTRIES, glueHash } from './glue-id.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

const glueCache = new Lru<string, Promise<Instantiate>>(GLUE_CACHE_ENTRIES);
/**
 * Every glue module this thread has imported. Node's module loader keeps each
 * one for the thread's life (dropping it from glueCache frees nothing), so the
 * worker pool replaces a worker that would import more than its bound (worker.ts).
 */
const imported = new Set<string>();

/** The same glue text is the same module, wherever its file is. */
function moduleKey(url: string, sha256: string | undefined): string {
  return sha256 === undefined ? url : `sha256:${sha256}`;
}

/** True when loading this glue would import a module this thread has not imported yet. */
export function isNewGlue(url: string, sha256: string | undefined): boolean {
  return !imported.has(moduleKey(url, sha256));
}

/** Distinct glue modules this thread has imported. */
export function importedGlueModules(): number {
  return imported.size;
}

/**
 * The glue's `instantiate`. With `sha256` (the hash recorded when the cache entry
 * was written), the file is read, checked, and the checked bytes are what is
 * imported (as a data: URL), so a file changed after the runtime checked its
 * cache entry is refused (DIGEST_MISMATCH) and never runs.
 */
export function loadGlue(url: string, sha256?: string): Promise<Instantiate> {
  const key = moduleKey(url, sha256);
  let glue = glueCache.get(key);
  if (!glue) {
    const pending = importGlue(url, sha256);
    glueCache.set(key, pending);
    pending.catch(() => glueCache.deleteIf(key, pending));
    glue = pending;
  }
  return glue;
}

async function importGlue(url: string, sha256: string | undefined): Promise<Instantiate> {
  let specifier = url;
  if (sha256 !== undefined) {
    const file = fileURLToPath(url);
    const bytes = await readCachedFile(path.dirname(file), path.basename(file), sha256);
    specifier = `data:text/javascript;base64,${bytes.toString('base64')}`;
  }
  imported.add(moduleKey(url, sha256));
  const m = (await import(specifier)) as { instantiate: Instantiate };
  return m.instantiate;
}

/** Glue modules this thread holds in its cache now (bounded by GLUE_CACHE_ENTRIES). */
export function glueCacheSize(): number {
  return glueCache.size;
}

/** `spare`: an instance made ahead for this component (sandbox/spare.ts), used when it fits the call. */
export async function execute(job: Job, spare?: SpareInstance): Promise<JobResult> {
  const notJson = uncheckedInput(job);
  if (notJson) return refusedBeforeGuest(notJson);
  if (job.directAbi) return executeDirect(job, job.directAbi, spare);
  const command = job.world === 'command' ? commandInput(job.input) : undefined;
  const logs: LogRecord[] = [];
  const instances: Made[] = [];
  // Host-side bytes (http fields, random bytes, listings, logs...) count against the
  // same memory limit as the guest's linear memory: see call-budget.ts.
  const budget = new CallBudget(job.capabilityId, job.limits);
  budget.measureLinear(linearMeter(instances));
  const fuel = new FuelMeter(job.capabilityId, job.limits, job.interrupt, job.startedAt);
  const wasi = createWasi({
    grants: job.grants,
    args: [job.capabilityId, ...(command?.args ?? [])],
    // The caller's env comes with the input; granted host variables win over it.
    env: { ...(command?.env ?? {}), ...job.grants.env },
    stdin: new TextEncoder().encode(command?.stdin ?? ''),
    outputCap: job.limits.outputBytes,
    timeoutMs: job.limits.timeoutMs,
    connections: job.limits.connections ?? Number.POSITIVE_INFINITY,
    budget,
    fetch: job.fetch,
    disk: diskLimits(job.limits),
  });
  const hostCalls: HostCallCounts = {};
  const call = job.hostCall ?? (job.hostPort ? remoteHostCall(job.hostPort) : undefined);
  const app = job.host && call ? { imports: job.host, call, fuel, counts: hostCalls } : undefined;
  let outcome: JobOutcome;
  try {
    // A call cut before it started (the waiting thread set its interrupt) runs no guest code.
    fuel.checkStopped();
    const imports = linkImports(job.imports, job.grants, wasi, logs, budget, app);
    const instantiate = await loadGlue(job.glueUrl, glueHash(job));
    const count = instanceCounter(job);
    const exports = await instantiate(
      (name) => module(job, name),
      imports,
      (m, imp) => {
        const file = count(m);
        // Start functions are guest code: what they make the host create is charged to this call.
        const instance = inGuest(budget, () => new WebAssembly.Instance(m, withFuel(imp, fuel)));
        instances.push({ instance, file });
        fuel.track(instance.exports[FUEL_EXPORT]);
        return instance;
      },
    );
    outcome = inGuest(budget, () => (job.world === 'command' ? callCommand(exports) : callCapability(exports, job.input as string, job, budget)));
  } catch (e) {
    outcome = e instanceof ExitSignal ? { ok: true, value: '', exitCode: e.code } : { ok: false, error: classify(e, job, () => atCap(instances, job)) };
  } finally {
    wasi.close();
  }
  // A limit the call went over stays its outcome, even if the guest caught the exception and went on.
  if (budget.failure) outcome = { ok: false, error: budget.failure.toData() };
  const stopped = fuel.failureData();
  if (stopped) outcome = { ok: false, error: stopped };
  return {
    outcome,
    stdout: wasi.stdout.text(),
    stderr: wasi.stderr.text(),
    truncated: wasi.stdout.truncated || wasi.stderr.truncated,
    logs,
    denials: wasi.denials.list(),
    memoryBytes: linearMemoryBytes(instances),
    fuel: fuel.consumed(),
    ...(Object.keys(hostCalls).length > 0 ? { hostCalls } : {}),
  };
}

/** The glue's imports for a core instance, with the fuel checks' refuel function (limits/fuel.ts). */
function withFuel(imports: WebAssembly.Imports | undefined, fuel: FuelMeter): WebAssembly.Imports {
  return { ...imports, [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: fuel.refuel } };
}

/** The glue-free path for import-free capabilities: same outcomes, one core instance. */
function executeDirect(job: Job, abi: DirectAbi, spare: SpareInstance | undefined): JobResult {
  const instances: Made[] = [];
  const fuel = new FuelMeter(job.capabilityId, job.limits, job.interrupt, job.startedAt);
  let outcome: JobOutcome;
  try {
    fuel.checkStopped();
    const limit = job.limits.outputBytes;
    const made = (instance: WebAssembly.Instance) => {
      instances.push({ instance, file: abi.coreFile });
      fuel.track(instance.exports[FUEL_EXPORT]);
    };
    // A spare whose start used more fuel than this call may is not taken: a fresh instance then fails as it would.
    const instantiate = () => spare?.takeFor(fuel) ?? new WebAssembly.Instance(module(job, abi.coreFile), withFuel(undefined, fuel));
    const r = callDirect(instantiate, abi, job.input as string, made, limit);
    if (r.oversizeBytes !== undefined) {
      const what = r.ok ? 'output' : 'err message';
      outcome = {
        ok: false,
        error: { code: 'OUTPUT_TOO_LARGE', message: `${job.capabilityId}: ${what} is ${r.oversizeBytes} bytes, over the limit of ${limit}` },
      };
    } else {
      outcome = r.ok ? checkOutputSize(r.value, job) : { ok: false, error: { code: 'CAPABILITY_ERROR', message: r.value } };
    }
  } catch (e) {
    outcome = { ok: false, error: classify(e, job, () => atCap(instances, job)) };
  }
  const stopped = fuel.failureData();
  if (stopped) outcome = { ok: false, error: stopped };
  return { outcome, stdout: '', stderr: '', truncated: false, logs: [], denials: [], memoryBytes: linearMemoryBytes(instances), fuel: fuel.consumed() };
}

/**
 * The memory limit was split among the instances the glue was seen to make
 * (compile.ts); an instance beyond those would get memory nobody accounted for.
 */
function instanceCounter(job: Job): (m: WebAssembly.Module) => string {
  const declared = job.bundle?.instantiations;
  const nameOf = new Map(Object.entries(job.modules).map(([name, m]) => [m, name]));
  if (!declared) return (m) => nameOf.get(m) ?? '?';
  const seen = new Map<string, number>();
  return (m) => {
    const name = nameOf.get(m) ?? '?';
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n > (declared[name] ?? 0)) {
      throw new CapsuleError('MEMORY_LIMIT', `${job.capabilityId}: ${name} is instantiated more often than its memory was accounted for`);
    }
    return name;
  };
}

function module(job: Job, name: string): WebAssembly.Module {
  const m = job.modules[name];
  if (!m) throw new CapsuleError('COMPONENT_INVALID', `transpiled component has no core module ${name}`);
  return m;
}

function commandInput(input: Job['input']): CommandInput {
  return typeof input === 'string' ? (JSON.parse(input) as CommandInput) : input;
}

function callCapability(exports: Record<string, unknown>, input: string, job: Job, budget: CallBudget): JobOutcome {
  const run = exports.run;
  if (typeof run !== 'function') throw new CapsuleError('COMPONENT_INVALID', 'component does not export run');
  let value: string;
  try {
    value = run(input) as string;
  } catch (e) {
    const payload = errPayload(e);
    if (payload === NOT_ERR) throw e;
    // The err message goes to the caller like an output does: held to outputBytes, and never copied out whole.
    const message = String(payload);
    budget.output(Buffer.byteLength(message), 'err message');
    return { ok: false, error: { code: 'CAPABILITY_ERROR', message } };
  }
  return checkOutputSize(value, job);
}

/**
 * Measured here, in the sandbox's thread, so an oversized value is never copied to the
 * caller; the only count of its bytes. A caller who takes the output as text (runText)
 * has it checked to be JSON here too, so the main thread need not parse it.
 */
function checkOutputSize(value: string, job: Job): JobOutcome {
  const limit = job.limits.outputBytes;
  const size = bytesOver(value, limit);
  if (size !== undefined) {
    return { ok: false, error: { code: 'OUTPUT_TOO_LARGE', message: `${job.capabilityId}: output is ${size} bytes, over the limit of ${limit}` } };
  }
  if (job.checkOutputJson) {
    const why = jsonProblem(value);
    if (why !== undefined) return { ok: false, error: { code: 'OUTPUT_INVALID', message: `${job.capabilityId}: output is not JSON text: ${why}` } };
  }
  return { ok: true, value };
}

/** Input text nobody has parsed yet (runText without an input schema) is checked to be JSON before the guest gets it. */
function uncheckedInput(job: Job): JobOutcome | undefined {
  if (!job.checkInputJson || typeof job.input !== 'string') return undefined;
  const why = jsonProblem(job.input);
  return why === undefined ? undefined : { ok: false, error: { code: 'INPUT_INVALID', message: `${job.capabilityId}: input is not JSON text: ${why}` } };
}

/** Why `text` is not JSON (line, column, reason), or undefined when it is. */
function jsonProblem(text: string): string | undefined {
  try {
    parseJson(text);
    return undefined;
  } catch (e) {
    return messageOf(e);
  }
}

function refusedBeforeGuest(outcome: JobOutcome): JobResult {
  return { outcome, stdout: '', stderr: '', truncated: false, logs: [], denials: [], memoryBytes: 0 };
}

function callCommand(exports: Record<string, unknown>): JobOutcome {
  const key = Object.keys(exports).find((k) => k.startsWith('wasi:cli/run@'));
  const iface = (key ? exports[key] : exports.run) as { run?: () => void } | undefined;
  if (typeof iface?.run !== 'function') {
    throw new CapsuleError('COMPONENT_INVALID', 'component does not export wasi:cli/run');
  }
  try {
    iface.run();
    return { ok: true, value: '', exitCode: 0 };
  } catch (e) {
    // run() returning err means "exit with failure", as wasmtime reports it.
    if (errPayload(e) !== NOT_ERR) return { ok: true, value: '', exitCode: 1 };
    throw e;
  }
}

const NOT_ERR = Symbol('not an err result');

/**
 * The payload of a WIT `err` returned by an export. jco's glue throws it: wrapped in
 * a ComponentError (`.payload`) in some versions, raw (a string, or undefined) in others.
 * Real failures (traps, host errors, exit) are Error or ExitSignal instances.
 */
function errPayload(e: unknown): unknown {
  if (e instanceof ExitSignal) return NOT_ERR;
  if (typeof e === 'object' && e !== null && 'payload' in e) return (e as { payload: unknown }).payload;
  return e instanceof Error ? NOT_ERR : e;
}

const TRAP_KINDS: [RegExp, string][] = [
  [/unreachable/i, 'unreachable'],
  [/divide by zero/i, 'integer divide by zero'],
  [/divide result unrepresentable|integer overflow/i, 'integer overflow'],
  [/out of bounds memory access|memory access out of bounds/i, 'out-of-bounds memory access'],
  [/table index is out of bounds|element segment out of bounds/i, 'out-of-bounds table access'],
  [/null function|signature mismatch/i, 'indirect call type mismatch'],
  [/float unrepresentable|invalid conversion/i, 'invalid float to integer conversion'],
];

/**
 * Map what escaped the guest to a capsule error code. `atCap` (which memory or table
 * is full) is asked only for a trap: a limit the host raised (a TIMEOUT thrown from a
 * fuel check) goes back as it is, without walking the instances' exports.
 */
export function classify(e: unknown, job: Pick<Job, 'world' | 'limits' | 'capabilityId'>, atCap?: () => 'memory' | 'table' | undefined): ErrorData {
  if (e instanceof CapsuleError) return e.toData();
  const trap = trapKind(e);
  const full = trap ? atCap?.() : undefined;
  if (trap && full) {
    const what = full === 'memory' ? 'linear memory reached its limit' : 'a table reached its share of the memory limit';
    return {
      code: 'MEMORY_LIMIT',
      message: `${job.capabilityId}: ${what} of ${job.limits.memoryBytes} bytes and the guest trapped (${trap})`,
      details: { trap },
    };
  }
  if (trap) return { code: 'TRAP', message: `${job.capabilityId}: guest trapped: ${trap}`, details: { trap } };
  if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.CompileError) {
    return { code: 'COMPONENT_INVALID', message: `component failed to link: ${e.message}` };
  }
  return { code: 'TRAP', message: `${job.capabilityId}: guest failed in the ${job.world} call: ${messageOf(e)}` };
}

function trapKind(e: unknown): string | undefined {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'stack overflow';
  if (!(e instanceof WebAssembly.RuntimeError)) return undefined;
  return TRAP_KINDS.find(([re]) => re.test(e.message))?.[1] ?? e.message;
}

/** A core instance the glue made, with the core file it came from. */
interface Made {
  instance: WebAssembly.Instance;
  file: string;
}

/**
 * True when some memory has grown to its cap, or some table the rewrite capped
 * has grown past half its cap, so a failed memory.grow or table.grow likely
 * caused the trap. The rewrite exports every memory and table under HIDDEN_EXPORT,
 * so this sees them even when the guest exports none.
 */
function atCap(made: Made[], job: Job): 'memory' | 'table' | undefined {
  let limits: ReturnType<typeof callLimits>;
  try {
    limits = callLimits(job.limits.memoryBytes, job.bundle ?? {});
  } catch {
    return undefined;
  }
  const capBytes = limits.pagesPerMemory * PAGE;
  if (memories(made).some((m) => m.buffer.byteLength + PAGE > capBytes)) return 'memory';
  const tableFull = made.some(({ instance, file }) =>
    (job.bundle?.tables?.[file] ?? []).some((decl, i) => {
      const table = instance.exports[`${HIDDEN_EXPORT}table:${i}`];
      if (!(table instanceof WebAssembly.Table)) return false;
      const cap = tableCap(decl.min, decl.max, limits.tableGrowElements);
      const ours = cap > decl.min && cap < (decl.max ?? Number.POSITIVE_INFINITY);
      return ours && table.length > decl.min && table.length * 2 >= cap;
    }),
  );
  return tableFull ? 'table' : undefined;
}

/** Current linear memory of the call's instances, cheap enough to read on every host-side charge. */
function linearMeter(made: Made[]): () => number {
  let seen = -1;
  let list: WebAssembly.Memory[] = [];
  return () => {
    if (seen !== made.length) {
      list = memories(made);
      seen = made.length;
    }
    return list.reduce((total, m) => total + m.buffer.byteLength, 0);
  };
}

function memories(made: Made[]): WebAssembly.Memory[] {
  const seen = new Set<WebAssembly.Memory>();
  for (const { instance } of made) {
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) seen.add(value);
    }
  }
  return [...seen];
}

function linearMemoryBytes(made: Made[]): number {
  return memories(made).reduce((total, m) => total + m.buffer.byteLength, 0);
}
