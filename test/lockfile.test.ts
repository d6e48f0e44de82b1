// `npm install` leaves the committed lockfile unchanged: resolved offline in a
// scratch copy of package.json + package-lock.json (nothing installed, no
// network), the lockfile npm writes back is byte for byte the committed one.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

it('npm install --package-lock-only --offline rewrites nothing in package-lock.json', () => {
  const dir = tempDir('capsule-lock-');
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(ROOT, f), path.join(dir, f));
  execFileSync('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const before = readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8');
  const after = readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
  // toBe on the whole text would print 5000 lines; the first differing line says enough.
  const a = before.split('\n');
  const b = after.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  expect(at === -1 && a.length === b.length ? 'identical' : `differs at line ${at + 1}: ${JSON.stringify(a[at])} became ${JSON.stringify(b[at])}`).toBe(
    'identical',
  );
}, 120_000);
