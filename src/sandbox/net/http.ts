// wasi:http/types + wasi:http/outgoing-handler: outgoing requests only, and
// only to the granted host patterns, never to a blocked one. Every refusal is the
// wasi:http error code HTTP-request-denied to the guest and a denial for the
// runtime. Redirects are followed here, each location checked against the same
// rules; each hop is one of the call's `limits.connections`; response bodies are
// capped. No incoming requests (capsule serves nothing).
import type { CallBudget } from '../call-budget.js';
import type { DenialLog } from '../denial-log.js';
import type { SyncFetch } from '../job.js';
import { Pollable } from '../wasi/streams.js';
import {
  Fields,
  FutureTrailers,
  IncomingBody,
  IncomingResponse,
  OutgoingBody,
  OutgoingRequest,
  RequestOptions,
  type ErrorCode,
  type Result,
} from './http-types.js';
import { type NetRules, refusedUrl } from '../../grants/net.js';
import { methodProblem, outgoingHeaders } from './hop.js';
import { fetchSync, type FetchResult } from './sync-fetch.js';
import { mintResource, RESOURCE_BYTES, symbolDispose } from '../call-budget.js';

const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

const MAX_REDIRECTS = 5;
export const MAX_RESPONSE_BODY = 8 * 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Ready as soon as asked: the request runs (blocking) on the first poll or get. */
class ResponsePollable extends Pollable {
  constructor(private readonly future: FutureIncomingResponse) {
    super(null);
  }
  override ready(): boolean {
    this.future.settle();
    return true;
  }
  override block(): void {
    this.future.settle();
  }
}

export class FutureIncomingResponse {
  private outcome: Result<IncomingResponse, ErrorCode> | undefined;
  private taken = false;
  private readonly minted = mintResource('a wasi:http future-incoming-response');
  constructor(private readonly send: () => Result<IncomingResponse, ErrorCode>) {}
  [symbolDispose](): void {
    this.minted?.drop();
  }
  settle(): void {
    this.outcome ??= this.send();
  }
  subscribe(): Pollable {
    return new ResponsePollable(this);
  }
  get(): Result<Result<IncomingResponse, ErrorCode>, void> | undefined {
    if (this.taken) return { tag: 'err', val: undefined };
    this.settle();
    this.taken = true;
    return { tag: 'ok', val: this.outcome as Result<IncomingResponse, ErrorCode> };
  }
}

const refuseIncoming = (what: string) =>
  class {
    constructor() {
      throw new TypeError(`${what}: capsule serves no incoming HTTP`);
    }
  };

export interface HttpOptions {
  rules: NetRules;
  /** Hops the call may send in all (limits.connections). */
  connections: number;
  denials: DenialLog;
  timeoutMs: number;
  /** What the call may hold outside linear memory: header fields, bodies, responses. */
  budget: CallBudget;
  /** Sends one request (one hop); default fetchSync. The rules above are applied here, whoever sends it. */
  fetch?: SyncFetch;
}

export function httpInterfaces(o: HttpOptions): Record<string, object> {
  // The classes the glue constructs (`new fields()`...) are bound to this call's budget.
  const budget = o.budget;
  const fetchOne = o.fetch ?? fetchSync;
  class CallFields extends Fields {
    constructor() {
      super(budget);
    }
  }
  class CallOutgoingRequest extends OutgoingRequest {
    constructor(headers: Fields) {
      super(headers, budget);
    }
  }
  class CallRequestOptions extends RequestOptions {
    constructor() {
      super(budget);
    }
  }
  let sent = 0;
  const deny = (url: string, reason: string): ErrorCode => {
    o.denials.push({ kind: 'net', target: url, reason });
    return { tag: 'HTTP-request-denied' };
  };

  function send(req: OutgoingRequest, first: URL): Result<IncomingResponse, ErrorCode> {
    try {
      return follow(req, first);
    } finally {
      req.release(); // the guest gave the request away: nothing of it is needed once answered
    }
  }

  function follow(req: OutgoingRequest, first: URL): Result<IncomingResponse, ErrorCode> {
    let url = first;
    let method = req.method().tag === 'other' ? (req.method().val ?? 'GET') : req.method().tag.toUpperCase();
    let body = req.bodyBytes();
    if (methodProblem(method)) return { tag: 'err', val: { tag: 'HTTP-request-method-invalid' } };
    let headers = outgoingHeaders(
      req
        .headers()
        .entries()
        .map(([k, v]): [string, string] => [k, dec.decode(v)]),
    );
    // A value with a line break or NUL is not sent.
    if (!headers) return { tag: 'err', val: { tag: 'HTTP-protocol-error' } };
    for (let hop = 0; ; hop++) {
      if (sent >= o.connections) return { tag: 'err', val: deny(url.href, `limit of ${o.connections} connections (limits.connections) reached`) };
      sent++;
      const r: FetchResult = fetchOne({ url: url.href, method, headers, body, timeoutMs: o.timeoutMs, maxResponseBytes: MAX_RESPONSE_BODY });
      if (!r.ok) return { tag: 'err', val: { tag: r.code } };
      const location = r.headers.find(([k]) => k === 'location')?.[1];
      if (r.status >= 300 && r.status < 400 && location !== undefined) {
        if (hop >= MAX_REDIRECTS) return { tag: 'err', val: { tag: 'loop-detected' } };
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return { tag: 'err', val: { tag: 'HTTP-protocol-error' } };
        }
        const refused = refusedUrl(o.rules, next);
        if (refused) return { tag: 'err', val: deny(next.href, `redirect from ${url.href}: ${refused}`) };
        if (r.status === 303 || ((r.status === 301 || r.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        // Credentials meant for one origin never follow a redirect to another, as browsers do.
        if (next.origin !== url.origin) headers = headers.filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase()));
        url = next;
        continue;
      }
      // Held until the guest drops the response, its body and the body's stream.
      const lease = budget.lease(RESOURCE_BYTES + r.body.byteLength, 'a wasi:http response body');
      try {
        const fields = CallFields.frozen(r.headers.map(([k, v]) => [k, enc.encode(v)]));
        return { tag: 'ok', val: new IncomingResponse(r.status, fields, r.body, lease) };
      } catch (e) {
        lease.drop();
        throw e;
      }
    }
  }

  return {
    'wasi:http/types': {
      Fields: CallFields,
      OutgoingRequest: CallOutgoingRequest,
      OutgoingBody,
      RequestOptions: CallRequestOptions,
      FutureIncomingResponse,
      IncomingResponse,
      IncomingBody,
      FutureTrailers,
      IncomingRequest: refuseIncoming('IncomingRequest'),
      OutgoingResponse: refuseIncoming('OutgoingResponse'),
      ResponseOutparam: refuseIncoming('ResponseOutparam'),
      httpErrorCode: (): ErrorCode | undefined => undefined,
    },
    'wasi:http/outgoing-handler': {
      handle(req: OutgoingRequest, options?: RequestOptions): FutureIncomingResponse {
        options?.release(); // capsule applies the call's own timeout; the options are not kept
        const url = req.url();
        const refuse = (error: ErrorCode): never => {
          req.release(); // handle() owns the request now, and will never send it
          throw error;
        };
        if (!url) return refuse({ tag: 'HTTP-request-URI-invalid' });
        const refused = refusedUrl(o.rules, url);
        if (refused) return refuse(deny(url.href, refused));
        return new FutureIncomingResponse(() => send(req, url));
      },
    },
  };
}
