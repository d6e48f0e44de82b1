// Issue 9, class 2 (and the err(...) part of class 9): bytes capsule holds for a guest
// outside its linear memory count against the call's limits (src/sandbox/call-budget.ts).
// Hostile guests for http and random run in their own embedding process (test/embed.ts),
// with a peak-RSS bound; the other channels drive capsule's host implementation directly.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../dist/index.js';
import { CallBudget, RESOURCE_BYTES, symbolDispose } from '../src/sandbox/call-budget.js';
import { logInterface } from '../src/sandbox/host/log.js';
import type { LogRecord } from '../src/sandbox/job.js';
import { DenialLog } from '../src/sandbox/denial-log.js';
import { httpInterfaces } from '../src/sandbox/net/http.js';
import { filesystemInterfaces } from '../src/sandbox/wasi/filesystem.js';
import { randomInterfaces } from '../src/sandbox/wasi/random.js';
import { OutputStream, Sink } from '../src/sandbox/wasi/streams.js';
import { embed, expectHostSurvived } from './embed.js';
import { CAPABILITIES, failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

const MiB = 1024 * 1024;
// The embedding process alone peaks at about 250 MB (runtime, 3 workers, a plain call);
// on top of it a call may hold its limit, plus transient copies of up to a few MiB.
const BASELINE = 250 * MiB;
const MARGIN = 96 * MiB;

/** What a host function threw: its CapsuleError code, or the WASI error it raised. */
function thrown(fn: () => unknown): { code?: string; tag?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; tag?: string; message?: string };
  }
  throw new Error('expected a throw');
}

/** The methods of the wasi:http resources these tests call. */
interface HttpResource {
  append(name: string, value: Uint8Array): unknown;
  delete(name: string): unknown;
  body(): { write(): unknown };
  headers(): { append(name: string, value: Uint8Array): unknown; entries(): unknown[] };
}
type Ctor = new (...args: unknown[]) => HttpResource;

/** Drops a resource the way the glue does (its Symbol.dispose method). */
function dispose(resource: object): void {
  const drop = (resource as Record<symbol, unknown>)[symbolDispose];
  if (typeof drop !== 'function') throw new Error('not a resource: no dispose method');
  drop.call(resource);
}

describe('the per-call budget', () => {
  it('holds charges up to the memory limit with the linear memory, refuses past it, and stays failed', () => {
    const b = new CallBudget('test.x', { memoryBytes: 1000, outputBytes: 10 });
    let linear = 300;
    b.measureLinear(() => linear);
    b.charge(600, 'a');
    expect(thrown(() => b.charge(101, 'b'))).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(thrown(() => b.charge(101, 'b')).message).toContain('b needs 101 bytes');
    // The first refusal is the call's outcome even if the guest caught it: later charges fail too.
    b.release(600);
    linear = 0;
    expect(thrown(() => b.charge(1, 'c'))).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(b.failure?.code).toBe('MEMORY_LIMIT');
  });

  it('refuses a single absurd request without reading anything else, and measures err-like output', () => {
    const b = new CallBudget('test.x', { memoryBytes: 64 * MiB, outputBytes: 10 });
    expect(thrown(() => b.fits(2 ** 64, 'huge'))).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(thrown(() => new CallBudget('t', { memoryBytes: 1, outputBytes: 10 }).output(11, 'err message'))).toMatchObject({ code: 'OUTPUT_TOO_LARGE' });
  });
});

describe('wasi:random', () => {
  it('get-random-bytes(2^32) and (2^64 - 1) are MEMORY_LIMIT before anything is allocated', () => {
    const api = (budget = new CallBudget('test.x', { memoryBytes: 64 * MiB, outputBytes: MiB })) =>
      randomInterfaces(budget)['wasi:random/random'] as { getRandomBytes: (n: bigint) => Uint8Array };
    const before = process.memoryUsage().arrayBuffers;
    expect(thrown(() => api().getRandomBytes(2n ** 32n))).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(thrown(() => api().getRandomBytes(2n ** 64n - 1n))).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    expect(api().getRandomBytes(16n)).toHaveLength(16);
  });

  it('a guest asking for 512 MiB under a 64 MiB limit: MEMORY_LIMIT, host RSS within limit + a constant', () => {
    const dir = tempDir();
    writeCapability(dir, 'test.random-bomb', manifest('test.random-bomb', { permissions: { random: true } }), fixture('esc-random'));
    const r = embed({ id: 'test.random-bomb', capabilitiesDir: [CAPABILITIES, dir], input: 'x'.repeat(510), opts: { memoryLimitBytes: 64 * MiB } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: BASELINE + 64 * MiB + MARGIN });
    expect(r.hostile?.message).toContain('get-random-bytes');
  });
});

describe('wasi:http/types (linked for every guest, nothing granted)', () => {
  it('a guest appending a 1 MiB header value 600 times under 32 MiB: MEMORY_LIMIT, host RSS within limit + a constant', () => {
    const r = embed({ file: fixture('esc-fields'), input: 'x'.repeat(598), opts: { memoryLimitBytes: 32 * MiB } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: BASELINE + 32 * MiB + MARGIN });
    expect(r.hostile?.message).toContain('header field');
  });

  const types = (memoryBytes: number) => {
    const budget = new CallBudget('test.x', { memoryBytes, outputBytes: MiB });
    const api = httpInterfaces({ rules: { net: [], netBlocked: [] }, connections: 100, denials: new DenialLog(), timeoutMs: 1000, budget })[
      'wasi:http/types'
    ] as {
      Fields: Ctor;
      OutgoingRequest: Ctor;
    };
    return { budget, Fields: api.Fields, OutgoingRequest: api.OutgoingRequest };
  };

  it('header entries are charged while held and released on delete and on drop', () => {
    const { budget, Fields } = types(4 * MiB);
    const f = new Fields();
    const value = new Uint8Array(MiB);
    for (let i = 0; i < 3; i++) f.append('x-a', value);
    expect(thrown(() => f.append('x-a', value))).toMatchObject({ code: 'MEMORY_LIMIT' });
    const fresh = types(4 * MiB);
    const g = new fresh.Fields();
    g.append('x-a', value);
    g.append('x-b', value);
    g.delete('x-a');
    expect(fresh.budget.heldBytes).toBeLessThan(MiB + 4096);
    dispose(g);
    expect(fresh.budget.heldBytes).toBe(0);
    expect(budget.failure?.code).toBe('MEMORY_LIMIT');
  });

  it('minting fields resources without dropping them is bounded too', () => {
    const { Fields } = types(MiB);
    const e = thrown(() => {
      for (let i = 0; i < 1e6; i++) new Fields();
    });
    expect(e).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(e.message).toContain('fields resource');
    expect(MiB / RESOURCE_BYTES).toBeLessThan(1e6);
  });

  it('request bodies are charged, released when an unfinished body is dropped, and a request`s headers survive a dropped view', () => {
    const { budget, Fields, OutgoingRequest } = types(8 * MiB);
    const chunk = new Uint8Array(MiB);
    const bodies = () => {
      const req = new OutgoingRequest(new Fields());
      const body = req.body();
      const stream = body.write() as unknown as OutputStream;
      for (let i = 0; i < 3; i++) stream.write(chunk);
      return { req, body };
    };
    const { body } = bodies();
    const held = budget.heldBytes;
    expect(held).toBeGreaterThan(3 * MiB);
    dispose(body);
    expect(budget.heldBytes).toBeLessThan(held - 3 * MiB + 1);
    expect(
      thrown(() => {
        for (let i = 0; i < 10; i++) bodies();
      }),
    ).toMatchObject({ code: 'MEMORY_LIMIT' });

    const h = types(MiB);
    const headers = new h.Fields();
    headers.append('x-a', new Uint8Array([1]));
    const req = new h.OutgoingRequest(headers);
    const view = req.headers();
    dispose(view);
    expect(req.headers().entries()).toHaveLength(1);
    expect(thrown(() => view.append('x-b', new Uint8Array(1)))).toMatchObject({ tag: 'immutable' });
  });
});

describe('stdout/stderr and other streams', () => {
  it('a guest writing one byte at a time is kept in one buffer of at most outputBytes', () => {
    const sink = new Sink(1000);
    const out = new OutputStream(sink);
    const before = process.memoryUsage().heapUsed;
    const byte = new Uint8Array([120]);
    for (let i = 0; i < 200_000; i++) out.write(byte);
    expect(sink.text()).toHaveLength(1000);
    expect(sink.truncated).toBe(true);
    // One object per write would keep ~200 000 of them (tens of MB).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * MiB);
  });

  it('write-zeroes over what check-write permits is refused, never a buffer the guest sized', () => {
    const out = new OutputStream(new Sink(1000));
    expect(thrown(() => out.writeZeroes(2n ** 40n))).toMatchObject({ tag: 'last-operation-failed' });
    expect(thrown(() => out.blockingWriteZeroesAndFlush(2n ** 31n))).toMatchObject({ tag: 'last-operation-failed' });
  });
});

describe('resources handed to the guest', () => {
  it('a guest asking for stdout in a loop without dropping it: MEMORY_LIMIT, host RSS within limit + a constant', () => {
    const r = embed({ file: fixture('esc-handles'), input: 'x', opts: { memoryLimitBytes: 32 * MiB } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: BASELINE + 32 * MiB + MARGIN });
    expect(r.hostile?.message).toContain('output-stream');
  });
});

describe('capsule:host/log', () => {
  it('kept records count against the call`s memory limit', () => {
    const records: LogRecord[] = [];
    const budget = new CallBudget('test.x', { memoryBytes: 64 * 1024, outputBytes: MiB });
    const log = logInterface(records, budget, () => 0) as { log(level: string, message: string): void };
    const e = thrown(() => {
      for (let i = 0; i < 100; i++) log.log('info', 'x'.repeat(4096));
    });
    expect(e).toMatchObject({ code: 'MEMORY_LIMIT' });
    expect(records.length).toBeLessThan(10);
  });
});

describe('wasi:filesystem', () => {
  it('directory listings are charged until the guest drops them', () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 2000; i++) writeFileSync(path.join(data, `file-with-a-long-name-to-list-${String(i).padStart(6, '0')}`), '');
    const budget = new CallBudget('test.x', { memoryBytes: MiB, outputBytes: MiB });
    const fsCall = filesystemInterfaces({ preopens: [data], read: [data], write: [], blocked: [] }, new DenialLog(), budget);
    const [[root] = []] = (fsCall.interfaces['wasi:filesystem/preopens'] as { getDirectories(): [{ readDirectory(): object }, string][] }).getDirectories();
    if (!root) throw new Error('no preopened directory');
    const first = root.readDirectory();
    const held = budget.heldBytes;
    expect(held).toBeGreaterThan(2000 * 64);
    dispose(first);
    expect(budget.heldBytes).toBe(0);
    expect(
      thrown(() => {
        for (let i = 0; i < 100; i++) root.readDirectory();
      }),
    ).toMatchObject({ code: 'MEMORY_LIMIT' });
    fsCall.close();
  });
});

describe('err(...) messages are output', () => {
  let rt: Awaited<ReturnType<typeof createRuntime>>;
  beforeAll(async () => {
    rt = await createRuntime({ capabilitiesDir: CAPABILITIES, auditLog: false });
  });
  afterAll(async () => {
    await rt.close();
  });

  it('an err message over outputBytes is OUTPUT_TOO_LARGE, and the message is not copied to the caller (glue path)', async () => {
    const e = await failure(rt.runFile(fixture('esc-err'), 'x'.repeat(998), { outputBytes: MiB }));
    expect(e.code).toBe('OUTPUT_TOO_LARGE');
    expect(e.message).toMatch(/err message is 4096000 bytes, over the limit of 1048576/);
    expect(e.message.length).toBeLessThan(300);
    const ok = await failure(rt.runFile(fixture('esc-err'), 'x', { outputBytes: MiB }));
    expect(ok.code).toBe('CAPABILITY_ERROR');
  });

  it('the same on the direct (glue-free) path', async () => {
    const e = await failure(rt.runFile(fixture('fail'), {}, { outputBytes: 8 }));
    expect(e.code).toBe('OUTPUT_TOO_LARGE');
    expect(e.message).toContain('err message is 13 bytes');
    expect((await failure(rt.runFile(fixture('fail'), {}))).code).toBe('CAPABILITY_ERROR');
  });
});
