// wasi:http/types resources for outgoing requests: header fields, request and
// body objects the guest fills in, and the response it reads back (already
// fully received and capped by the time the guest sees it).
import { InputStream, IoError, OutputStream, Pollable, type ByteSink } from '../wasi/streams.js';

export type ErrorCode = { tag: string; val?: unknown };
export type Method = { tag: string; val?: string };
export type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };
export type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

const MAX_REQUEST_BODY = 8 * 1024 * 1024;

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
    // The path must not be able to change what the authority names (`@host`).
    if (this.path !== undefined && !this.path.startsWith('/')) return undefined;
    if (/[/?#@\\]/.test(this.authority_)) return undefined;
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

