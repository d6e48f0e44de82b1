// One configured ajv for manifests, policies and the capabilities' own
// input/output schemas: all errors reported, formats checked, no coercion.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule }).default ??
  formatsModule) as unknown as (ajv: Ajv) => Ajv;

export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
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
