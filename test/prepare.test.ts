// `capsule prepare [ID…]`: transpiles ahead of time into the cache, so the first run of a
// prepared capability finds its component there; progress per capability on stderr; a
// failure is reported (one `capsule: CODE:` line), the others go on, and the exit code is 1.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, CLI, cli, STACK_TRACE, tempDir } from './helpers.js';

function catalog(): string {
  const root = tempDir();
  for (const id of ['demo.echo', 'demo.text.wordcount']) cpSync(path.join(CAPABILITIES, id), path.join(root, id), { recursive: true });
  return root;
}

// Each test starts several CLI processes: minutes at load average 30 on the 2-core machine.
describe('capsule prepare', () => {
  it('without ids prepares every capability; the next prepare and the first run find them in the cache', () => {
    const caps = catalog();
    const env = { CAPSULE_CACHE_DIR: tempDir('capsule-cache-') };
    const first = cli(['prepare', '--capabilities', caps], { env });
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/^capsule: \[1\/2\] preparing demo\.echo…\ncapsule: \[1\/2\] demo\.echo: transpiled now, \d/);
    expect(first.stderr).toMatch(/\ncapsule: \[2\/2\] demo\.text\.wordcount: transpiled now, \d/);
    expect(first.stdout).toBe('prepared 2 of 2 capabilities (2 transpiled now, 0 already prepared)\n');

    const again = cli(['prepare', '--capabilities', caps, '--json'], { env });
    expect(again.status).toBe(0);
    const rows = JSON.parse(again.stdout) as { id: string; source: string }[];
    expect(rows.map((r) => [r.id, r.source])).toEqual([
      ['demo.echo', 'disk'],
      ['demo.text.wordcount', 'disk'],
    ]);

    const run = cli(['run', 'demo.echo', '--capabilities', caps, '--input', '{"a":1}', '--json'], { env });
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as { stats: { cache: string } }).stats.cache).toBe('disk');
  }, 240_000);

  it('reports an unknown id and a component that fails its digest, prepares the rest, exits 1', () => {
    const caps = catalog();
    const file = path.join(caps, 'demo.text.wordcount', 'capability.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...m, digest: `sha256:${'0'.repeat(64)}` }));
    const r = cli(['prepare', 'nope.missing', 'demo.text.wordcount', 'demo.echo', '--capabilities', caps], {
      env: { CAPSULE_CACHE_DIR: tempDir('capsule-cache-') },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('capsule: CAPABILITY_NOT_FOUND: no capability with id "nope.missing"\n');
    expect(r.stderr).toMatch(/\ncapsule: DIGEST_MISMATCH: demo\.text\.wordcount: /);
    expect(r.stderr).toMatch(/\ncapsule: \[3\/3\] demo\.echo: transpiled now, /);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stdout).toBe('prepared 1 of 3 capabilities (1 transpiled now, 0 already prepared)\n');
  }, 240_000);

  // The transpile of the 16 MB markdown plugin takes seconds (2–9 s measured), far past the 1 s
  // threshold; a piped run never shows the line, however slow the load.
  it.skipIf(!existsSync('/usr/bin/script'))(
    'capsule run on a terminal says when a load is slow (a first transpile); piped, it says nothing',
    () => {
      const env = { ...process.env, CAPSULE_CACHE_DIR: tempDir('capsule-cache-') };
      const args = ['run', 'demo.markdown.render', '--allow-host', 'capsule:host/log', '--input', '{"markdown":"# x"}'];
      const piped = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 240_000 });
      expect(piped.status).toBe(0);
      expect(piped.stderr).not.toContain('capsule: loading');
      env.CAPSULE_CACHE_DIR = tempDir('capsule-cache-');
      const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
      // script(1) runs it on a pseudo-terminal (stdout and stderr both go to its output).
      const tty = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { env, encoding: 'utf8', timeout: 240_000 });
      expect(tty.status).toBe(0);
      expect(tty.stdout).toMatch(
        /capsule: loading demo\.markdown\.render \(a first load transpiles its component; capsule prepare does that ahead of time\)…\r?\n/,
      );
      expect(tty.stdout).toMatch(/capsule: loaded demo\.markdown\.render in [\d.]+ s \(transpiled now\)\r?\n/);
    },
    300_000,
  );

  it('has help, and is listed in capsule help', () => {
    expect(cli(['prepare', '--help']).stdout).toMatch(/^usage: capsule prepare \[ID\.\.\.\]/);
    expect(cli(['help']).stdout).toContain('capsule prepare [ID...]');
  });
});
