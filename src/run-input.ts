// Input rules shared by every capability: the command-world input shape, and the
// manifest capsule synthesizes for a bare component file.
import path from 'node:path';
import { CapsuleError, messageOf } from './errors.js';
import type { Manifest } from './registry/manifest.js';
import type { CompiledComponent } from './sandbox/compile.js';
import { isWasi } from './sandbox/interface-name.js';
import { levelFor } from './policy/levels.js';
import type { Permissions } from './policy/request.js';

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
  const base = path.basename(file).replace(/\.wasm$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
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
const NUMERIC_OPTIONS = ['timeoutMs', 'memoryLimitBytes', 'outputBytes', 'inputBytes'] as const;

/** A caller's run options, checked before anything is planned (a NaN limit would otherwise disable the limit). */
export function checkRunOptions(opts: Record<string, unknown>, id: string): void {
  for (const key of NUMERIC_OPTIONS) {
    const v = opts[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new CapsuleError('USAGE', `${id}: option ${key} must be a positive number, got ${String(v)}`);
    }
  }
  if (opts.tier !== undefined && !TIERS.includes(opts.tier as string)) {
    throw new CapsuleError('USAGE', `${id}: option tier must be one of ${TIERS.join(', ')}, got ${String(opts.tier)}`);
  }
}

/** The JSON text of a capability-world input; values JSON cannot carry are INPUT_INVALID. */
export function inputText(input: unknown, id: string): string {
  try {
    return JSON.stringify(input ?? null);
  } catch (e) {
    throw new CapsuleError('INPUT_INVALID', `${id}: input cannot be sent as JSON: ${messageOf(e).split('\n')[0]}`);
  }
}
