// The parent's side of a process-tier child's HTTP requests (src/sandbox/net/relay.ts):
// each request is checked against the call's net grant again, whatever the child
// says, and held to the call's caps. Servers on 127.0.0.1, started and stopped here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireFetchReply } from '../src/sandbox/job.js';
import { answerFetch } from '../src/sandbox/net/relay.js';

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

  it('a child asking for a bigger body than the cap gets the cap', async () => {
    expect(await ask(`${base}/big`, { maxResponseBytes: 1 << 30 })).toMatchObject({ ok: false, code: 'HTTP-response-body-size' });
  });
});
