// Builds the import object for one instantiation from the grants alone.
import { CapsuleError } from '../errors.js';
import type { CallBudget } from './call-budget.js';
import { logInterface } from './host/log.js';
import { isWasi, unversioned, ungrantedImports } from './interface-name.js';
import type { Grants, LogRecord } from './job.js';
import { wasiFallback, type WasiCall } from './wasi/index.js';

/** Host interfaces capsule implements; each is linked only when granted. */
const HOST_INTERFACES: Record<string, (logs: LogRecord[], budget: CallBudget) => object> = {
  'capsule:host/log': (logs, budget) => logInterface(logs, budget),
};

export function linkImports(
  importNames: string[],
  grants: Grants,
  wasi: WasiCall,
  logs: LogRecord[],
  budget: CallBudget,
): Record<string, object> {
  const denied = ungrantedImports(importNames, grants.host);
  if (denied.length > 0) throw importDenied(denied);
  const imports: Record<string, object> = {};
  for (const name of importNames) {
    const base = unversioned(name);
    if (isWasi(base)) {
      imports[name] = wasi.interfaces[base] ?? wasiFallback(base);
      continue;
    }
    const make = HOST_INTERFACES[base];
    if (!make) throw importDenied([name], 'capsule has no implementation of it');
    imports[name] = make(logs, budget);
  }
  return imports;
}

export function importDenied(names: string[], why = 'the policy does not grant it'): CapsuleError {
  const list = names.join(', ');
  return new CapsuleError('IMPORT_DENIED', `component imports ${list}: ${why}`, { imports: names });
}
