// The transpile cache: a second process start must not transpile again.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, fixture, tempDir } from './helpers.js';

describe('transpile cache', () => {
  it('first process transpiles, a second process reads the disk cache', () => {
    const cacheDir = tempDir('capsule-cache-');
    const env = { CAPSULE_CACHE_DIR: cacheDir };
    const first = JSON.parse(cli(['run', fixture('counter'), '--json'], { env }).stdout);
    expect(first.stats.cache).toBe('transpiled');
    expect(readdirSync(cacheDir)).toHaveLength(1);
    const second = JSON.parse(cli(['run', fixture('counter'), '--json'], { env }).stdout);
    expect(second.stats.cache).toBe('disk');
    expect(second.output).toEqual({ count: 1 });
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });

  it('within one runtime, later calls reuse the compiled modules', async () => {
    const { createRuntime } = await import('../dist/index.js');
    const rt = await createRuntime({ capabilitiesDir: tempDir(), cacheDir: tempDir('capsule-cache-') });
    try {
      const sources = [];
      for (let i = 0; i < 3; i++) sources.push((await rt.runFile(fixture('counter'), {})).stats.cache);
      expect(sources).toEqual(['transpiled', 'memory', 'memory']);
    } finally {
      await rt.close();
    }
    expect(existsSync(fixture('counter'))).toBe(true);
  });
});
