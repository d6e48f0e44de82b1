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
//
// A spare also takes the page faults of its call's first writes off the call's path:
// the first write to each OS page of a new linear memory faults it in (20–50 µs a page
// on the Firecracker VMs capsule is measured on, more than the rest of a small call's
// guest work). A worker notes which pages of its memory a call of the component left
// written (writtenPages, once per component) and each later spare writes to those
// pages, one word each, the value it already holds (prefault): the memory's
// contents are unchanged, so the spare is as fresh as before, and its call finds the
// pages mapped. At most TOUCH_PAGES pages, so the work is bounded whatever the guest does.
import { CapsuleError } from '../errors.js';
import type { Job } from './job.js';
import { FuelMeter } from './fuel-meter.js';
import { FUEL_EXPORT, FUEL_IMPORT } from './limits/index.js';
import { SPARE_STUCK_MS, spareKey } from './spare-key.js';

/** The work a spare's start function may do (fuel, ~10 ms at FUEL_PER_MS) before it is stopped and the spare dropped. */
export const SPARE_START_FUEL = 50_000_000;
/** The most linear memory a spare may hold while it waits for a call. */
export const SPARE_MEMORY_BYTES = 16 * 1024 * 1024;
/** The most pages of its memory a spare faults in ahead of its call. */
export const TOUCH_PAGES = 16;
/** How far into a used instance's memory writtenPages looks (reading the rest faults it in too, once). */
const SCAN_BYTES = 256 * 1024;
/** The OS page: what one fault maps. */
const PAGE_BYTES = 4096;
const PAGE_INTS = PAGE_BYTES / 4;

export class SpareInstance {
  readonly instance: WebAssembly.Instance;
  private readonly startMeter: FuelMeter;
  /** The meter the instance's fuel checks report to: the spare's own, then the taking call's. */
  private meter: FuelMeter;
  /** A call has taken it: it serves no other. */
  taken = false;
  /** The memory the direct ABI passes strings through (the one the call writes first). */
  readonly memory: WebAssembly.Memory | undefined;

  /**
   * Throws what stopped the start function (CPU_LIMIT past SPARE_START_FUEL, TIMEOUT past SPARE_STUCK_MS, a trap).
   * `pages`: pages of `memoryExport` to fault in now (writtenPages of an earlier call's instance).
   */
  constructor(
    readonly key: string,
    module: WebAssembly.Module,
    who: string,
    memoryExport?: string,
    pages: readonly number[] = [],
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
    const memory = memoryExport === undefined ? undefined : this.instance.exports[memoryExport];
    this.memory = memory instanceof WebAssembly.Memory ? memory : undefined;
    if (this.memory) prefault(this.memory, pages);
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
export function makeSpare(job: Job, pages?: readonly number[]): SpareInstance | 'overran' | 'failed' | undefined {
  const key = spareKey(job);
  const module = job.directAbi ? job.modules[job.directAbi.coreFile] : undefined;
  if (!key || !module) return undefined;
  try {
    return new SpareInstance(key, module, job.capabilityId, job.directAbi?.memory, pages);
  } catch (e) {
    return e instanceof CapsuleError && (e.code === 'CPU_LIMIT' || e.code === 'TIMEOUT') ? 'overran' : 'failed';
  }
}

/**
 * The pages (4 KiB, by index) of `memory` that hold a non-zero byte, in its first
 * SCAN_BYTES, at most TOUCH_PAGES: what a call of this component wrote (a used
 * instance's memory, read once per component by a worker).
 */
export function writtenPages(memory: WebAssembly.Memory): number[] {
  const ints = new Int32Array(memory.buffer, 0, Math.min(memory.buffer.byteLength, SCAN_BYTES) >>> 2);
  const pages: number[] = [];
  for (let page = 0; page * PAGE_INTS < ints.length && pages.length < TOUCH_PAGES; page++) {
    const end = (page + 1) * PAGE_INTS;
    for (let i = page * PAGE_INTS; i < end; i++) {
      if (ints[i] !== 0) {
        pages.push(page);
        break;
      }
    }
  }
  return pages;
}

/** Faults `pages` of `memory` in by writing to each the value it holds (an atomic or with 0): its contents do not change. */
function prefault(memory: WebAssembly.Memory, pages: readonly number[]): void {
  const ints = new Int32Array(memory.buffer);
  for (const page of pages.slice(0, TOUCH_PAGES)) {
    const i = page * PAGE_INTS;
    if (Number.isInteger(i) && i >= 0 && i < ints.length) Atomics.or(ints, i, 0);
  }
}
