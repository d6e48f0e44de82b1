// HTTP for a process-tier child, which has no network (bubblewrap's empty network
// namespace) and no worker threads (Node's permission model): the child's wasi:http
// (sandbox/net/http.ts, the same code as every tier: allowlist, redirects re-checked,
// credentials dropped across origins) hands each hop to `childFetch`, which writes it
// to the parent as one line and blocks reading the answer. The parent (`answerFetch`)
// checks the hop against the call's grants again, since a child that escaped its
// wasm must still reach only granted hosts, caps the body and time at the call's,
// and sends it with the worker tier's fetch.
import { allowedUrl } from '../../grants/net.js';
import type { SyncFetch, WireFetchReply, WireFetchRequest, WireMessage } from '../job.js';
import { MAX_RESPONSE_BODY } from './http.js';
import { type FetchRequest, type FetchResult, fetchAsync } from './sync-fetch.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

/**
 * The child's side: `send` writes one message line to the parent, `receive` blocks
 * for the next line from it. One request at a time (the guest waits for each).
 */
export function childFetch(send: (line: string) => void, receive: () => string | undefined): SyncFetch {
  return (req: FetchRequest): FetchResult => {
    const message: WireMessage = { type: 'fetch', req: { ...req, body: req.body ? b64(req.body) : undefined } };
    send(`${JSON.stringify(message)}\n`);
    const line = receive();
    if (line === undefined) return { ok: false, code: 'internal-error', message: 'the parent closed the job channel' };
    const reply = JSON.parse(line) as WireFetchReply;
    return reply.ok ? { ...reply, body: unb64(reply.body) } : reply;
  };
}

/** What the call allows the parent to send for its child. */
export interface RelayRules {
  /** The call's net grant (host patterns). */
  allowed: string[];
  /** The call's wall-clock limit: no request may outlive it. */
  timeoutMs: number;
}

/** The parent's side: one request from the child, checked and sent; the reply line to write back. */
export async function answerFetch(rules: RelayRules, req: WireFetchRequest): Promise<string> {
  return `${JSON.stringify(await relay(rules, req))}\n`;
}

async function relay(rules: RelayRules, req: WireFetchRequest): Promise<WireFetchReply> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { ok: false, code: 'HTTP-request-URI-invalid', message: 'not a URL' };
  }
  if (!allowedUrl(rules.allowed, url)) return { ok: false, code: 'HTTP-request-denied', message: `${url.origin} is not granted` };
  const r = await fetchAsync({
    url: url.href,
    method: String(req.method),
    headers: Array.isArray(req.headers) ? req.headers.map(([k, v]): [string, string] => [String(k), String(v)]) : [],
    body: typeof req.body === 'string' ? unb64(req.body) : undefined,
    timeoutMs: Math.min(Number(req.timeoutMs) || rules.timeoutMs, rules.timeoutMs),
    maxResponseBytes: Math.min(Number(req.maxResponseBytes) || MAX_RESPONSE_BODY, MAX_RESPONSE_BODY),
  });
  return r.ok ? { ...r, body: b64(r.body) } : r;
}
