// The compiled core modules a pool worker already holds, so a call sends each module
// to a thread once and then only its id (structured-cloning a WebAssembly.Module
// per call was about a tenth of a worker's busy time, plus the main thread's
// serialisation).
//
// An id names one WebAssembly.Module object of this process, never reused: the
// compiler makes one object per component × memory cap (sandbox/compile.ts), so an
// id stands for exactly the code (bytes, fuel checks, caps) that object was compiled
// from, and a recompiled module gets a new id and is sent again. The worker also
// keeps which component and core file each id came with, and refuses a job whose
// digest or file name does not match: a worker never runs a module other than the
// one the job's digest names.
//
// The main side decides what each worker keeps (HeldModules, an LRU of at most
// MODULES_PER_WORKER ids) and tells it what to drop in the same message, so both
// sides agree without a reply and the worker's map is bounded like its glue cache.
import { Lru } from '../lru.js';
import type { Job } from '../sandbox/job.js';

/** Compiled modules a worker keeps: twice the glue modules it keeps (a component has one or a few core modules). */
export const MODULES_PER_WORKER = 128;

/** A job's modules as a call message carries them: by core file name, the id, and the module only when the worker does not hold it. */
export type ModuleRefs = Record<string, { id: number; module?: WebAssembly.Module }>;

/** What a call message says about modules: the job's, and the ids the worker must drop first. */
export interface ModulesMessage {
  refs: ModuleRefs;
  drop?: number[];
}

let lastId = 0;
const ids = new WeakMap<WebAssembly.Module, number>();

/** This module object's id in this process. */
export function moduleId(m: WebAssembly.Module): number {
  let id = ids.get(m);
  if (id === undefined) {
    id = ++lastId;
    ids.set(m, id);
  }
  return id;
}

/** Main side, one per worker thread: the ids that worker holds. */
export class HeldModules {
  private readonly held: Lru<number, true>;
  /** Modules sent in full to this worker (for tests and reports). */
  sent = 0;

  constructor(max = MODULES_PER_WORKER) {
    this.held = new Lru(max);
  }

  /**
   * What to send for `modules`: each module's id, the module itself when this worker
   * does not hold it, and the least recently used ids it must drop to make room.
   * Call `commit` once the message is posted (one that could not be posted changed nothing).
   */
  pack(modules: Record<string, WebAssembly.Module>): ModulesMessage {
    const refs: ModuleRefs = {};
    let fresh = 0;
    for (const name in modules) {
      const module = modules[name] as WebAssembly.Module;
      const id = moduleId(module);
      if (this.held.get(id)) refs[name] = { id };
      else {
        refs[name] = { id, module };
        fresh++;
      }
    }
    if (fresh === 0) return { refs };
    const over = this.held.size + fresh - this.held.max;
    if (over <= 0) return { refs };
    // The least recently used first, never one this call needs (those were just touched, so come last).
    const needed = new Set(Object.values(refs).map((r) => r.id));
    const drop = this.held
      .keys()
      .filter((k) => !needed.has(k))
      .slice(0, over);
    return { refs, drop };
  }

  /** The message was posted: the worker now holds its modules, and not the ones it was told to drop. */
  commit(message: ModulesMessage): void {
    for (const id of message.drop ?? []) this.held.delete(id);
    for (const name in message.refs) {
      const ref = message.refs[name] as ModulesMessage['refs'][string];
      if (ref.module) this.sent++;
      this.held.set(ref.id, true);
    }
  }
}

/** Worker side: the modules this worker holds, by id, with the component and core file each came for. */
export class WorkerModules {
  private readonly byId = new Map<number, { module: WebAssembly.Module; digest: string; file: string }>();

  get size(): number {
    return this.byId.size;
  }

  /**
   * The job's modules by file name: drops what the main side dropped, keeps what came
   * in full, and looks up the rest. Throws when an id is unknown or was given for
   * another component or file (never runs it).
   */
  resolve(m: ModulesMessage, job: Pick<Job, 'capabilityId' | 'digest'>): Record<string, WebAssembly.Module> {
    for (const id of m.drop ?? []) this.byId.delete(id);
    const out: Record<string, WebAssembly.Module> = {};
    for (const file in m.refs) {
      const ref = m.refs[file] as ModulesMessage['refs'][string];
      if (ref.module) this.byId.set(ref.id, { module: ref.module, digest: job.digest, file });
      const held = this.byId.get(ref.id);
      if (!held) throw new Error(`${job.capabilityId}: module ${ref.id} (${file}) is not held by this worker`);
      if (held.digest !== job.digest || held.file !== file) {
        throw new Error(`${job.capabilityId}: module ${ref.id} was sent for ${held.digest} ${held.file}, not ${job.digest} ${file}`);
      }
      out[file] = held.module;
    }
    return out;
  }
}
