// One fresh transpile cache per test run, shared by every test file and every
// CLI process the tests start, so cache behaviour is tested from empty.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'capsule-test-cache-'));
  process.env.CAPSULE_CACHE_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
