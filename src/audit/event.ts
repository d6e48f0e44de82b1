// What the runtime records. Every event is one line of the audit file; the
// chain fields (seq, time, prev, hash) are added by the writer.
export type AuditEventName =
  | 'runtime.open' // a runtime started writing to this file (policy source, pid)
  | 'runtime.close'
  | 'load' // a capability's manifest and component were read and their provenance checked
  | 'grant' // effective grants, limits and tier for one call
  | 'link' // how each import of the component links (capsule WASI, granted host interface)
  | 'escalation' // the call needs a stronger tier than a worker; whether a runner exists
  | 'denial' // something was refused (load, plan, or a guest access), with its code
  | 'run.start' // written before the job is dispatched
  | 'limit' // a limit stopped the call (TIMEOUT, MEMORY_LIMIT, CPU_LIMIT, OUTPUT_TOO_LARGE)
  | 'run.end' // written in a finally, whatever happened to the guest or its worker
  | 'cache.tampered'; // a transpile-cache file no longer matched the hash recorded when it was written

/** Names the writer owns; an event may not use them. */
export type ChainField = 'seq' | 'time' | 'prev' | 'hash';

export type AuditEvent = { event: AuditEventName } & { [K in ChainField]?: never } & Record<string, unknown>;
