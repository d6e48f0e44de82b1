// One fresh transpile cache per test run, shared by every test file and every
// CLI process the tests start, so cache behaviour is tested from empty.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'capsule-test-cache-'));
  process.env.CAPSULE_CACHE_DIR = dir;
  return () => removeCache(dir);
}

/** Cache entries are read-only directories (0555): make them writable so a non-root user can remove them. */
function removeCache(dir: string): void {
  try {
    for (const name of readdirSync(dir)) chmodSync(path.join(dir, name), 0o700);
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}
