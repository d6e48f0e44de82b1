// wasi:http/types resources for outgoing requests: header fields, request and
// body objects the guest fills in, and the response it reads back (already
// fully received and capped by the time the guest sees it).
import { mintResource, RESOURCE_BYTES, symbolDispose, type CallBudget, type Lease } from '../call-budget.js';
import { ByteBuffer, InputStream, IoError, OutputStream, Pollable, type ByteSink } from '../wasi/streams.js';

export type ErrorCode = { tag: string; val?: unknown };
export type Method = { tag: string; val?: string };
export type Scheme = { tag: 'HTTP' | 'HTTPS' | 'other'; val?: string };
export type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

export const MAX_REQUEST_BODY = 8 * 1024 * 1024;

/** Host bytes one header entry costs beyond its name and value (the pair, the array slot). */
const ENTRY_OVERHEAD = 64;
const entryBytes = (name: string, value: Uint8Array) => ENTRY_OVERHEAD + 2 * name.length + value.byteLength;

/** The per-call subclass the glue constructs (`new Fields()`), bound to the call's budget. */
type FieldsClass = new () => Fields;

/**
 * Header fields. Every entry is charged to the call's budget while it is held (a
 * guest appending a large value in a loop needs no grant at all), and released
 * when it is deleted or the guest drops the resource.
 */
export class Fields {
  private own: [string, Uint8Array][] = [];
  private immutable = false;
  private held = 0;
  private dropped = false;
  /** Set for a read-only view of another Fields (a request's or response's headers). */
  private source: Fields | undefined;

  constructor(protected readonly budget: CallBudget) {
    budget.charge(RESOURCE_BYTES, 'a wasi:http fields resource');
    this.held = RESOURCE_BYTES;
  }
  static fromList(this: FieldsClass, entries: [string, Uint8Array][]): Fields {
    const f = new this();
    try {
      for (const [k, v] of entries) f.append(k, v);
    } catch (e) {
      f.release();
      throw e;
    }
    return f;
  }
  static frozen(this: FieldsClass, entries: [string, Uint8Array][]): Fields {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the caller named (its own budget), not Fields
    const f = Fields.fromList.call(this, entries);
    f.immutable = true;
    return f;
  }
  /** A new immutable handle on these fields: the guest may drop it without touching the original. */
  view(): Fields {
    const v = new (this.constructor as FieldsClass)();
    v.source = this.source ?? this;
    v.immutable = true;
    return v;
  }
  private get list(): [string, Uint8Array][] {
    return this.source ? this.source.list : this.own;
  }
  private mutate(): void {
    if (this.immutable || this.dropped) throw { tag: 'immutable' };
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
    const kept: [string, Uint8Array][] = [];
    for (const e of this.own) {
      if (e[0] === n) this.free(entryBytes(e[0], e[1]));
      else kept.push(e);
    }
    this.own = kept;
  }
  append(name: string, value: Uint8Array): void {
    this.mutate();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw { tag: 'invalid-syntax' };
    const bytes = entryBytes(name, value);
    this.budget.charge(bytes, 'a wasi:http header field');
    this.held += bytes;
    this.own.push([name.toLowerCase(), value]);
  }
  entries(): [string, Uint8Array][] {
    return this.list.map(([k, v]) => [k, v]);
  }
  clone(): Fields {
    return Fields.fromList.call(this.constructor as FieldsClass, this.entries());
  }
  private free(bytes: number): void {
    this.held -= bytes;
    this.budget.release(bytes);
  }
  /** Lets go of everything this handle holds (its entries, unless it is a view). */
  release(): void {
    this.dropped = true;
    this.own = [];
    this.free(this.held);
  }
  [symbolDispose](): void {
    this.release();
  }
}

/** A request body being written: one growing buffer, each growth charged to the call. */
class BodyBuffer implements ByteSink {
  private readonly buffer: ByteBuffer;
  constructor(private readonly budget: CallBudget) {
    this.buffer = new ByteBuffer(MAX_REQUEST_BODY, (added) => budget.charge(added, 'a wasi:http request body'));
  }
  push(bytes: Uint8Array): void {
    if (this.buffer.size + bytes.length > MAX_REQUEST_BODY) {
      throw { tag: 'last-operation-failed', val: new IoError('request body too large') };
    }
    this.buffer.append(bytes);
  }
  bytes(): Uint8Array {
    return this.buffer.bytes().slice();
  }
  clear(): void {
    this.budget.release(this.buffer.clear());
  }
}

export class OutgoingBody {
  readonly buffer: BodyBuffer;
  finished = false;
  private stream: OutputStream | undefined;
  constructor(budget: CallBudget) {
    this.buffer = new BodyBuffer(budget);
  }
  write(): OutputStream {
    if (this.stream) throw undefined; // result<output-stream>: err on a second call
    this.stream = new OutputStream(this.buffer);
    return this.stream;
  }
  static finish(body: OutgoingBody): void {
    body.finished = true;
  }
  /** Dropped unfinished: the request it belonged to can never be sent with it. */
  [symbolDispose](): void {
    if (!this.finished) this.buffer.clear();
  }
}

export class OutgoingRequest {
  private m: Method = { tag: 'get' };
  private path: string | undefined;
  private scheme_: Scheme | undefined;
  private authority_: string | undefined;
  private body_: OutgoingBody | undefined;
  constructor(
    private readonly headers_: Fields,
    private readonly budget: CallBudget,
  ) {
    budget.charge(RESOURCE_BYTES, 'a wasi:http outgoing-request');
  }
  body(): OutgoingBody {
    if (this.body_) throw undefined;
    this.body_ = new OutgoingBody(this.budget);
    return this.body_;
  }
  bodyBytes(): Uint8Array | undefined {
    return this.body_?.buffer.bytes();
  }
  private released = false;
  /** Everything the request holds, once it has been sent or dropped. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.body_?.buffer.clear();
    this.headers_.release();
    this.budget.release(RESOURCE_BYTES);
  }
  [symbolDispose](): void {
    this.release();
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
  /** Immutable, as wasi:http says: a new handle each time, which the guest may drop. */
  headers(): Fields {
    return this.headers_.view();
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
  constructor(private readonly budget: CallBudget) {
    budget.charge(RESOURCE_BYTES, 'a wasi:http request-options');
  }
  private released = false;
  release(): void {
    if (!this.released) this.budget.release(RESOURCE_BYTES);
    this.released = true;
  }
  [symbolDispose](): void {
    this.release();
  }
  connectTimeout = () => this.t.connect;
  setConnectTimeout = (d: bigint | undefined) => {
    this.t.connect = d;
  };
  firstByteTimeout = () => this.t.first;
  setFirstByteTimeout = (d: bigint | undefined) => {
    this.t.first = d;
  };
  betweenBytesTimeout = () => this.t.between;
  setBetweenBytesTimeout = (d: bigint | undefined) => {
    this.t.between = d;
  };
}

/** A response as received; `lease` holds its body and headers in the call's budget. */
export class IncomingResponse {
  private consumed = false;
  constructor(
    private readonly status_: number,
    private readonly headers_: Fields,
    private readonly body: Uint8Array,
    private readonly lease: Lease,
  ) {}
  status(): number {
    return this.status_;
  }
  headers(): Fields {
    return this.headers_.view();
  }
  consume(): IncomingBody {
    if (this.consumed) throw undefined;
    this.consumed = true;
    return new IncomingBody(this.body, this.lease.retain());
  }
  [symbolDispose](): void {
    this.headers_.release();
    this.lease.drop();
  }
}

export class IncomingBody {
  private streamed = false;
  private finished = false;
  constructor(
    private readonly data: Uint8Array,
    private readonly lease: Lease,
  ) {}
  stream(): InputStream {
    if (this.streamed) throw undefined;
    this.streamed = true;
    return new InputStream(this.data, this.lease.retain());
  }
  static finish(body: IncomingBody): FutureTrailers {
    body.close();
    return new FutureTrailers();
  }
  [symbolDispose](): void {
    this.close();
  }
  /** Named as well as keyed: `symbolDispose` is typed `symbol`, so a call through it does not type-check. */
  private close(): void {
    if (this.finished) return;
    this.finished = true;
    this.lease.drop();
  }
}

export class FutureTrailers {
  private taken = false;
  private readonly minted = mintResource('a wasi:http future-trailers');
  [symbolDispose](): void {
    this.minted?.drop();
  }
  subscribe(): Pollable {
    return new Pollable();
  }
  get(): Result<Result<Fields | undefined, ErrorCode>, void> {
    if (this.taken) return { tag: 'err', val: undefined };
    this.taken = true;
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}
