// What starting the CLI costs: `node dist/cli.js ...` spawned as a user runs the
// bin (no npx), against `node -e 0`, the same node binary doing nothing. The
// child's whole life is timed, from spawn to exit; its output is checked so a
// CLI that fails fast never passes for a fast one.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TimedCall } from './paired.js';
import { PACKAGE_ROOT } from './setup.js';

export const CLI_FILE = path.join(PACKAGE_ROOT, 'dist', 'cli.js');

/** Spawns `node ...args` and resolves to the time until it exited, ms; rejects on a non-zero exit or unexpected output. */
export function nodeRun(args: string[], env: NodeJS.ProcessEnv, expect: RegExp): TimedCall {
  return () =>
    new Promise((resolve, reject) => {
      const t = performance.now();
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        const ms = performance.now() - t;
        if (code !== 0 || !expect.test(out)) {
          reject(new Error(`node ${args.join(' ')} exited ${code}: ${(err || out).trim().slice(0, 200)}`));
        } else {
          resolve(ms);
        }
      });
    });
}

/** Why the CLI cannot be timed here, or null. */
export function cliMissing(): string | null {
  return existsSync(CLI_FILE) ? null : `${CLI_FILE} is missing (run node scripts/build.mjs)`;
}
