// A spare instance: the next call's core instance, made by a worker between calls
// (tiers/worker-entry.ts) so that `new WebAssembly.Instance` (its memory set up, its
// start function run) is off the call's path. Only for direct-ABI components
// (sandbox/direct-abi.ts): one core module and no imports but the fuel checks', so
// the start function sees nothing of any call, and a spare is as fresh as an
// instance made at the call: no call has run in it.
//
// What it costs is bounded and then charged:
// - its start function runs under its own fuel meter with a budget of SPARE_START_FUEL
//   (about 10 ms of guest work; fuel, so the bound is the same on a loaded machine) and
//   a wall-clock backstop of SPARE_STUCK_MS; it traps at its next fuel check past
//   either. A spare that overruns is discarded and the pool makes no spares for that
//   component again (and replaces the worker that tried);
// - the fuel its start used is carried onto the meter of the call that takes it,
//   so the call's cpuMs/fuel budget counts it exactly as for a fresh instance
//   (a spare whose start used more than the call may have is not taken);
// - its linear memory is capped like any instance of that module (limits.memoryBytes)
//   and is the taking call's memory (stats.memoryBytes, the call's memory limit); while
//   it waits it belongs to no call's admission reservation, so a worker keeps one spare
//   and only one of at most SPARE_MEMORY_BYTES (a bigger one is dropped, and the pool
//   makes none again for that component): a pool holds at most threads × 16 MiB in spares.
import { CapsuleError } from '../errors.js';
import type { Job } from './job.js';
import { FuelMeter } from './fuel-meter.js';
import { FUEL_EXPORT, FUEL_IMPORT } from './limits/index.js';

/** The work a spare's start function may do (fuel, ~10 ms at FUEL_PER_MS) before it is stopped and the spare dropped. */
export const SPARE_START_FUEL = 50_000_000;
/**
 * Wall-clock backstop for a spare's start, and how long the pool waits for a worker
 * still making a spare to start a call before it ends that worker (tiers/worker.ts).
 */
export const SPARE_STUCK_MS = 1000;
/** The most linear memory a spare may hold while it waits for a call. */
export const SPARE_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * What a spare must match to serve a call: the same component, core file and memory
 * cap (the module is compiled per memory limit), and the same module bytes; undefined
 * for a call that cannot use a spare.
 */
export function spareKey(job: Job): string | undefined {
  const abi = job.directAbi;
  if (!abi || job.world !== 'capability') return undefined;
  return [job.digest, abi.coreFile, job.limits.memoryBytes, job.bundle?.sha256?.[abi.coreFile] ?? ''].join('|');
}

export class SpareInstance {
  readonly instance: WebAssembly.Instance;
  private readonly startMeter: FuelMeter;
  /** The meter the instance's fuel checks report to: the spare's own, then the taking call's. */
  private meter: FuelMeter;
  /** A call has taken it: it serves no other. */
  taken = false;

  /** Throws what stopped the start function (CPU_LIMIT past SPARE_START_FUEL, TIMEOUT past SPARE_STUCK_MS, a trap). */
  constructor(
    readonly key: string,
    module: WebAssembly.Module,
    who: string,
  ) {
    this.startMeter = new FuelMeter(`${who} (spare instance)`, { timeoutMs: SPARE_STUCK_MS, fuel: SPARE_START_FUEL });
    this.meter = this.startMeter;
    const refuel = (counter: number) => this.meter.refuel(counter);
    this.instance = new WebAssembly.Instance(module, { [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: refuel } });
    this.startMeter.track(this.instance.exports[FUEL_EXPORT]);
    // The limits rewrite exports every memory (HIDDEN_EXPORT), so all of them are seen here.
    const memories = new Set(Object.values(this.instance.exports).filter((v) => v instanceof WebAssembly.Memory));
    const bytes = [...memories].reduce((n, m) => n + m.buffer.byteLength, 0);
    if (bytes > SPARE_MEMORY_BYTES) throw new Error(`a spare of ${bytes} bytes of linear memory is over ${SPARE_MEMORY_BYTES}`);
  }

  /** The instance for one call, its start's fuel charged to `meter`; undefined when taken already or over budget. */
  takeFor(meter: FuelMeter): WebAssembly.Instance | undefined {
    if (this.taken || !meter.carry(this.startMeter)) return undefined;
    this.taken = true;
    this.meter = meter;
    return this.instance;
  }
}

/**
 * A spare for `job`'s component, or why none was made: 'overran' (its start ran past
 * SPARE_START_FUEL or SPARE_STUCK_MS), 'failed' (its start trapped, which a fresh instance at the call does
 * too and reports; or its memory is over SPARE_MEMORY_BYTES), undefined (the call
 * cannot use spares).
 */
export function makeSpare(job: Job): SpareInstance | 'overran' | 'failed' | undefined {
  const key = spareKey(job);
  const module = job.directAbi ? job.modules[job.directAbi.coreFile] : undefined;
  if (!key || !module) return undefined;
  try {
    return new SpareInstance(key, module, job.capabilityId);
  } catch (e) {
    return e instanceof CapsuleError && (e.code === 'CPU_LIMIT' || e.code === 'TIMEOUT') ? 'overran' : 'failed';
  }
}
