// One configured ajv for manifests, policies and the capabilities' own
// input/output schemas: all errors reported, formats checked, no coercion.
import { createRequire } from 'node:module';
import vm from 'node:vm';
import type { Ajv, CodeOptions, ErrorObject, ValidateFunction } from 'ajv';
import type formatsModule from 'ajv-formats';

// ajv and ajv-formats are required on the first compile, not imported: loading them
// is ~40 ms, and a process that compiles no schema (`capsule run` of a capability
// without input/output schemas, `--version`) never needs them. The manifest and
// policy validators are precompiled (src/schema-validators.cjs).
const cjsRequire = createRequire(import.meta.url);

/** `code`: only for scripts/schema-validators.mjs, which emits the manifest and policy validators as code. */
export function createAjv(code?: CodeOptions): Ajv {
  // Strict: a schema keyword ajv would ignore (unknown or misspelt, `minimum` on a
  // string) is refused at compile time, for capsule's own schemas and for a
  // capability's input/output schemas alike: a rule a schema states is enforced or
  // refused. Two strict checks stay off because they refuse sound schemas:
  // - strictRequired: it does not see `properties` declared beside an `if`/`then`
  //   or `anyOf` that holds the `required` (ajv issue #1950, a known limitation);
  // - union types (`"type": ["object", "boolean"]`) are plain JSON Schema: allowed.
  // logger: false: ajv writes nothing to the host's stderr. What it would have
  // warned about (an unknown format, ignored) is refused at load instead
  // (schema-guard.ts).
  const { Ajv: AjvClass } = cjsRequire('ajv') as typeof import('ajv');
  // ajv-formats is CommonJS; its default export may arrive wrapped.
  const formats = cjsRequire('ajv-formats') as { default?: typeof formatsModule };
  const addFormats = (formats.default ?? formats) as unknown as (ajv: Ajv) => Ajv;
  const ajv = new AjvClass({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    validateSchema: true,
    logger: false,
    ...(code ? { code } : {}),
  });
  addFormats(ajv);
  return ajv;
}

/** `/limits/memoryBytes must be <= 1073741824` — one line per problem, naming the field. */
export function describeErrors(errors: ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((e) => {
    const at = `${root}${e.instancePath}` || '(root)';
    if (e.keyword === 'additionalProperties') {
      return `unknown field ${at === '(root)' ? '' : at}/${String(e.params.additionalProperty)}`;
    }
    if (e.keyword === 'required') {
      return `missing field ${at === '(root)' ? '' : at}/${String(e.params.missingProperty)}`;
    }
    if (e.keyword === 'enum') {
      return `${at} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return `${at} ${e.message ?? 'is invalid'}`;
  });
}

export type Validator = ValidateFunction;

/** The longest a costly schema check (patterns, uniqueItems) may hold the thread. */
export const SCHEMA_CHECK_MS = 200;

export class SchemaCheckTimeout extends Error {
  constructor() {
    super(`schema check took over ${SCHEMA_CHECK_MS} ms`);
  }
}

// A script run with a timeout is interrupted by V8 wherever it is, including
// inside a backtracking regular expression, and the thread carries on. The
// validator itself stays a normal ajv function; only the call goes through the
// script. Starting the watchdog costs ~0.4 ms, so only costly schemas pay it.
const context = vm.createContext(Object.create(null) as object) as { check?: Validator; value?: unknown };
const script = new vm.Script('check(value) === true');

/** `validate(value)`, or SchemaCheckTimeout after SCHEMA_CHECK_MS. */
export function timedValidate(validate: Validator, value: unknown): boolean {
  context.check = validate;
  context.value = value;
  try {
    return script.runInContext(context, { timeout: SCHEMA_CHECK_MS }) === true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new SchemaCheckTimeout();
    throw e;
  } finally {
    context.check = undefined;
    context.value = undefined;
  }
}
