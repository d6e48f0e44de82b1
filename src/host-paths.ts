// The host facts the pure permission rules (src/grants/) and the pure
// decision (src/policy/decide.ts) ask for, answered from this process and this
// host's file system. The only place the planner touches the disk, the
// environment or the clock.
import { realpathSync, statSync } from 'node:fs';
import type { PathFacts } from './grants/fs.js';
import type { DecideContext } from './policy/decide.js';

export const hostPaths: PathFacts = {
  realpath(p) {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
  isFile(p) {
    const st = statSync(p, { throwIfNoEntry: false });
    return st !== undefined && !st.isDirectory();
  },
};

/** This process's directory, environment and clock, and this host's disk, read now (once per decision). */
export function currentHost(): DecideContext {
  return { cwd: process.cwd(), env: process.env, now: Date.now(), disk: hostPaths };
}
