// Granted env values reach a container through `--env-file`, never `-e KEY=VALUE`:
// a command line is visible to every user of the host (ps, /proc/PID/cmdline). The
// file is created 0600 in a fresh 0700 directory and deleted when the call ends.
// Both CLIs read it as docker's kvfile format (apple/container Parser.envFile is a
// port of it): one KEY=VALUE per line, split on any newline, so a value holding a
// line break (or NUL) cannot be passed and is refused rather than cut.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CapsuleError } from '../../errors.js';

/** Every character Swift's `.newlines` splits on, and NUL. */
const LINE_BREAK = /[\n\v\f\r\u0085\u2028\u2029\0]/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvFile {
  path: string;
  remove(): Promise<void>;
}

export function envFileText(id: string, env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!KEY.test(k)) throw new CapsuleError('INPUT_INVALID', `${id}: env name ${JSON.stringify(k.slice(0, 80))} is not a valid variable name`);
      if (LINE_BREAK.test(v)) throw new CapsuleError('INPUT_INVALID', `${id}: env ${k} holds a line break or NUL, which a container's env file cannot carry`);
      return `${k}=${v}\n`;
    })
    .join('');
}

/** undefined when there is nothing to pass. */
export async function writeEnvFile(id: string, env: Record<string, string>): Promise<EnvFile | undefined> {
  const text = envFileText(id, env);
  if (text === '') return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'capsule-env-'));
  const file = path.join(dir, 'env');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    await remove();
    throw e;
  }
  return { path: file, remove };
}
