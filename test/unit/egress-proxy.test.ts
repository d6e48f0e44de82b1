// The per-call egress proxy of container capabilities (src/tiers/vm/egress-proxy.ts)
// against servers on 127.0.0.1 that the tests start: granted and refused targets,
// plain forward and CONNECT, the secret, the connection bound and the byte budget.
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EgressProxy, startEgressProxy } from '../../src/tiers/vm/egress-proxy.js';

let web: http.Server;
let webPort: number;
let other: http.Server;
let otherPort: number;
let echo: net.Server;
let echoPort: number;

async function listen<T extends net.Server>(s: T): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  web = http.createServer((req, res) => {
    if (req.url === '/big') res.end(Buffer.alloc(200_000, 'x'));
    else res.end(`granted ${req.method} ${req.url} auth=${req.headers['proxy-authorization'] ?? 'none'} host=${req.headers.host}`);
  });
  other = http.createServer((_req, res) => res.end('other'));
  echo = net.createServer((s) => s.pipe(s));
  [webPort, otherPort, echoPort] = await Promise.all([listen(web), listen(other), listen(echo)]);
});
afterAll(() => {
  web.close();
  other.close();
  echo.close();
});

let proxy: EgressProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

function auth(p: EgressProxy): string {
  const u = new URL(p.url('127.0.0.1'));
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}

/** A forward-proxy GET: absolute URL as the request target. */
function get(
  p: EgressProxy,
  url: string,
  authorization?: string,
  agent: http.Agent | false = false,
  extra: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: p.port,
      path: url,
      agent,
      headers: { ...(authorization ? { 'proxy-authorization': authorization } : {}), ...extra },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.end();
  });
}

/** CONNECT through the proxy; on 200, sends `text` through the tunnel and returns what came back. */
function connect(p: EgressProxy, target: string, authorization: string | undefined, text: string): Promise<{ status: number; echoed: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: p.port,
      method: 'CONNECT',
      path: target,
      agent: false,
      headers: authorization ? { 'proxy-authorization': authorization } : {},
    });
    req.on('error', reject);
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, echoed: '' }));
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, echoed: '' });
        return;
      }
      let got = '';
      socket.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.length >= text.length) {
          socket.destroy();
          resolve({ status: 200, echoed: got });
        }
      });
      socket.on('close', () => resolve({ status: 200, echoed: got }));
      socket.write(text);
    });
    req.end();
  });
}

describe('egress proxy', () => {
  it('forwards a granted http URL, without passing the secret on', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] } });
    const r = await get(proxy, `http://127.0.0.1:${webPort}/path?q=1`, auth(proxy));
    expect(r).toEqual({ status: 200, body: `granted GET /path?q=1 auth=none host=127.0.0.1:${webPort}` });
    expect(proxy.denials).toEqual([]);
    expect(proxy.bytes).toBeGreaterThan(0);
  });

  it('refuses a host or port not granted with 403 and records the denial', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] } });
    const r = await get(proxy, `http://127.0.0.1:${otherPort}/`, auth(proxy));
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('other');
    const named = await get(proxy, `http://localhost:${webPort}/`, auth(proxy));
    expect(named.status).toBe(403);
    expect(proxy.denials.map((d) => d.target)).toEqual([`http://127.0.0.1:${otherPort}/`, `http://localhost:${webPort}/`]);
  });

  it('requires the per-call secret: none or a wrong one is 407 and nothing is fetched', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] } });
    expect((await get(proxy, `http://127.0.0.1:${webPort}/`)).status).toBe(407);
    const wrong = `Basic ${Buffer.from('capsule:not-the-secret').toString('base64')}`;
    expect((await get(proxy, `http://127.0.0.1:${webPort}/`, wrong)).status).toBe(407);
    expect((await connect(proxy, `127.0.0.1:${echoPort}`, wrong, 'x')).status).toBe(407);
    // Another call's proxy has another secret.
    const second = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] } });
    try {
      expect((await get(proxy, `http://127.0.0.1:${webPort}/`, auth(second))).status).toBe(407);
    } finally {
      await second.close();
    }
  });

  it('CONNECT: a granted host:port is tunnelled, another is 403', async () => {
    proxy = await startEgressProxy({ rules: { net: [`127.0.0.1:${echoPort}`], netBlocked: [] } });
    expect(await connect(proxy, `127.0.0.1:${echoPort}`, auth(proxy), 'hello tunnel')).toEqual({ status: 200, echoed: 'hello tunnel' });
    expect((await connect(proxy, `127.0.0.1:${otherPort}`, auth(proxy), 'x')).status).toBe(403);
    expect(proxy.denials).toEqual([{ kind: 'net', target: `127.0.0.1:${otherPort}`, reason: 'host not granted (CONNECT)' }]);
  });

  it('CONNECT is checked as https: an http-only grant does not open a tunnel', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${echoPort}`], netBlocked: [] } });
    expect((await connect(proxy, `127.0.0.1:${echoPort}`, auth(proxy), 'x')).status).toBe(403);
  });

  it('an https URL in a plain request is refused (only CONNECT carries TLS)', async () => {
    proxy = await startEgressProxy({ rules: { net: [`127.0.0.1:${webPort}`], netBlocked: [] } });
    expect((await get(proxy, `https://127.0.0.1:${webPort}/`, auth(proxy))).status).toBe(400);
  });

  it('bounds the connections of a call', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] }, maxConnections: 2 });
    expect((await get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy))).status).toBe(200);
    expect((await get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy))).status).toBe(200);
    await expect(get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(proxy.denials).toEqual([{ kind: 'net', target: '(all)', reason: 'more than 2 connections' }]);
  });

  it("counts every request as one of the call's connections, also on one kept-alive connection", async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] }, maxConnections: 2 });
    const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const url = `http://127.0.0.1:${webPort}/`;
      expect((await get(proxy, url, auth(proxy), one)).status).toBe(200);
      expect((await get(proxy, url, auth(proxy), one)).status).toBe(200);
      expect((await get(proxy, url, auth(proxy), one)).status).toBe(403);
      expect(proxy.denials).toEqual([{ kind: 'net', target: url, reason: 'limit of 2 connections (limits.connections) reached' }]);
    } finally {
      one.destroy();
    }
  });

  it('refuses a host the policy blocks although a grant covers it, for plain requests and CONNECT', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`, `127.0.0.1:${echoPort}`], netBlocked: ['127.0.0.1'] } });
    expect((await get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy))).status).toBe(403);
    expect(proxy.denials[0]).toEqual({ kind: 'net', target: `http://127.0.0.1:${webPort}/`, reason: 'blocked by the policy (net.blocked 127.0.0.1)' });
  });

  it('sends the Host the grant was checked against, not a forged one', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] } });
    const r = await get(proxy, `http://127.0.0.1:${webPort}/host`, auth(proxy), false, { host: 'evil.example' });
    expect(r.body).toContain(`host=127.0.0.1:${webPort}`);
  });

  it('cuts the call off past its byte budget, and refuses what comes after', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] }, maxBytes: 50_000 });
    const big = await get(proxy, `http://127.0.0.1:${webPort}/big`, auth(proxy)).catch((e: Error) => e);
    // Either the response is cut short or the socket is reset: never the whole 200 000 bytes.
    if (!(big instanceof Error)) expect(big.body.length).toBeLessThan(200_000);
    expect(proxy.denials).toEqual([{ kind: 'net', target: '(all)', reason: 'relayed more than 50000 bytes' }]);
    const after = await get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy));
    expect(after.status).toBe(403);
  });

  it('drops connections that did not arrive at the accepted address', async () => {
    proxy = await startEgressProxy({ rules: { net: [`http://127.0.0.1:${webPort}`], netBlocked: [] }, listenHost: '127.0.0.1', acceptOn: '10.255.255.1' });
    await expect(get(proxy, `http://127.0.0.1:${webPort}/`, auth(proxy))).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('close() ends an open tunnel', async () => {
    proxy = await startEgressProxy({ rules: { net: [`127.0.0.1:${echoPort}`], netBlocked: [] } });
    const p = proxy;
    const closed = new Promise<void>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: p.port,
        method: 'CONNECT',
        path: `127.0.0.1:${echoPort}`,
        agent: false,
        headers: { 'proxy-authorization': auth(p) },
      });
      req.on('error', reject);
      req.on('connect', (_res, socket) => {
        socket.on('close', () => resolve());
        void p.close();
      });
      req.end();
    });
    await closed;
  });
});
