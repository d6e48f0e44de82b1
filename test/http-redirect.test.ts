// Credentials meant for one origin never follow a redirect to another granted
// origin (as browsers do); other headers do. Driven through capsule's wasi:http
// objects directly, as jco's glue would call them.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlimitedBudget } from '../src/sandbox/call-budget.js';
import { httpInterfaces } from '../src/sandbox/net/http.js';
import { DenialLog } from '../src/sandbox/denial-log.js';

// The servers run on their own thread: the guest's fetch blocks this one (Atomics.wait).
const SERVERS = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const seen = [];
const listen = (name, handler) => new Promise((resolve) => {
  const s = http.createServer((req, res) => { seen.push({ server: name, headers: req.headers }); handler(req, res); });
  s.listen(0, '127.0.0.1', () => resolve(s));
});
(async () => {
  const b = await listen('b', (_req, res) => res.end('b'));
  const bBase = 'http://127.0.0.1:' + b.address().port;
  const a = await listen('a', (req, res) => {
    if (req.url === '/same') return res.writeHead(302, { location: '/end' }).end();
    if (req.url === '/cross') return res.writeHead(302, { location: bBase + '/end' }).end();
    res.end('a');
  });
  parentPort.postMessage({ aBase: 'http://127.0.0.1:' + a.address().port, bBase });
  parentPort.on('message', (m) => {
    if (m === 'seen') parentPort.postMessage(seen.splice(0));
    if (m === 'close') { a.close(); b.close(); parentPort.close(); }
  });
})();
`;

let servers: Worker;
let aBase: string;
let bBase: string;

beforeAll(async () => {
  servers = new Worker(SERVERS, { eval: true });
  ({ aBase, bBase } = await new Promise<{ aBase: string; bBase: string }>((resolve) => servers.once('message', resolve)));
});

afterAll(async () => {
  servers.postMessage('close');
  await servers.terminate();
});

function seen(): Promise<{ server: string; headers: Record<string, string | undefined> }[]> {
  const reply = new Promise<{ server: string; headers: Record<string, string | undefined> }[]>((resolve) => servers.once('message', resolve));
  servers.postMessage('seen');
  return reply;
}

function get(path: string): void {
  const denials = new DenialLog();
  const api = httpInterfaces({ rules: { net: [aBase, bBase], netBlocked: [] }, connections: 100, denials, timeoutMs: 5000, budget: unlimitedBudget() });
  const types = api['wasi:http/types'] as {
    Fields: { fromList(entries: [string, Uint8Array][]): unknown };
    OutgoingRequest: new (headers: unknown) => { setScheme(s: { tag: string }): void; setAuthority(a: string): void; setPathWithQuery(p: string): void };
  };
  const enc = new TextEncoder();
  const headers = types.Fields.fromList([
    ['authorization', enc.encode('Bearer secret')],
    ['cookie', enc.encode('session=1')],
    ['x-trace', enc.encode('kept')],
  ]);
  const req = new types.OutgoingRequest(headers);
  req.setScheme({ tag: 'HTTP' });
  req.setAuthority(new URL(aBase).host);
  req.setPathWithQuery(path);
  const future = (api['wasi:http/outgoing-handler'] as { handle: (r: unknown) => { get(): unknown } }).handle(req);
  const result = future.get() as { tag: string; val: { tag: string } };
  expect(result.tag).toBe('ok');
  expect(result.val.tag).toBe('ok');
  expect(denials.list()).toEqual([]);
}

describe('redirects and credentials', () => {
  it('a redirect within the same origin keeps every header', async () => {
    get('/same');
    const hits = await seen();
    expect(hits.map((h) => h.server)).toEqual(['a', 'a']);
    expect(hits[1]?.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'session=1', 'x-trace': 'kept' });
  });

  it('a redirect to another granted origin drops Authorization and Cookie', async () => {
    get('/cross');
    const hits = await seen();
    expect(hits.map((h) => h.server)).toEqual(['a', 'b']);
    expect(hits[0]?.headers.authorization).toBe('Bearer secret');
    expect(hits[1]?.headers.authorization).toBeUndefined();
    expect(hits[1]?.headers.cookie).toBeUndefined();
    expect(hits[1]?.headers['x-trace']).toBe('kept');
  });
});
