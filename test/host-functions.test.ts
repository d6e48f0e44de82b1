// App host functions (README: Host functions): a guest imports acme:kv/store, the
// app supplies it to createRuntime, and the policy grants it to the capability.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type PolicyDocument, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

const KV = 'acme:kv/store';
let dir: string;
const kvPolicy = (extra: Record<string, unknown> = {}): PolicyDocument => ({
  grants: [{ capabilities: 'kv.*', host: [KV], tier: 'inline', ...extra }],
});

beforeAll(() => {
  dir = tempDir('capsule-host-');
  writeCapability(dir, 'kv.app', manifest('kv.app', { permissions: { host: [KV] } }), fixture('host-kv'));
  writeCapability(dir, 'kv.process', manifest('kv.process', { permissions: { host: [KV] }, isolation: 'process' }), fixture('host-kv'));
});

/** An async key-value store, as an app would write it. */
function asyncStore() {
  const data = new Map<string, string>();
  return {
    data,
    fns: {
      get: async (key: string) => {
        await new Promise((r) => setTimeout(r, 1));
        const v = data.get(key);
        if (v === undefined) throw new Error(`no key ${key}`);
        return v;
      },
      set: async (key: string, value: string) => {
        await new Promise((r) => setTimeout(r, 1));
        data.set(key, value);
      },
    },
  };
}

function syncStore() {
  const data = new Map<string, string>();
  return {
    get: (key: string) => {
      const v = data.get(key);
      if (v === undefined) throw new Error(`no key ${key}`);
      return v;
    },
    set: (key: string, value: string) => void data.set(key, value),
  };
}

describe('host functions in the worker tier', () => {
  let rt: Runtime;
  let hang = false;
  let big = false;
  let throwing = false;
  let uncopyable = false;
  const store = asyncStore();
  const auditLog = path.join(tempDir('capsule-host-audit-'), 'audit.jsonl');
  beforeAll(async () => {
    rt = await createRuntime({
      capabilitiesDir: dir,
      policy: kvPolicy(),
      auditLog,
      pool: { maxThreads: 1, spare: 0 },
      host: {
        [`${KV}@1.0.0`]: {
          get: (key: string) =>
            hang ? new Promise<string>(() => undefined) : big ? 'x'.repeat(10 << 20) : uncopyable ? () => 'a function' : store.fns.get(key),
          set: (key: string, value: string) => {
            if (throwing) throw new Error('the store is read-only');
            return store.fns.set(key, value);
          },
        },
      },
    });
  });
  afterAll(() => rt.close());

  it('a guest calls an async host function and gets its result; the audit counts the calls', async () => {
    const r = await rt.run('kv.app', { hello: 'world' });
    expect(r.output).toEqual({ hello: 'world' });
    expect(r.stats.tier).toBe('worker');
    expect(store.data.get('k')).toBe('{"hello":"world"}');
    await rt.flushAudit();
    const end = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'run.end')
      .at(-1);
    expect(end?.hostCalls).toEqual({ [`${KV}#set`]: 1, [`${KV}#get`]: 1 });
    expect(JSON.stringify(end)).not.toContain('hello');
  });

  it('a throw from a function returning a WIT result is its err; from one that does not, CAPABILITY_ERROR naming it', async () => {
    store.data.clear();
    throwing = true;
    try {
      const e = await failure(rt.run('kv.app', 1));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toContain(`host function ${KV}#set failed: the store is read-only`);
    } finally {
      throwing = false;
    }
    // get throws (no such key) → result err → the guest returns it as its own err.
    const noKey = await createRuntime({
      capabilitiesDir: dir,
      policy: kvPolicy(),
      host: { [KV]: { get: async () => Promise.reject(new Error('no key k')), set: async () => undefined } },
    });
    try {
      const e = await failure(noKey.run('kv.app', 1));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toBe('no key k');
    } finally {
      await noKey.close();
    }
  });

  it('a host function that never resolves is cut by the TIMEOUT, and the same worker serves the next call', async () => {
    // The cut guest has INTERRUPT_GRACE_MS (50 ms) to hand its result back before its worker is
    // terminated; on a loaded machine one try can miss that. Without the cancel, every try does.
    let kept = false;
    for (let attempt = 0; attempt < 3 && !kept; attempt++) {
      const before = await rt.run('kv.app', 'before');
      hang = true;
      let e: Awaited<ReturnType<typeof failure>>;
      try {
        e = await failure(rt.run('kv.app', 'x', { timeoutMs: 300 }));
      } finally {
        hang = false;
      }
      expect(e.code).toBe('TIMEOUT');
      const after = await rt.run('kv.app', 'after');
      expect(after.output).toBe('after');
      kept = !e.message.includes('terminated') && after.stats.worker === before.stats.worker;
    }
    expect(kept).toBe(true);
  });

  it('a result that cannot be copied to the worker becomes the function err the guest sees, and the worker serves on', async () => {
    uncopyable = true;
    try {
      const e = await failure(rt.run('kv.app', 'x'));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toMatch(/^it returned a value that cannot be copied/);
    } finally {
      uncopyable = false;
    }
    expect((await rt.run('kv.app', 'fine')).output).toBe('fine');
  });

  it('a 10 MiB host result over the memory limit is refused (MEMORY_LIMIT), never copied into the guest', async () => {
    big = true;
    try {
      const e = await failure(rt.run('kv.app', 'x', { memoryLimitBytes: 4 << 20 }));
      expect(e.code).toBe('MEMORY_LIMIT');
      expect(e.message).toContain(`host function ${KV}#get returned 10485760 bytes`);
    } finally {
      big = false;
    }
  });
});

describe('host functions in the inline tier', () => {
  it('a synchronous store works; an async one is refused saying why', async () => {
    const rt = await createRuntime({ capabilitiesDir: dir, policy: kvPolicy(), host: { [KV]: syncStore() } });
    try {
      const r = await rt.run('kv.app', [1, 2], { tier: 'inline' });
      expect(r.output).toEqual([1, 2]);
      expect(r.stats.tier).toBe('inline');
    } finally {
      await rt.close();
    }
    const a = await createRuntime({ capabilitiesDir: dir, policy: kvPolicy(), host: { [KV]: asyncStore().fns } });
    try {
      const e = await failure(a.run('kv.app', 1, { tier: 'inline' }));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toMatch(/set returned a Promise: the inline tier calls host functions synchronously/);
    } finally {
      await a.close();
    }
  });
});

describe('what links and where', () => {
  it('ungranted → IMPORT_DENIED, even with the app supplying it', async () => {
    const rt = await createRuntime({ capabilitiesDir: dir, policy: { grants: [{ capabilities: 'kv.*' }] }, host: { [KV]: syncStore() } });
    try {
      const e = await failure(rt.run('kv.app', 1));
      expect(e.code).toBe('IMPORT_DENIED');
      expect(e.message).toContain(KV);
    } finally {
      await rt.close();
    }
  });

  it('granted but not supplied by the app → IMPORT_DENIED; a missing function is named', async () => {
    const none = await createRuntime({ capabilitiesDir: dir, policy: kvPolicy() });
    try {
      expect((await failure(none.run('kv.app', 1))).message).toMatch(/capsule has no implementation of it/);
    } finally {
      await none.close();
    }
    const auditLog = path.join(tempDir('capsule-host-half-'), 'audit.jsonl');
    const half = await createRuntime({ capabilitiesDir: dir, policy: kvPolicy(), auditLog, host: { [KV]: { get: () => '' } } });
    try {
      const e = await failure(half.run('kv.app', 1));
      expect(e.code).toBe('IMPORT_DENIED');
      expect(e.message).toContain('has no function set');
      // Audited like any refusal of the plan.
      await half.flushAudit();
      expect(readFileSync(auditLog, 'utf8')).toMatch(/"event":"denial","stage":"plan".*has no function set/);
    } finally {
      await half.close();
    }
  });

  it('the process tier refuses a capability that needs the app host (ESCALATION_UNAVAILABLE naming why)', async () => {
    const rt = await createRuntime({ capabilitiesDir: dir, policy: kvPolicy(), host: { [KV]: syncStore() } });
    try {
      const e = await failure(rt.run('kv.process', 1));
      expect(e.code).toBe('ESCALATION_UNAVAILABLE');
      expect(e.message).toContain(`cannot call the app's host functions (${KV})`);
    } finally {
      await rt.close();
    }
  });

  it('a bad host option is USAGE', async () => {
    await expect(createRuntime({ host: { 'not an interface': {} } })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(createRuntime({ host: { 'capsule:host/log': { log: () => undefined } } })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
