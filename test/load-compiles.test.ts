// rt.load (and so `capsule prepare`) leaves nothing to compile on the first call's
// path: the core modules capped for the memory limit a call gets without an override.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../dist/index.js';
import { CAPABILITIES } from './helpers.js';

const POOL = { minThreads: 1, maxThreads: 1, spare: 0 };

describe('rt.load compiles what the first call runs', () => {
  it("the memory-capped modules for the manifest's limit are compiled at load, and the first call reuses them", async () => {
    const rt = await createRuntime({ capabilitiesDir: CAPABILITIES, pool: POOL });
    // The compiler is internal; its counts are what shows whether the call compiled anything.
    const compiler = (rt as unknown as Record<string, unknown>).compiler as { memoryEntries: { compiled: number; capped: number } };
    try {
      await rt.load('demo.echo');
      expect(compiler.memoryEntries.capped).toBe(1);
      expect((await rt.run('demo.echo', 'x')).output).toBe('x');
      expect(compiler.memoryEntries.capped).toBe(1);
    } finally {
      await rt.close();
    }
  });
});
