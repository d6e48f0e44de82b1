// What a caller hands the API (options, policy object, input) is read exactly
// once, into plain data, before anything is decided. A getter that throws, a
// Proxy whose traps throw, or a value that changes between reads (a getter that
// says `timeoutMs: 100` to the check and `1e9` to the runner, a policy object
// that shows the schema one grant and the decision another) then cannot reach
// past the boundary: reading fails as USAGE / POLICY_INVALID / INPUT_INVALID,
// and what was checked is what is used.
import { types } from 'node:util';
import { CapsuleError, messageOf } from './errors.js';

const { isProxy } = types;

/** A value for a one-line message, whatever it is (a Symbol, an object whose toString throws). */
export function shown(v: unknown): string {
  try {
    if (isProxy(v)) return 'a Proxy';
    if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
    if (typeof v === 'function') return 'a function';
    if (typeof v === 'symbol') return 'a Symbol';
    if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
    return String(v);
  } catch {
    return 'an unreadable value';
  }
}

/**
 * The own enumerable properties of `opts`, each read once. Values under `asIs`
 * are kept as read (a logger function; a policy object the caller copies and
 * reports on itself); every other object value is copied (options are data), so
 * nothing the caller holds is read again later.
 */
export function snapshotOptions(
  opts: unknown,
  what: string,
  asIs: readonly string[],
  onError: (message: string) => CapsuleError = (m) => new CapsuleError('USAGE', m),
): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw onError(`${what} must be an object, got ${shown(opts)}`);
  const out: Record<string, unknown> = {};
  let key = '';
  try {
    // Array.isArray throws on a revoked Proxy: inside the try.
    if (Array.isArray(opts)) throw onError(`${what} must be an object, got an array`);
    for (key of Object.keys(opts)) {
      const v = (opts as Record<string, unknown>)[key];
      if (v === undefined) continue;
      if (asIs.includes(key)) {
        out[key] = v;
      } else if (typeof v === 'function') {
        throw onError(`${what}: option ${key} must not be a function`);
      } else if (typeof v === 'symbol') {
        throw onError(`${what}: option ${key} must not be a Symbol`);
      } else {
        // structuredClone reads each property once and refuses functions and Proxies,
        // and unlike JSON it keeps numbers such as Infinity for the option's own check.
        out[key] = typeof v === 'object' && v !== null && !isAbortSignal(v) ? structuredClone(v) : v;
      }
    }
  } catch (e) {
    if (e instanceof CapsuleError) throw e;
    throw onError(`${what}: cannot read ${key ? `option ${key}` : 'them'}: ${oneLineMessage(e)}`);
  }
  return out;
}

/** A JSON copy of `v` (throws what JSON.stringify or a getter throws). */
export function plainCopy(v: unknown): unknown {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
}

function isAbortSignal(v: object): boolean {
  return v instanceof AbortSignal;
}

/** The first line of an error's message, read safely. */
export function oneLineMessage(e: unknown): string {
  return (messageOf(e).split('\n')[0] ?? '').slice(0, 200);
}
