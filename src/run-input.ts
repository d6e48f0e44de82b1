// Input rules shared by every capability: the command-world input shape, and the
// manifest capsule synthesizes for a bare component file.
import path from 'node:path';
import { types } from 'node:util';
import { oneLineMessage, shown, snapshotOptions } from './api-options.js';
import { checkCallGrants } from './grants/per-call.js';
import { CapsuleError } from './errors.js';
import { parseJson } from './json-text.js';
import { bytesOver } from './utf8-size.js';
import type { CommandInput } from './sandbox/job.js';
import type { Manifest } from './registry/manifest.js';
import type { CompiledComponent } from './sandbox/compile.js';
import { isWasi } from './grants/interfaces.js';
import { levelFor } from './grants/levels.js';
import type { Permissions } from './grants/permissions.js';

export function checkCommandInput(input: unknown, id: string): void {
  if (input === undefined || input === null) return;
  const bad = (why: string) => new CapsuleError('INPUT_INVALID', `${id}: command input ${why}`);
  if (typeof input !== 'object' || Array.isArray(input)) throw bad('must be an object { args?, stdin?, env? }');
  const { args, stdin, env, ...rest } = input as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw bad(`has unknown field ${extra.join(', ')}; expected { args?, stdin?, env? }`);
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    throw bad('args must be an array of strings');
  }
  if (stdin !== undefined && typeof stdin !== 'string') throw bad('stdin must be a string');
  if (env !== undefined) {
    const ok = typeof env === 'object' && env !== null && !Array.isArray(env);
    if (!ok || !Object.values(env).every((v) => typeof v === 'string')) throw bad('env must map names to strings');
  }
}

/** `./hello_stdout.component.wasm` → `file.hello-stdout-component`. */
export function fileCapabilityId(file: string): string {
  const base = path
    .basename(file)
    .replace(/\.wasm$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-');
  return `file.${base.replace(/^-+|-+$/g, '') || 'component'}`;
}

/**
 * A bare component asks for the custom interfaces it imports, plus `request`
 * (the CLI's --allow-* flags); the policy decides (default: none). Its security
 * level is the weakest that allows the request.
 */
export function fileManifest(file: string, c: CompiledComponent, request: Permissions = {}): Manifest {
  return {
    id: fileCapabilityId(file),
    version: '0.0.0',
    provider: { name: 'local file' },
    component: path.resolve(file),
    digest: c.digest,
    world: c.shape.world ?? 'capability',
    securityLevel: levelFor(request),
    permissions: { ...request, host: c.shape.imports.filter((i) => !isWasi(i)) },
  };
}

const TIERS = ['inline', 'worker', 'process', 'vm'];

/** A principal is written on audit lines and matched by `audit query`: a short printable name. */
export const PRINCIPAL_WANTED = 'a string of 1 to 256 characters without control characters';
export function isPrincipal(v: unknown): v is string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return typeof v === 'string' && v.length >= 1 && v.length <= 256 && !/[\u0000-\u001f\u007f-\u009f]/.test(v);
}
const NUMERIC_OPTIONS = [
  'timeoutMs',
  'cpuMs',
  'fuel',
  'memoryLimitBytes',
  'outputBytes',
  'inputBytes',
  'writeBytes',
  'files',
  'openFiles',
  'connections',
] as const;

/**
 * A caller's run options, read once into plain data and checked before anything
 * is planned (a NaN limit would otherwise disable the limit; a getter could say
 * one thing to this check and another to the runner).
 */
export function runOptions<T extends object>(opts: unknown, id: string): T {
  const o = snapshotOptions(opts, `${id}: run options`, []);
  for (const key of NUMERIC_OPTIONS) {
    const v = o[key];
    // Zero bytes written or files created is a real limit (nothing may be); zero time or memory is not.
    const least = key === 'writeBytes' || key === 'files' ? 0 : Number.MIN_VALUE;
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= least)) {
      const what = least === 0 ? 'a number of at least 0' : 'a positive number';
      throw new CapsuleError('USAGE', `${id}: option ${key} must be ${what}, got ${shown(v)}`);
    }
  }
  if (o.principal !== undefined && !isPrincipal(o.principal)) {
    throw new CapsuleError('USAGE', `${id}: option principal must be ${PRINCIPAL_WANTED}, got ${shown(o.principal)}`);
  }
  if (o.tier !== undefined && !TIERS.includes(o.tier as string)) {
    throw new CapsuleError('USAGE', `${id}: option tier must be one of ${TIERS.join(', ')}, got ${shown(o.tier)}`);
  }
  if (o.grants !== undefined) checkCallGrants(o.grants, id);
  if (o.signal !== undefined && !isRealAbortSignal(o.signal)) {
    throw new CapsuleError('USAGE', `${id}: option signal must be an AbortSignal, got ${shown(o.signal)}`);
  }
  return o as T;
}

/** A real AbortSignal (its own getter's brand check passes), not a look-alike or a Proxy of one. */
function isRealAbortSignal(v: unknown): boolean {
  // A Proxy passes the brand check by forwarding, then its traps run at every later use.
  if (types.isProxy(v)) return false;
  try {
    Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get?.call(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * The JSON text of an input: what the guest receives, and (parsed back) what the
 * schema checks. A function or Symbol, a throwing getter or toJSON, a Proxy whose
 * traps throw, a cycle or a BigInt is INPUT_INVALID. Inside objects and arrays,
 * values JSON has no form for follow JSON.stringify (left out, or null in arrays).
 */
export function inputText(input: unknown, id: string): string {
  const bad = (why: string) => new CapsuleError('INPUT_INVALID', `${id}: input cannot be sent as JSON: ${why}`);
  if (typeof input === 'function' || typeof input === 'symbol') throw bad(`it is ${shown(input)}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(input ?? null);
  } catch (e) {
    throw bad(oneLineMessage(e));
  }
  if (text === undefined) throw bad('it has no JSON form');
  return text;
}

/** Input text parsed (for a schema, or a command's input given as text); not JSON is INPUT_INVALID with where and why. */
export function inputValue(text: string, id: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    throw new CapsuleError('INPUT_INVALID', `${id}: input is not JSON text: ${oneLineMessage(e)}`);
  }
}

/** Command-world input as plain data, read once (see inputText), then checked. */
export function commandInput(input: unknown, id: string): CommandInput {
  if (input === undefined || input === null) return {};
  const copy = JSON.parse(inputText(input, id)) as unknown;
  checkCommandInput(copy, id);
  return (copy ?? {}) as CommandInput;
}

/**
 * The input's size against `inputBytes`, before its schema is checked: a schema
 * check costs time in proportion to the input (same measure as the runners').
 */
export function checkInputBytes(sent: string | CommandInput, limit: number, id: string): void {
  let size: number | undefined;
  if (typeof sent === 'string') size = bytesOver(sent, limit);
  else {
    // stdin counts as its bytes, the rest (args, env) as its JSON text.
    const rest = Buffer.byteLength(JSON.stringify({ ...sent, stdin: undefined }));
    const stdin = bytesOver(sent.stdin ?? '', limit - rest);
    size = stdin === undefined ? undefined : stdin + rest;
  }
  if (size !== undefined) throw new CapsuleError('INPUT_TOO_LARGE', `${id}: input is ${size} bytes, over the limit of ${limit}`);
}
