// The disk facts the pure permission rules in src/grants/ ask for, answered
// from this host's file system. The only place the planner touches the disk.
import { realpathSync, statSync } from 'node:fs';
import type { PathFacts } from './grants/fs.js';

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
