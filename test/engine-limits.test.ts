// Issue 9, class 1: engine allocations outside linear memory. Each hostile guest
// runs in its own embedding process (test/embed.ts): before tables were capped,
// these killed that process (SIGABRT from a fatal V8 heap OOM) or took it far
// past its limit; now the process lives, its RSS stays bounded, the hostile call
// is MEMORY_LIMIT and a plain call afterwards succeeds.
import { describe, expect, it } from 'vitest';
import { embed, expectHostSurvived } from './embed.js';
import { fixture } from './helpers.js';

const MiB = 1024 * 1024;
const LIMIT = 16 * MiB;
// ~250 MB is the embedding process's own baseline (runtime + 3 workers); then the
// call's limit, and 100 MB of margin for GC timing. Unbounded, these guests reached
// 730 MB to 1.5 GB before the process aborted.
const MAX_RSS = 250 * MiB + LIMIT + 100 * MiB;
const opts = { memoryLimitBytes: LIMIT, timeoutMs: 60_000 };

describe('tables are capped and counted against memoryBytes (the host survives)', () => {
  it('eight externref tables grown as far as they go: MEMORY_LIMIT, host alive', () => {
    const r = embed({ file: fixture('table-bomb'), opts });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
  });

  it('funcref tables grown and filled (table.fill) with a function reference: MEMORY_LIMIT, host alive', () => {
    const r = embed({ file: fixture('table-bomb-funcref'), opts });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
  });

  it('tables that start with 10 M elements are refused before the guest runs, naming the table', () => {
    const r = embed({ file: fixture('table-bomb-initial'), opts });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
    expect(r.hostile?.message).toMatch(/table 0 of core module .* needs 10000000 elements at start/);
  });

  it('tables imported from six instances of one module: the per-call total holds', () => {
    const r = embed({ file: fixture('table-bomb-imported'), opts });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
  });

  it('the process tier applies the same caps', () => {
    const r = embed({ file: fixture('table-bomb'), opts: { ...opts, tier: 'process' } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
  });

  it('the inline tier (the calling thread) applies the same caps', () => {
    const policy = { grants: [{ capabilities: 'file.*', tier: 'inline' }] };
    const r = embed({ file: fixture('table-bomb'), opts: { ...opts, tier: 'inline' }, policy });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: MAX_RSS });
  });
});
