// What every request capsule sends for a guest must look like, whoever asks for it:
// the guest's wasi:http on its own thread (http.ts), or a process-tier child over
// the job channel, which the parent checks again (relay.ts) because a child that
// escaped its wasm could write any line. One home for these rules, so the two paths
// cannot drift apart.
import { MAX_REQUEST_BODY } from './http-types.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const BAD_VALUE = /[\u0000\r\n]/;
/** Methods that would turn the request into a tunnel or an echo of its credentials. */
const NOT_SENT = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Headers that describe one connection, not the request (RFC 9110 7.6.1): never passed on. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/**
 * Headers capsule leaves out: `host` comes from the checked URL (a guest must not
 * name another host than the one the grant was checked against), and hop-by-hop
 * headers belong to the connection Node's fetch makes, not to the guest.
 */
const DROPPED = new Set(['host', ...HOP_BY_HOP]);

/** Why `method` is not sent (undefined: it may be). */
export function methodProblem(method: string): string | undefined {
  if (!TOKEN.test(method)) return 'not an HTTP method';
  if (NOT_SENT.has(method.toUpperCase())) return `${method.toUpperCase()} is not sent`;
  return undefined;
}

/** The headers as sent: names checked, values without line breaks, the dropped ones left out; undefined if one is malformed. */
export function outgoingHeaders(entries: [string, string][]): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const [name, value] of entries) {
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) return undefined;
    if (!DROPPED.has(name.toLowerCase())) out.push([name, value]);
  }
  return out;
}

/** Is a request body of `bytes` within what a guest may send? */
export function bodyFits(bytes: number): boolean {
  return bytes <= MAX_REQUEST_BODY;
}
