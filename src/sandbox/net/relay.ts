// HTTP for a process-tier child, which has no network (bubblewrap's empty network
// namespace) and no worker threads (Node's permission model): the child's wasi:http
// (sandbox/net/http.ts, the same code as every tier: allowlist, redirects re-checked,
// credentials dropped across origins) hands each hop to `childFetch`, which writes it
// to the parent as one line and blocks reading the answer. The parent (`Relay`)
// checks each hop again, since a child that escaped its wasm could write any line:
// the grant and blocked hosts (grants/net.ts), the method, headers and body (hop.ts),
// the call's connection count, the time the call has left and the body cap; then it
// sends it with the worker tier's fetch, cancelled when the child is gone.
import { type NetRules, refusedUrl } from '../../grants/net.js';
import type { SyncFetch, WireFetchReply, WireFetchRequest, WireMessage } from '../job.js';
import { bodyFits, methodProblem, outgoingHeaders } from './hop.js';
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
  /** The call's grants: granted and blocked host patterns. */
  grants: NetRules;
  /** Hops the call may send in all (limits.connections). */
  connections: number;
  /** Milliseconds the call has left: no request may outlive it. */
  timeLeftMs: () => number;
  /** Aborted when the child is gone: a request still in flight is cancelled. */
  signal: AbortSignal;
}

/** A whole number above zero the child sent, or undefined (then the call's own bound applies). */
function positive(v: unknown): number | undefined {
  const n = Math.floor(Number(v));
  return n > 0 ? n : undefined;
}

const refuse = (code: string, message: string): WireFetchReply => ({ ok: false, code, message });

/** The parent's side for one call: each request from the child, checked and sent. */
export class Relay {
  private sent = 0;

  constructor(private readonly rules: RelayRules) {}

  /** One request line's answer, as the line to write back. */
  async answer(req: WireFetchRequest): Promise<string> {
    return `${JSON.stringify(await this.relay(req))}\n`;
  }

  private async relay(req: WireFetchRequest): Promise<WireFetchReply> {
    let url: URL;
    try {
      url = new URL(String(req.url));
    } catch {
      return refuse('HTTP-request-URI-invalid', 'not a URL');
    }
    const refused = refusedUrl(this.rules.grants, url);
    if (refused) return refuse('HTTP-request-denied', `${url.origin}: ${refused}`);
    const method = String(req.method);
    const badMethod = methodProblem(method);
    if (badMethod) return refuse('HTTP-request-method-invalid', badMethod);
    const headers = Array.isArray(req.headers) ? outgoingHeaders(req.headers.map(([k, v]): [string, string] => [String(k), String(v)])) : [];
    if (!headers) return refuse('HTTP-protocol-error', 'a malformed header');
    const body = typeof req.body === 'string' ? unb64(req.body) : undefined;
    if (body && !bodyFits(body.byteLength)) return refuse('HTTP-request-body-size', 'request body too large');
    if (this.sent >= this.rules.connections)
      return refuse('HTTP-request-denied', `limit of ${this.rules.connections} connections (limits.connections) reached`);
    // Whole milliseconds (AbortSignal.timeout takes no fraction).
    const left = Math.floor(this.rules.timeLeftMs());
    if (left <= 0) return refuse('HTTP-response-timeout', 'the call has no time left');
    this.sent++;
    const r = await fetchAsync(
      {
        url: url.href,
        method,
        headers,
        body,
        timeoutMs: Math.min(positive(req.timeoutMs) ?? left, left),
        maxResponseBytes: Math.min(positive(req.maxResponseBytes) ?? MAX_RESPONSE_BODY, MAX_RESPONSE_BODY),
      },
      this.rules.signal,
    );
    return r.ok ? { ...r, body: b64(r.body) } : r;
  }
}
