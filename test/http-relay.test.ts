// The parent's side of a process-tier child's HTTP requests (src/sandbox/net/relay.ts):
// each request is checked against the call's net grant again, whatever the child
// says, and held to the call's caps. Servers on 127.0.0.1, started and stopped here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Job, WireFetchReply, WireJob } from '../src/sandbox/job.js';
import { answerFetch } from '../src/sandbox/net/relay.js';
import { runChildJob } from '../src/tiers/child-job.js';
import { CapsuleError } from '../src/errors.js';
import { ROOT } from './helpers.js';

describe('answerFetch: the parent checks each request of the child again', () => {
  let granted: http.Server;
  let other: http.Server;
  let base: string;
  let otherBase: string;
  const hits: string[] = [];
  const listen = async (name: string, body: (url: string) => string | Buffer) => {
    const s = http.createServer((req, res) => {
      hits.push(`${name} ${req.url}`);
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
  const ask = async (url: string, extra: Record<string, unknown> = {}) =>
    JSON.parse(
      await answerFetch({ allowed: [base], timeoutMs: 5000 }, { url, method: 'GET', headers: [], timeoutMs: 5000, maxResponseBytes: 1 << 20, ...extra }),
    ) as WireFetchReply;

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

  describe('over the job channel (runChildJob, a child speaking the protocol by hand)', () => {
    const child = path.join(ROOT, 'test', 'probes', 'relay-child.mjs');
    const job = () =>
      ({
        capabilityId: 'relay.fake',
        grants: { net: [base] },
        limits: { memoryBytes: 64 << 20, timeoutMs: 20_000, outputBytes: 1 << 20, inputBytes: 1 << 20 },
      }) as unknown as Job;
    const run = (mode: string, urls: string[]) =>
      runChildJob(job(), {
        command: process.execPath,
        args: [child, mode, ...urls],
        wire: {} as WireJob,
        startTimeoutMs: 20_000,
        what: 'its child process',
        netViaParent: true,
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
