// The network half of the attack suite, plus the host-function caps: outgoing
// HTTP only to granted hosts (redirects re-checked, bodies capped), no sockets,
// and capsule:host/log capped. Servers listen on 127.0.0.1 and are
// started and stopped here. The HTTP half runs in the worker tier, then in the
// process tier (whose child has no network: the parent sends its requests), under
// bubblewrap where it works here and with Node's permission flags alone.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Denial, type GuestLog, type Runtime } from '../dist/index.js';
import { probeBwrap } from '../src/tiers/process/bwrap.js';
import { failure, fixture, manifest, tempDir, tierVariants, writeCapability } from './helpers.js';

let server: http.Server;
let other: http.Server;
let base: string;
let otherBase: string;
let rt: Runtime;
let flagsOnly: Runtime;
let bwrapHere: boolean;

const VARIANTS = tierVariants('the worker tier');
const logs: GuestLog[] = [];
const hits: string[] = [];

function listen(handler: http.RequestListener): Promise<http.Server> {
  const s = http.createServer(handler);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(async () => {
  other = await listen((req, res) => {
    hits.push(`other ${req.url}`);
    res.end('SHOULD NOT BE SEEN');
  });
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  server = await listen((req, res) => {
    hits.push(`granted ${req.url}`);
    if (req.url === '/redirect-inside') return res.writeHead(302, { location: '/hello' }).end();
    if (req.url === '/redirect-outside') return res.writeHead(302, { location: `${otherBase}/stolen` }).end();
    if (req.url === '/big') return res.end(Buffer.alloc(9 * 1024 * 1024, 97));
    if (req.url === '/hang') return; // never answers
    res.end(`hello ${req.url}`);
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const caps = tempDir('attack-net-caps-');
  const net = (id: string, outbound: string[], extra: Record<string, unknown> = {}) =>
    writeCapability(caps, id, manifest(id, { securityLevel: 'sandboxed', permissions: { net: { outbound } }, ...extra }), fixture('attack-net'));
  net('attack.net', [base]);
  net('attack.slow', [base], { limits: { timeoutMs: 2000 } }); // long enough to reach the wait under load
  net('attack.blocked', [base]);
  net('attack.onehop', [base], { limits: { connections: 1 } });
  writeCapability(caps, 'attack.nonet', manifest('attack.nonet', { securityLevel: 'pure' }), fixture('attack-net'));
  writeCapability(caps, 'attack.log', manifest('attack.log', { permissions: { host: ['capsule:host/log'] } }), fixture('attack-log'));
  const options = {
    capabilitiesDir: caps,
    policy: {
      grants: [
        { capabilities: 'attack.*', net: { outbound: [base] }, host: ['capsule:host/log'] },
        // Deny wins over the grant above; without a port it blocks the host on every port.
        { capabilities: 'attack.blocked', net: { blocked: ['127.0.0.1'] } },
      ],
    },
    pool: { minThreads: 1, maxThreads: 1 },
    logger: (r: GuestLog) => logs.push(r),
  };
  rt = await createRuntime(options);
  flagsOnly = await createRuntime({ ...options, process: { bwrap: 'off' } });
  bwrapHere = (await probeBwrap()).available;
});

afterAll(async () => {
  await rt.close();
  await flagsOnly.close();
  server.close();
  other.close();
});

describe.each(VARIANTS)('in $name', (v) => {
  /** One call in this variant's tier, checking the process tier's layers are the ones expected here. */
  async function run(id: string, input: unknown) {
    const r = await (v.bwrap === 'off' ? flagsOnly : rt).run(id, input, v.tier ? { tier: v.tier } : {});
    if (v.tier) expect(r.stats.tierDecision.runner).toBe(bwrapHere && v.bwrap !== 'off' ? 'bwrap+node-permissions' : 'node-permissions');
    return r;
  }

  describe('outgoing HTTP', () => {
    it('a granted host answers', async () => {
      const r = await run('attack.net', { url: `${base}/hello` });
      expect(r.output).toEqual({ status: 200, body: 'hello /hello', bytes: 12 });
      expect(r.denials).toEqual([]);
    });

    it('a redirect inside the grant is followed', async () => {
      const r = await run('attack.net', { url: `${base}/redirect-inside` });
      expect(r.output).toMatchObject({ status: 200, body: 'hello /hello' });
    });

    it('an ungranted host is refused before any connection (HTTP-request-denied)', async () => {
      const before = hits.length;
      const e = await failure(run('attack.net', { url: `${otherBase}/x` }));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toBe('HTTP-request-denied');
      expect((e.details?.denials as Denial[] | undefined)?.[0]).toMatchObject({ kind: 'net', target: `${otherBase}/x`, reason: 'host not granted' });
      expect(hits.slice(before).filter((h) => h.startsWith('other'))).toEqual([]);
    });

    it('a redirect to an ungranted host is refused, and the other host is never contacted', async () => {
      const before = hits.length;
      const e = await failure(run('attack.net', { url: `${base}/redirect-outside` }));
      expect(e.message).toBe('HTTP-request-denied');
      expect((e.details?.denials as Denial[] | undefined)?.[0]?.target).toBe(`${otherBase}/stolen`);
      expect(hits.slice(before)).toEqual(['granted /redirect-outside']);
    });

    it('a response body over the cap is an error, not a truncated success', async () => {
      const e = await failure(run('attack.net', { url: `${base}/big` }));
      expect(e.message).toBe('HTTP-response-body-size');
    });

    it('a capability with no net grant gets HTTP-request-denied', async () => {
      const e = await failure(run('attack.nonet', { url: `${base}/hello` }));
      expect(e.message).toBe('HTTP-request-denied');
      expect((e.details?.denials as Denial[] | undefined)?.[0]?.reason).toBe('no network access is granted');
    });

    it('a host the policy blocks is refused although a grant covers it, before any connection', async () => {
      const before = hits.length;
      const e = await failure(run('attack.blocked', { url: `${base}/hello` }));
      expect(e.message).toBe('HTTP-request-denied');
      expect((e.details?.denials as Denial[] | undefined)?.[0]).toMatchObject({ kind: 'net', reason: 'blocked by the policy (net.blocked 127.0.0.1)' });
      expect(hits.slice(before)).toEqual([]);
    });

    it('limits.connections counts every hop: the redirect past it is refused and never sent', async () => {
      expect((await run('attack.onehop', { url: `${base}/hello` })).output).toMatchObject({ body: 'hello /hello' });
      const before = hits.length;
      const e = await failure(run('attack.onehop', { url: `${base}/redirect-inside` }));
      expect(e.message).toBe('HTTP-request-denied');
      expect((e.details?.denials as Denial[] | undefined)?.[0]).toMatchObject({ kind: 'net', reason: 'limit of 1 connections (limits.connections) reached' });
      expect(hits.slice(before)).toEqual(['granted /redirect-inside']);
    });

    it('a wall-clock TIMEOUT still ends a guest waiting on a request that never answers', async () => {
      const e = await failure(run('attack.slow', { url: `${base}/hang` }));
      expect(e.code).toBe('TIMEOUT');
      expect(hits).toContain('granted /hang'); // the guest was waiting on the request when it was stopped
      // The replacement worker serves the next call.
      expect((await run('attack.net', { url: `${base}/after` })).output).toMatchObject({ body: 'hello /after' });
    });
  });

  describe('sockets stay denied, even with net granted', () => {
    it('creating a TCP socket fails with access-denied', async () => {
      const e = await failure(run('attack.net', { socket: 'tcp' }));
      expect(e.code).toBe('CAPABILITY_ERROR');
      expect(e.message).toBe('access-denied');
    });
  });
});

describe('capsule:host/log caps', () => {
  it('a guest logging 100 000 records of 5 000 bytes is capped in count, size and total', async () => {
    logs.length = 0;
    const r = await rt.run('attack.log', {});
    expect(r.output).toEqual({ logged: true });
    const records = logs.filter((l) => l.source === 'log');
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThanOrEqual(1000);
    expect(Math.max(...records.map((l) => l.message.length))).toBeLessThanOrEqual(4097);
    expect(records.reduce((n, l) => n + l.message.length, 0)).toBeLessThanOrEqual(1024 * 1024 + 4097 + 100);
    expect(records.at(-1)?.message).toMatch(/^capsule: \d+ more log records dropped/);
    expect(records.every((l) => l.capability === 'attack.log')).toBe(true);
  });
});
