// The parent's side of a process-tier child's HTTP requests (src/sandbox/net/relay.ts):
// each request is checked against the call's net grant again, whatever the child
// says, and held to the call's caps. Servers on 127.0.0.1, started and stopped here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Job, WireFetchReply, WireJob } from '../src/sandbox/job.js';
import { Relay, type RelayRules } from '../src/sandbox/net/relay.js';
import { runChildJob } from '../src/tiers/child-job.js';
import { CapsuleError } from '../src/errors.js';
import { ROOT } from './helpers.js';

describe('Relay: the parent checks each request of the child again', () => {
  let granted: http.Server;
  let other: http.Server;
  let base: string;
  let otherBase: string;
  const hits: string[] = [];
  /** What the granted server saw of each request: its method and Host header. */
  const seen: { method?: string; host?: string; connection?: string }[] = [];
  /** Requests to /hang: resolved when the server sees the request's socket close. */
  let hangClosed: Promise<void> | undefined;
  let hangArrived: () => void = () => {};
  const listen = async (name: string, body: (url: string) => string | Buffer) => {
    const s = http.createServer((req, res) => {
      hits.push(`${name} ${req.url}`);
      seen.push({ method: req.method, host: req.headers.host, connection: req.headers.connection });
      if (req.url === '/hang') {
        hangClosed = new Promise((r) => res.on('close', () => r()));
        hangArrived();
        return; // never answers
      }
      res.end(body(req.url ?? ''));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return [s, `http://127.0.0.1:${(s.address() as AddressInfo).port}`] as const;
  };
  beforeAll(async () => {
    [granted, base] = await listen('granted', (url) => (url === '/big' ? Buffer.alloc(9 << 20, 97) : `hello ${url}`));
    [other, otherBase] = await listen('other', () => 'SHOULD NOT BE SEEN');
  });
  afterAll(() => {
    granted.close();
    other.close();
  });
  const rules = (more: Partial<RelayRules> = {}): RelayRules => ({
    grants: { net: [base], netBlocked: [] },
    connections: 100,
    timeLeftMs: () => 5000,
    signal: new AbortController().signal,
    ...more,
  });
  const ask = async (url: string, extra: Record<string, unknown> = {}, relay = new Relay(rules())) =>
    JSON.parse(await relay.answer({ url, method: 'GET', headers: [], timeoutMs: 5000, maxResponseBytes: 1 << 20, ...extra })) as WireFetchReply;

  it('a granted host is fetched; the body comes back in base64', async () => {
    const r = await ask(`${base}/x`);
    expect(r.ok && Buffer.from(r.body, 'base64').toString()).toBe('hello /x');
  });

  it('a child asking for an ungranted host (it skipped its own check) is refused without a connection', async () => {
    const before = hits.length;
    expect(await ask(`${otherBase}/stolen`)).toMatchObject({ ok: false, code: 'HTTP-request-denied' });
    expect(await ask('not a url')).toMatchObject({ ok: false, code: 'HTTP-request-URI-invalid' });
    expect(hits.slice(before)).toEqual([]);
  });

  it("a blocked host is refused although granted; the call's connections are counted across requests", async () => {
    const before = hits.length;
    const blocked = new Relay(rules({ grants: { net: [base], netBlocked: ['127.0.0.1'] } }));
    expect(await ask(`${base}/x`, {}, blocked)).toMatchObject({
      ok: false,
      code: 'HTTP-request-denied',
      message: expect.stringMatching(/net\.blocked 127\.0\.0\.1/),
    });
    const two = new Relay(rules({ connections: 2 }));
    expect(await ask(`${base}/1`, {}, two)).toMatchObject({ ok: true });
    expect(await ask(`${base}/2`, {}, two)).toMatchObject({ ok: true });
    expect(await ask(`${base}/3`, {}, two)).toMatchObject({ ok: false, code: 'HTTP-request-denied', message: expect.stringMatching(/limits\.connections/) });
    expect(hits.slice(before)).toEqual(['granted /1', 'granted /2']);
  });

  it("the child's method and headers are checked as the guest's are: no CONNECT, no forged Host, no hop-by-hop headers", async () => {
    const before = hits.length;
    expect(await ask(`${base}/m`, { method: 'CONNECT' })).toMatchObject({ ok: false, code: 'HTTP-request-method-invalid' });
    expect(await ask(`${base}/m`, { method: 'GET /other HTTP/1.1' })).toMatchObject({ ok: false, code: 'HTTP-request-method-invalid' });
    expect(await ask(`${base}/m`, { headers: [['x-a', 'b\r\nhost: evil']] })).toMatchObject({ ok: false, code: 'HTTP-protocol-error' });
    expect(await ask(`${base}/m`, { body: Buffer.alloc((8 << 20) + 1).toString('base64') })).toMatchObject({ ok: false, code: 'HTTP-request-body-size' });
    expect(hits.slice(before)).toEqual([]);
    const at = seen.length;
    const r = await ask(`${base}/h`, {
      headers: [
        ['Host', 'evil.example'],
        ['Connection', 'upgrade'],
        ['x-ok', '1'],
      ],
    });
    expect(r).toMatchObject({ ok: true });
    expect(seen[at]?.host).toBe(new URL(base).host);
    expect(seen[at]?.connection).not.toBe('upgrade');
  });

  it('a request gets only the time the call has left, and none once it has run out', async () => {
    expect(await ask(`${base}/late`, {}, new Relay(rules({ timeLeftMs: () => 0 })))).toMatchObject({ ok: false, code: 'HTTP-response-timeout' });
    // A fraction of a millisecond left, and a nonsense timeout from the child, still make a request.
    expect(await ask(`${base}/odd`, { timeoutMs: -5 }, new Relay(rules({ timeLeftMs: () => 2500.75 })))).toMatchObject({ ok: true });
  });

  describe('over the job channel (runChildJob, a child speaking the protocol by hand)', () => {
    const child = path.join(ROOT, 'test', 'probes', 'relay-child.mjs');
    // 10 minutes: a relayed request is never cut by the call's clock within a test.
    const job = () =>
      ({
        capabilityId: 'relay.fake',
        grants: { net: [base], netBlocked: [] },
        limits: { memoryBytes: 64 << 20, timeoutMs: 600_000, outputBytes: 1 << 20, inputBytes: 1 << 20 },
      }) as unknown as Job;
    const run = (mode: string, urls: string[], signal?: AbortSignal) =>
      runChildJob(
        job(),
        {
          command: process.execPath,
          args: [child, mode, ...urls],
          wire: {} as WireJob,
          startTimeoutMs: 20_000,
          what: 'its child process',
          netViaParent: true,
        },
        signal,
      );

    it('a request still in flight when the child is gone is cancelled, not left to run to its timeout', async () => {
      const arrived = new Promise<void>((r) => {
        hangArrived = r;
      });
      const stop = new AbortController();
      const call = run('polite', [`${base}/hang`], stop.signal).catch((x: unknown) => x);
      await arrived;
      stop.abort(); // the child is killed; its request had 10 minutes left
      expect(await call).toMatchObject({ code: 'ABORTED' });
      await hangClosed; // the server sees the connection go (the test would time out otherwise)
    });

    it("relayed requests are not counted as the child's output: bodies past its output cap and slack go through", async () => {
      // Three 6 MiB bodies are 24 MiB of base64 request lines, past the 16 MiB the protocol allows beyond outputs.
      const urls = [1, 2, 3].map((i) => `${base}/bulk${i}`);
      const r = await run('bulky', urls);
      expect(r.outcome).toEqual({ ok: true, value: JSON.stringify(urls.map((u) => `hello ${new URL(u).pathname}`)) });
    });

    it('answers each request in turn; an ungranted one is refused', async () => {
      const r = await run('polite', [`${base}/one`, `${otherBase}/no`, `${base}/two`]);
      expect(r.outcome).toEqual({ ok: true, value: JSON.stringify(['hello /one', 'HTTP-request-denied', 'hello /two']) });
    });

    it('a child asking again before its answer (it would make the parent hold many responses) is killed: INTERNAL', async () => {
      const before = hits.length;
      const e = await run('greedy', [`${base}/a`, `${base}/b`, `${base}/c`]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('INTERNAL');
      expect((e as CapsuleError).message).toMatch(/sent an HTTP request before its last one was answered, and was killed/);
      expect(hits.slice(before).length).toBeLessThanOrEqual(1);
    });
  });

  it('a child asking for a bigger body than the cap gets the cap', async () => {
    expect(await ask(`${base}/big`, { maxResponseBytes: 1 << 30 })).toMatchObject({ ok: false, code: 'HTTP-response-body-size' });
  });
});
