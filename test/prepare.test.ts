// `capsule prepare [ID…]`: transpiles ahead of time into the cache, so the first run of a
// prepared capability finds its component there; progress per capability on stderr; a
// failure is reported (one `capsule: CODE:` line), the others go on, and the exit code is 1.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, cli, STACK_TRACE, tempDir } from './helpers.js';

function catalog(): string {
  const root = tempDir();
  for (const id of ['demo.echo', 'demo.text.wordcount']) cpSync(path.join(CAPABILITIES, id), path.join(root, id), { recursive: true });
  return root;
}

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
  });

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
  });

  it('has help, and is listed in capsule help', () => {
    expect(cli(['prepare', '--help']).stdout).toMatch(/^usage: capsule prepare \[ID\.\.\.\]/);
    expect(cli(['help']).stdout).toContain('capsule prepare [ID...]');
  });
});
