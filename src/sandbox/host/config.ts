// capsule:host/config: key/value configuration for capability-world guests
// (Extism's `config`), from the policy grants and the call's own grants
// (policy/decide.ts). Read-only; each value handed to the guest must fit the
// call's memory budget. Values never reach the audit log (run-audit.ts logs keys).
import type { CallBudget } from '../call-budget.js';

export function configInterface(values: Readonly<Record<string, string>>, budget: CallBudget): object {
  const config = new Map(Object.entries(values));
  return {
    /** option<string>: undefined is none. */
    get(key: string): string | undefined {
      const v = config.get(key);
      if (v !== undefined) budget.fits(Buffer.byteLength(v), 'a capsule:host/config value');
      return v;
    },
    keys(): string[] {
      const keys = [...config.keys()];
      budget.fits(
        keys.reduce((n, k) => n + Buffer.byteLength(k) + 8, 0),
        'the capsule:host/config keys',
      );
      return keys;
    },
  };
}
