// wasi:http/types + wasi:http/outgoing-handler: outgoing requests only, and
// only to the granted host patterns. Every refusal is the wasi:http error code
// HTTP-request-denied to the guest and a denial for the runtime. Redirects are
// followed here, each location checked against the same allowlist; response
// bodies are capped. No incoming requests (capsule serves nothing).
import type { Denial } from '../job.js';
import { InputStream, IoError, OutputStream, Pollable, type ByteSink } from '../wasi/streams.js';
import { allowedUrl } from './host-pattern.js';
import { fetchSync, type FetchResult } from './sync-fetch.js';

type ErrorCode = { tag: string; val?: unknown };
type Method = { tag: string; val?: string };
type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };
type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

const MAX_REDIRECTS = 5;
const MAX_REQUEST_BODY = 8 * 1024 * 1024;
export const MAX_RESPONSE_BODY = 8 * 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class Fields {
  private list: [string, Uint8Array][] = [];
  private immutable = false;
  static fromList(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    for (const [k, v] of entries) f.append(k, v);
    return f;
  }
  static frozen(entries: [string, Uint8Array][]): Fields {
    const f = Fields.fromList(entries);
    f.immutable = true;
    return f;
  }
  private mutate(): void {
    if (this.immutable) throw { tag: 'immutable' };
  }
  get(name: string): Uint8Array[] {
    const n = name.toLowerCase();
    return this.list.filter(([k]) => k === n).map(([, v]) => v);
  }
  has(name: string): boolean {
    return this.get(name).length > 0;
  }
  set(name: string, values: Uint8Array[]): void {
    this.delete(name);
    for (const v of values) this.append(name, v);
  }
  delete(name: string): void {
    this.mutate();
    const n = name.toLowerCase();
    this.list = this.list.filter(([k]) => k !== n);
  }
  append(name: string, value: Uint8Array): void {
    this.mutate();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw { tag: 'invalid-syntax' };
    this.list.push([name.toLowerCase(), value]);
  }
  entries(): [string, Uint8Array][] {
    return this.list.map(([k, v]) => [k, v]);
  }
  clone(): Fields {
    return Fields.fromList(this.entries());
  }
}

class BodyBuffer implements ByteSink {
  chunks: Uint8Array[] = [];
  size = 0;
  push(bytes: Uint8Array): void {
    this.size += bytes.length;
    if (this.size > MAX_REQUEST_BODY) throw { tag: 'last-operation-failed', val: new IoError('request body too large') };
    this.chunks.push(bytes.slice());
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export class OutgoingBody {
  readonly buffer = new BodyBuffer();
  finished = false;
  private stream: OutputStream | undefined;
  write(): OutputStream {
    if (this.stream) throw undefined; // result<output-stream>: err on a second call
    this.stream = new OutputStream(this.buffer);
    return this.stream;
  }
  static finish(body: OutgoingBody): void {
    body.finished = true;
  }
}

export class OutgoingRequest {
  private m: Method = { tag: 'get' };
  private path: string | undefined;
  private scheme_: Scheme | undefined;
  private authority_: string | undefined;
  private body_: OutgoingBody | undefined;
  constructor(private readonly headers_: Fields) {}
  body(): OutgoingBody {
    if (this.body_) throw undefined;
    this.body_ = new OutgoingBody();
    return this.body_;
  }
  bodyBytes(): Uint8Array | undefined {
    return this.body_?.buffer.bytes();
  }
  method(): Method {
    return this.m;
  }
  setMethod(m: Method): void {
    this.m = m;
  }
  pathWithQuery(): string | undefined {
    return this.path;
  }
  setPathWithQuery(p: string | undefined): void {
    this.path = p;
  }
  scheme(): Scheme | undefined {
    return this.scheme_;
  }
  setScheme(s: Scheme | undefined): void {
    this.scheme_ = s;
  }
  authority(): string | undefined {
    return this.authority_;
  }
  setAuthority(a: string | undefined): void {
    this.authority_ = a;
  }
  headers(): Fields {
    return this.headers_;
  }
  /** The absolute URL, or undefined when the parts do not make one. */
  url(): URL | undefined {
    const s = this.scheme_;
    const scheme = s === undefined || s.tag === 'HTTPS' ? 'https' : s.tag === 'HTTP' ? 'http' : undefined;
    if (!scheme || !this.authority_) return undefined;
    try {
      return new URL(`${scheme}://${this.authority_}${this.path ?? '/'}`);
    } catch {
      return undefined;
    }
  }
}

export class RequestOptions {
  private t: Record<string, bigint | undefined> = {};
  connectTimeout = () => this.t.connect;
  setConnectTimeout = (d: bigint | undefined) => void (this.t.connect = d);
  firstByteTimeout = () => this.t.first;
  setFirstByteTimeout = (d: bigint | undefined) => void (this.t.first = d);
  betweenBytesTimeout = () => this.t.between;
  setBetweenBytesTimeout = (d: bigint | undefined) => void (this.t.between = d);
}

export class IncomingResponse {
  private consumed = false;
  constructor(
    private readonly status_: number,
    private readonly headers_: Fields,
    private readonly body: Uint8Array,
  ) {}
  status(): number {
    return this.status_;
  }
  headers(): Fields {
    return this.headers_;
  }
  consume(): IncomingBody {
    if (this.consumed) throw undefined;
    this.consumed = true;
    return new IncomingBody(this.body);
  }
}

export class IncomingBody {
  private streamed = false;
  constructor(private readonly data: Uint8Array) {}
  stream(): InputStream {
    if (this.streamed) throw undefined;
    this.streamed = true;
    return new InputStream(this.data);
  }
  static finish(): FutureTrailers {
    return new FutureTrailers();
  }
}

export class FutureTrailers {
  private taken = false;
  subscribe(): Pollable {
    return new Pollable();
  }
  get(): Result<Result<Fields | undefined, ErrorCode>, void> {
    if (this.taken) return { tag: 'err', val: undefined };
    this.taken = true;
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

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
  constructor(private readonly send: () => Result<IncomingResponse, ErrorCode>) {}
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
  allowed: string[];
  denials: Denial[];
  timeoutMs: number;
}

export function httpInterfaces(o: HttpOptions): Record<string, object> {
  const deny = (url: string, reason: string): ErrorCode => {
    o.denials.push({ kind: 'net', target: url, reason });
    return { tag: 'HTTP-request-denied' };
  };

  function send(req: OutgoingRequest, first: URL): Result<IncomingResponse, ErrorCode> {
    let url = first;
    let method = req.method().tag === 'other' ? (req.method().val ?? 'GET') : req.method().tag.toUpperCase();
    let body = req.bodyBytes();
    const headers = req
      .headers()
      .entries()
      .filter(([k]) => k !== 'host')
      .map(([k, v]): [string, string] => [k, dec.decode(v)]);
    for (let hop = 0; ; hop++) {
      const r: FetchResult = fetchSync({ url: url.href, method, headers, body, timeoutMs: o.timeoutMs, maxResponseBytes: MAX_RESPONSE_BODY });
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
        if (!allowedUrl(o.allowed, next)) return { tag: 'err', val: deny(next.href, `redirect from ${url.href} to a host not granted`) };
        if (r.status === 303 || ((r.status === 301 || r.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        url = next;
        continue;
      }
      const fields = Fields.frozen(r.headers.map(([k, v]) => [k, enc.encode(v)]));
      return { tag: 'ok', val: new IncomingResponse(r.status, fields, r.body) };
    }
  }

  return {
    'wasi:http/types': {
      Fields,
      OutgoingRequest,
      OutgoingBody,
      RequestOptions,
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
      handle(req: OutgoingRequest): FutureIncomingResponse {
        const url = req.url();
        if (!url) throw { tag: 'HTTP-request-URI-invalid' };
        if (o.allowed.length === 0) throw deny(url.href, 'no network access is granted');
        if (!allowedUrl(o.allowed, url)) throw deny(url.href, 'host not granted');
        return new FutureIncomingResponse(() => send(req, url));
      },
    },
  };
}
