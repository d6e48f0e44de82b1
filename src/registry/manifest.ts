// Reads and checks capability manifests: JSON Schema (ajv, additionalProperties
// false) plus the rules a schema cannot say (input/output schemas must compile).
import { readFile } from 'node:fs/promises';
import { CapsuleError, messageOf } from '../errors.js';
import type { CapabilityRequest } from '../policy/request.js';
import type { CapsuleCapabilityManifest } from '../schema-types.js';
import { parseJson } from '../json-text.js';
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
// this ajv compiles only the capabilities' input/output schemas.
const ajv = createAjv();
const knownFormat = (name: string) => ajv.formats[name] !== undefined;

export async function readManifest(file: string): Promise<Manifest> {
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
  return checkManifest(value, file);
}

export function checkManifest(value: unknown, file: string): Manifest {
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
    try {
      ajv.compile(s);
    } catch (e) {
      throw new CapsuleError('MANIFEST_INVALID', `${file}: /${field} is not a valid JSON Schema: ${messageOf(e)}`, {
        file,
        problems: [`/${field}`],
      });
    }
  }
  return manifest;
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

const ioCache = new WeakMap<Manifest, IoValidators>();

function compileIo(schema: object | boolean | undefined): IoValidator | undefined {
  if (schema === undefined) return undefined;
  return { validate: ajv.compile(schema), costly: COSTLY.test(JSON.stringify(schema)) };
}

/**
 * Keywords whose cost can grow faster than the value's size: backtracking regexes
 * (`pattern`, `patternProperties`, and the formats ajv-formats checks by regex),
 * pairwise comparison (`uniqueItems`).
 */
const COSTLY = /"(?:pattern|patternProperties|uniqueItems|format)"\s*:/;

export function ioValidators(m: Manifest): IoValidators {
  let v = ioCache.get(m);
  if (!v) {
    v = { input: compileIo(m.inputSchema), output: compileIo(m.outputSchema) };
    ioCache.set(m, v);
  }
  return v;
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
