// Reads and checks capability manifests: JSON Schema (ajv, additionalProperties
// false) plus the rules a schema cannot say (input/output schemas must compile).
// The compile is the costly part (ajv meta-validates and generates code): the
// registry defers it to the first use of that capability (checkManifestShape at
// scan, compileSchemas at load), so a run compiles only the schemas it checks.
import { readFile } from 'node:fs/promises';
import { CapsuleError, messageOf } from '../errors.js';
import type { CapabilityRequest } from '../policy/request.js';
import type { CapsuleCapabilityManifest } from '../schema-types.js';
import { parseJson } from '../json-text.js';
import type { Ajv } from 'ajv';
import { createAjv, describeErrors, SCHEMA_CHECK_MS, SchemaCheckTimeout, timedValidate, type Validator } from '../json-schema.js';
import { schemaProblems } from '../schema-guard.js';
import { validateManifest } from '../schema-validators.cjs';

export type { SecurityLevel } from '../grants/permissions.js';
export type { Isolation } from '../policy/request.js';

/** Fails to compile unless T is a CapabilityRequest (what the policy layer reads a manifest as). */
type Request<T extends CapabilityRequest> = T;

/**
 * A manifest as schema/capability.schema.json states it: the type is generated from
 * the schema (src/schema-types.ts), not written a second time here.
 */
export type Manifest = Request<CapsuleCapabilityManifest>;

// The manifest's own validator is compiled ahead of time (scripts/schema-validators.mjs);
// this ajv compiles only the capabilities' input/output schemas, made on first use.
let shared: Ajv | undefined;
const ajv = (): Ajv => {
  shared ??= createAjv();
  return shared;
};
const knownFormat = (name: string) => ajv().formats[name] !== undefined;
/** Each manifest's compiled input/output validators (compileSchemas, ioValidators). */
const ioCache = new WeakMap<Manifest, IoValidators>();

/**
 * Reads and checks a manifest. `schemas: 'later'`: every check but compiling the
 * input/output schemas (checkManifestShape); the caller runs compileSchemas before
 * the manifest is used.
 */
export async function readManifest(file: string, opts: { schemas?: 'now' | 'later' } = {}): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CapsuleError('MANIFEST_INVALID', `${file}: cannot read: ${messageOf(e)}`);
  }
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    // One short line: where and what, never a quote of the file.
    throw new CapsuleError('MANIFEST_INVALID', `${file}: not JSON: ${messageOf(e)}`, { file });
  }
  return opts.schemas === 'later' ? checkManifestShape(value, file) : checkManifest(value, file);
}

export function checkManifest(value: unknown, file: string): Manifest {
  const manifest = checkManifestShape(value, file);
  compileSchemas(manifest, file);
  return manifest;
}

/**
 * Every rule but the compile of the input/output schemas: the manifest schema, the
 * container rules, and the guard on each schema (recursion, size, patterns, formats).
 */
export function checkManifestShape(value: unknown, file: string): Manifest {
  if (!validateManifest(value)) {
    const problems = describeErrors(validateManifest.errors);
    throw new CapsuleError('MANIFEST_INVALID', `${file}: ${problems.join('; ')}`, { file, problems });
  }
  const manifest = value as unknown as Manifest;
  containerRules(manifest, file);
  for (const field of ['inputSchema', 'outputSchema'] as const) {
    const s = manifest[field];
    if (s === undefined) continue;
    // Recursion, size, patterns and formats first: ajv would compile some of these
    // happily and then throw, stall or ignore a rule on every call.
    const problems = schemaProblems(s, `/${field}`, knownFormat);
    if (problems.length > 0) throw new CapsuleError('MANIFEST_INVALID', `${file}: ${problems.join('; ')}`, { file, problems });
  }
  return manifest;
}

/**
 * Compiles the manifest's input and output schemas (ajv strict mode), keeping the
 * validators for ioValidators: a schema ajv refuses is MANIFEST_INVALID naming the field.
 */
export function compileSchemas(manifest: Manifest, file: string): void {
  if (ioCache.has(manifest)) return;
  const compiled: IoValidators = {};
  for (const field of ['inputSchema', 'outputSchema'] as const) {
    const s = manifest[field];
    if (s === undefined) continue;
    try {
      compiled[field === 'inputSchema' ? 'input' : 'output'] = compileIo(s);
    } catch (e) {
      throw new CapsuleError('MANIFEST_INVALID', `${file}: /${field} is not a valid JSON Schema: ${messageOf(e)}`, {
        file,
        problems: [`/${field}`],
      });
    }
  }
  ioCache.set(manifest, compiled);
}

/** The rules for `runtime: "container"` that the schema states as if/then, said plainly. */
function containerRules(m: Manifest, file: string): void {
  const bad = (field: string, why: string) => new CapsuleError('MANIFEST_INVALID', `${file}: /${field} ${why}`, { file, problems: [`/${field}`] });
  if (m.runtime === 'container') {
    if (m.world !== 'command') throw bad('world', 'must be "command" for runtime container (stdin/args in, stdout/stderr/exit code out)');
  } else if (m.container !== undefined) {
    throw bad('container', 'is only for runtime "container"');
  }
}

/** A compiled input or output schema, and whether checking a value against it can take long. */
export interface IoValidator {
  validate: Validator;
  /** It has `pattern`, `patternProperties`, `format` or `uniqueItems`: its check runs under a time limit. */
  costly: boolean;
}

/** Validators for a capability's input and output, compiled once per manifest. */
export interface IoValidators {
  input?: IoValidator;
  output?: IoValidator;
}

function compileIo(schema: object | boolean): IoValidator {
  return { validate: ajv().compile(schema), costly: COSTLY.test(JSON.stringify(schema)) };
}

/**
 * Keywords whose cost can grow faster than the value's size: backtracking regexes
 * (`pattern`, `patternProperties`, and the formats ajv-formats checks by regex),
 * pairwise comparison (`uniqueItems`).
 */
const COSTLY = /"(?:pattern|patternProperties|uniqueItems|format)"\s*:/;

/** The manifest's compiled validators (compiled now if they were not: a manifest from checkManifest has them). */
export function ioValidators(m: Manifest): IoValidators {
  compileSchemas(m, m.id);
  return ioCache.get(m) as IoValidators;
}

/**
 * Checks `value` against a capability's schema. A check that throws (a value
 * nested past the stack) or, for a costly schema, runs past SCHEMA_CHECK_MS is
 * refused with the call's code: neither can stall or crash the runtime.
 */
export function checkValue(v: IoValidator | undefined, value: unknown, code: 'INPUT_INVALID' | 'OUTPUT_INVALID', id: string): void {
  if (!v) return;
  const what = code === 'INPUT_INVALID' ? 'input' : 'output';
  let ok: boolean;
  try {
    ok = v.costly ? timedValidate(v.validate, value) : v.validate(value) === true;
  } catch (e) {
    const why =
      e instanceof SchemaCheckTimeout
        ? `took over ${SCHEMA_CHECK_MS} ms (a pattern, format or uniqueItems too costly for this value)`
        : 'could not be completed (nested too deeply?)';
    throw new CapsuleError(code, `${id}: checking the ${what} against its schema ${why}`);
  }
  if (ok) return;
  const problems = describeErrors(v.validate.errors);
  throw new CapsuleError(code, `${id}: ${what} does not match its schema: ${problems.join('; ')}`, { problems });
}
