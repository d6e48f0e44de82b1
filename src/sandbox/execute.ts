// Runs one Job in the current thread: link, instantiate fresh, call, collect.
// Every tier ends up here, so a call behaves the same wherever it runs.
import { CapsuleError, messageOf, type ErrorData } from '../errors.js';
import type { CommandInput, Job, JobOutcome, JobResult, LogRecord } from './job.js';
import { linkImports } from './linker.js';
import { createWasi, ExitSignal } from './wasi/index.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

const glueCache = new Map<string, Promise<Instantiate>>();

function loadGlue(url: string): Promise<Instantiate> {
  let glue = glueCache.get(url);
  if (!glue) {
    glue = import(url).then((m: { instantiate: Instantiate }) => m.instantiate);
    glueCache.set(url, glue);
  }
  return glue;
}

export async function execute(job: Job): Promise<JobResult> {
  const command = job.world === 'command' ? commandInput(job.input) : undefined;
  const logs: LogRecord[] = [];
  const wasi = createWasi({
    grants: job.grants,
    args: [job.capabilityId, ...(command?.args ?? [])],
    // The caller's env comes with the input; granted host variables win over it.
    env: { ...(command?.env ?? {}), ...job.grants.env },
    stdin: new TextEncoder().encode(command?.stdin ?? ''),
    outputCap: job.limits.outputBytes,
    timeoutMs: job.limits.timeoutMs,
  });
  const instances: WebAssembly.Instance[] = [];
  let outcome: JobOutcome;
  try {
    const imports = linkImports(job.imports, job.grants, wasi, logs);
    const instantiate = await loadGlue(job.glueUrl);
    const exports = await instantiate(
      (name) => module(job, name),
      imports,
      (m, imp) => {
        const instance = new WebAssembly.Instance(m, imp);
        instances.push(instance);
        return instance;
      },
    );
    outcome = job.world === 'command' ? callCommand(exports) : callCapability(exports, job.input as string);
  } catch (e) {
    outcome = { ok: false, error: classify(e, job.world) };
    if (e instanceof ExitSignal) outcome = { ok: true, value: '', exitCode: e.code };
  } finally {
    wasi.close();
  }
  return {
    outcome,
    stdout: wasi.stdout.text(),
    stderr: wasi.stderr.text(),
    truncated: wasi.stdout.truncated || wasi.stderr.truncated,
    logs,
    denials: wasi.denials,
    memoryBytes: linearMemoryBytes(instances),
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

function callCapability(exports: Record<string, unknown>, input: string): JobOutcome {
  const run = exports.run;
  if (typeof run !== 'function') throw new CapsuleError('COMPONENT_INVALID', 'component does not export run');
  try {
    return { ok: true, value: run(input) as string };
  } catch (e) {
    const payload = errPayload(e);
    if (payload !== NOT_ERR) return { ok: false, error: { code: 'CAPABILITY_ERROR', message: String(payload) } };
    throw e;
  }
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

/** Map what escaped the guest to a capsule error code. */
export function classify(e: unknown, world: Job['world']): ErrorData {
  if (e instanceof CapsuleError) return e.toData();
  if (e instanceof WebAssembly.RuntimeError) return { code: 'TRAP', message: `guest trapped: ${e.message}` };
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return { code: 'TRAP', message: 'guest trapped: stack overflow' };
  }
  if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.CompileError) {
    return { code: 'COMPONENT_INVALID', message: `component failed to link: ${e.message}` };
  }
  return { code: 'TRAP', message: `guest failed in the ${world} call: ${messageOf(e)}` };
}

function linearMemoryBytes(instances: WebAssembly.Instance[]): number {
  const seen = new Set<WebAssembly.Memory>();
  for (const instance of instances) {
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) seen.add(value);
    }
  }
  let total = 0;
  for (const memory of seen) total += memory.buffer.byteLength;
  return total;
}
