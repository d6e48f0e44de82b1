// Reads and checks capability manifests: JSON Schema (ajv, additionalProperties
// false) plus the rules a schema cannot say (input/output schemas must compile).
import { readFile } from 'node:fs/promises';
import schema from '../../schema/capability.schema.json' with { type: 'json' };
import { CapsuleError, messageOf } from '../errors.js';
import type { CapabilityRequest, CapabilityRuntime } from '../policy/request.js';
import { parseJson } from '../json-text.js';
import { createAjv, describeErrors, type Validator } from '../json-schema.js';

export type { Isolation, SecurityLevel } from '../policy/request.js';

export interface Manifest extends CapabilityRequest {
  version: string;
  provider: { name: string; version?: string; url?: string };
  description?: string;
  /** The component file (runtime wasm); a container capability has none. */
  component?: string;
  /** `container`: run an OCI image (always in the VM tier) instead of a component. */
  runtime?: CapabilityRuntime;
  container?: { image: string; command?: string[] };
  digest?: string;
  signature?: string;
  inputSchema?: object | boolean;
  outputSchema?: object | boolean;
}

const ajv = createAjv();
const validateManifest = ajv.compile(schema);

export const ID_PATTERN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

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
  const bad = (field: string, why: string) =>
    new CapsuleError('MANIFEST_INVALID', `${file}: /${field} ${why}`, { file, problems: [`/${field}`] });
  if (m.runtime === 'container') {
    if (m.world !== 'command') throw bad('world', 'must be "command" for runtime container (stdin/args in, stdout/stderr/exit code out)');
  } else if (m.container !== undefined) {
    throw bad('container', 'is only for runtime "container"');
  }
}

/** Validators for a capability's input and output, compiled once per manifest. */
export interface IoValidators {
  input?: Validator;
  output?: Validator;
}

const ioCache = new WeakMap<Manifest, IoValidators>();

export function ioValidators(m: Manifest): IoValidators {
  let v = ioCache.get(m);
  if (!v) {
    v = {
      input: m.inputSchema === undefined ? undefined : ajv.compile(m.inputSchema),
      output: m.outputSchema === undefined ? undefined : ajv.compile(m.outputSchema),
    };
    ioCache.set(m, v);
  }
  return v;
}

export function checkValue(validate: Validator | undefined, value: unknown, code: 'INPUT_INVALID' | 'OUTPUT_INVALID', id: string): void {
  if (!validate || validate(value)) return;
  const what = code === 'INPUT_INVALID' ? 'input' : 'output';
  const problems = describeErrors(validate.errors);
  throw new CapsuleError(code, `${id}: ${what} does not match its schema: ${problems.join('; ')}`, { problems });
}
