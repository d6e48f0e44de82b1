// An idle worker pool does not keep the process alive (tiers/pool-thread.ts): an app
// that ran a call and never closed its runtime still exits, and so does `capsule run`
// when it fails after starting its worker. Before the fix each of these hung: the
// pool unref'd a thread before adding its 'message' listener, which refs the port again.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, ROOT, tempDir } from './helpers.js';

/** Runs `script` (an ES module) in its own node; a hang is cut at 30 s and shows as SIGTERM. */
function node(script: string) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, cwd: ROOT });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const dist = (file: string) => JSON.stringify(path.join(ROOT, 'dist', file));

describe('an idle pool', () => {
  it('lets an app exit that ran a call and never closed its runtime', () => {
    const r = node(`
      const { createRuntime } = await import(${dist('index.js')});
      const rt = await createRuntime({ capabilitiesDir: ${JSON.stringify(CAPABILITIES)}, auditLog: false });
      const { output } = await rt.run('demo.echo', { left: 'open' });
      console.log(JSON.stringify(output));
    `);
    expect(r).toMatchObject({ signal: null, status: 0 });
    expect(r.stdout.trim()).toBe('{"left":"open"}');
  });

  it('lets `capsule run` exit that failed to load after starting its worker', () => {
    // A copy of dist/ with no node_modules to resolve: the run command's code fails to
    // import (ajv) after main.ts started the worker thread.
    const dir = tempDir('capsule-idle-exit-');
    cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    const r = spawnSync(process.execPath, [path.join(dir, 'dist', 'cli.js'), 'run', 'demo.echo', '{}', '--capabilities', CAPABILITIES], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: dir,
    });
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 1, signal: null });
    expect(r.stderr).toMatch(/^capsule: INTERNAL: Cannot find module/);
  });
});
