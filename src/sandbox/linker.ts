// Builds the import object for one instantiation from the grants alone.
import { checkImports, isWasi, unversioned } from '../grants/interfaces.js';
import type { CallBudget } from './call-budget.js';
import { logInterface } from './host/log.js';
import type { Grants, LogRecord } from './job.js';
import { wasiFallback, type WasiCall } from './wasi/index.js';

/** Host interfaces capsule implements; each is linked only when granted. */
const HOST_INTERFACES: Record<string, (logs: LogRecord[], budget: CallBudget) => object> = {
  'capsule:host/log': (logs, budget) => logInterface(logs, budget),
};
const IMPLEMENTED = new Set(Object.keys(HOST_INTERFACES));

export function linkImports(importNames: string[], grants: Grants, wasi: WasiCall, logs: LogRecord[], budget: CallBudget): Record<string, object> {
  checkImports(importNames, grants.host, IMPLEMENTED);
  const imports: Record<string, object> = {};
  for (const name of importNames) {
    const base = unversioned(name);
    if (isWasi(base)) {
      imports[name] = wasi.interfaces[base] ?? wasiFallback(base);
      continue;
    }
    // checkImports refused any custom import not in HOST_INTERFACES.
    const make = HOST_INTERFACES[base] as (typeof HOST_INTERFACES)[string];
    imports[name] = make(logs, budget);
  }
  return imports;
}
