// Builds the import object for one instantiation from the grants alone.
import { checkImports, isWasi, unversioned } from '../grants/interfaces.js';
import type { CallBudget } from './call-budget.js';
import { appInterface, type HostCallCounts } from './host/app.js';
import { configInterface } from './host/config.js';
import { logInterface } from './host/log.js';
import type { FuelMeter } from './fuel-meter.js';
import type { Grants, HostCall, HostImports, LogRecord } from './job.js';
import { wasiFallback, type WasiCall } from './wasi/index.js';

/** Host interfaces capsule implements; each is linked only when granted. */
const HOST_INTERFACES: Record<string, (logs: LogRecord[], budget: CallBudget, grants: Grants) => object> = {
  'capsule:host/log': (logs, budget) => logInterface(logs, budget),
  'capsule:host/config': (_logs, budget, grants) => configInterface(grants.config ?? {}, budget),
};

/** The app's host functions for one call (README: Host functions): which, and how to reach them. */
export interface AppHost {
  imports: HostImports;
  call: HostCall;
  fuel: FuelMeter;
  counts: HostCallCounts;
}

export function linkImports(
  importNames: string[],
  grants: Grants,
  wasi: WasiCall,
  logs: LogRecord[],
  budget: CallBudget,
  app?: AppHost,
): Record<string, object> {
  const implemented = new Set([...Object.keys(HOST_INTERFACES), ...Object.keys(app?.imports ?? {})]);
  checkImports(importNames, grants.host, implemented);
  const imports: Record<string, object> = {};
  for (const name of importNames) {
    const base = unversioned(name);
    if (isWasi(base)) {
      imports[name] = wasi.interfaces[base] ?? wasiFallback(base);
      continue;
    }
    const own = HOST_INTERFACES[base];
    const funcs = app?.imports[base];
    // checkImports refused any custom import neither capsule nor the app implements.
    if (own) imports[name] = own(logs, budget, grants);
    else if (app && funcs) imports[name] = appInterface(base, funcs, app.call, budget, app.fuel, app.counts);
  }
  return imports;
}
