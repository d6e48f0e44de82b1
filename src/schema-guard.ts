// Checks a capability's own input/output JSON Schema at load, before ajv compiles
// it, for what would let a manifest stall or crash the runtime on every call:
// - recursion that consumes no input (`{"$ref":"#"}`, `allOf` back to itself):
//   ajv compiles it, then every validation throws RangeError;
// - a schema too large or too deep;
// - `pattern` / `patternProperties` shapes that backtrack exponentially;
// - `$ref`s other than local JSON pointers (nothing else can resolve, and
//   `$dynamicRef`/`$recursiveRef` would be silently ignored by this ajv);
// - a `format` ajv does not know: ajv would ignore it, so a field the schema
//   accepts would not be enforced. It is refused instead.
// Each problem names the field as a JSON pointer into the manifest.
import { unsafePattern } from './regex-safety.js';

const SCHEMA_LIMITS = {
  /** JSON values in one schema (objects, arrays, strings, numbers...). */
  values: 20_000,
  /** Nesting of JSON values in one schema. */
  depth: 64,
  /** Characters in one `pattern` or `patternProperties` key. */
  patternChars: 1000,
};

type Schema = Record<string, unknown> | boolean;

/** Subschema keywords applied to the same value: a cycle through these (and $ref) never ends. */
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_LIST = ['allOf', 'anyOf', 'oneOf'];
const IN_PLACE_MAP = ['dependentSchemas', 'dependencies'];
/** Subschema keywords applied to a part of the value (an item, a property): recursion through them ends with the value. */
const DESCEND_ONE = ['items', 'additionalItems', 'contains', 'additionalProperties', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const DESCEND_LIST = ['items', 'prefixItems'];
const DESCEND_MAP = ['properties', 'patternProperties'];
/** Not applied at all; only a $ref reaches them. */
const CONTAINER_MAP = ['definitions', '$defs'];
const UNSUPPORTED = ['$dynamicRef', '$recursiveRef', '$dynamicAnchor', '$recursiveAnchor'];

interface Node {
  schema: Schema;
  /** Pointer within the schema (`#/properties/a`). */
  pointer: string;
  /** Nodes applied to the same value: subschemas and $ref targets (pointers). */
  sameValue: string[];
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const isSchema = (v: unknown): v is Schema => typeof v === 'boolean' || (typeof v === 'object' && v !== null && !Array.isArray(v));

/** The problems found in `schema` (empty when none), each starting with its place under `at` (e.g. `/inputSchema`). */
export function schemaProblems(schema: unknown, at: string, knownFormats: (name: string) => boolean): string[] {
  const size = sizeProblem(schema, at);
  if (size) return [size];
  const problems: string[] = [];
  const nodes = new Map<string, Node>();
  const where = (pointer: string) => `${at}${pointer.slice(1)}`;

  const visit = (s: unknown, pointer: string): void => {
    if (!isSchema(s)) {
      problems.push(`${where(pointer)} is not a schema (an object or a boolean)`);
      return;
    }
    const node: Node = { schema: s, pointer, sameValue: [] };
    nodes.set(pointer, node);
    if (typeof s === 'boolean') return;
    const child = (key: string, v: unknown, sameValue: boolean) => {
      const p = `${pointer}/${key}`;
      visit(v, p);
      if (sameValue) node.sameValue.push(p);
    };
    for (const k of [...IN_PLACE_ONE, ...DESCEND_ONE]) {
      if (k in s && !(k === 'items' && Array.isArray(s[k]))) child(k, s[k], IN_PLACE_ONE.includes(k));
    }
    for (const k of [...IN_PLACE_LIST, ...DESCEND_LIST]) {
      const list = s[k];
      if (k === 'items' && !Array.isArray(list)) continue;
      if (list === undefined) continue;
      if (!Array.isArray(list)) continue; // ajv reports the wrong type
      list.forEach((v, i) => {
        child(`${k}/${i}`, v, IN_PLACE_LIST.includes(k));
      });
    }
    for (const k of [...IN_PLACE_MAP, ...DESCEND_MAP, ...CONTAINER_MAP]) {
      const map = s[k];
      if (!isSchema(map) || typeof map === 'boolean') continue;
      for (const [name, v] of Object.entries(map)) {
        // `dependencies` also takes arrays of names (not schemas).
        if (k === 'dependencies' && Array.isArray(v)) continue;
        child(`${k}/${escapePointer(name)}`, v, IN_PLACE_MAP.includes(k));
      }
    }
    for (const k of UNSUPPORTED) if (k in s) problems.push(`${where(pointer)}/${k} is not supported`);
    // A nested $id moves what "#" means for the refs below it; only the root may have one.
    if ('$id' in s && pointer !== '#') problems.push(`${where(pointer)}/$id is only allowed at the schema's root`);
    if ('$ref' in s) {
      const ref = s.$ref;
      if (typeof ref !== 'string' || !(ref === '#' || ref.startsWith('#/'))) {
        problems.push(`${where(pointer)}/$ref must be a local JSON pointer ("#" or "#/..."), got ${JSON.stringify(ref)}`);
      } else {
        node.sameValue.push(decodeURIComponentSafe(ref));
      }
    }
    if (typeof s.format === 'string' && !knownFormats(s.format)) {
      problems.push(`${where(pointer)}/format "${s.format}" is not a format capsule checks (it would be ignored)`);
    }
    if (typeof s.pattern === 'string') patternProblem(s.pattern, `${where(pointer)}/pattern`, problems);
    const pp = s.patternProperties;
    if (isSchema(pp) && typeof pp !== 'boolean') {
      for (const key of Object.keys(pp)) patternProblem(key, `${where(pointer)}/patternProperties/${escapePointer(key)}`, problems);
    }
  };
  visit(schema, '#');
  if (problems.length > 0) return problems;

  for (const n of nodes.values()) {
    for (const target of n.sameValue) {
      if (!nodes.has(target)) problems.push(`${where(n.pointer)}/$ref ${JSON.stringify(target)} does not point to a schema in it`);
    }
  }
  if (problems.length > 0) return problems;
  const cycle = findCycle(nodes);
  if (cycle) problems.push(`${where(cycle)} refers back to itself without going into a part of the value (unbounded recursion)`);
  return problems;
}

function decodeURIComponentSafe(ref: string): string {
  try {
    return decodeURIComponent(ref);
  } catch {
    return ref;
  }
}

function patternProblem(source: string, at: string, problems: string[]): void {
  if (source.length > SCHEMA_LIMITS.patternChars) {
    problems.push(`${at} is longer than ${SCHEMA_LIMITS.patternChars} characters`);
    return;
  }
  const why = unsafePattern(source);
  if (why) problems.push(`${at} is refused: ${why}`);
}

/** Counts values and depth without recursion, stopping at the first bound crossed. */
function sizeProblem(schema: unknown, at: string): string | undefined {
  const pending: [unknown, number][] = [[schema, 1]];
  let values = 0;
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [v, depth] = item;
    if (++values > SCHEMA_LIMITS.values) return `${at} is too large (over ${SCHEMA_LIMITS.values} JSON values)`;
    if (depth > SCHEMA_LIMITS.depth) return `${at} is nested too deeply (over ${SCHEMA_LIMITS.depth} levels)`;
    if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) pending.push([c, depth + 1]);
  }
  return undefined;
}

/** A node on a cycle of same-value edges, if any (iterative depth-first search). */
function findCycle(nodes: Map<string, Node>): string | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of nodes.keys()) {
    if (state.has(start)) continue;
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 'open');
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      // A reference to no known node has no edges: it cannot close a cycle.
      const next = nodes.get(top[0])?.sameValue[top[1]];
      if (next === undefined) {
        state.set(top[0], 'done');
        stack.pop();
        continue;
      }
      top[1]++;
      const s = state.get(next);
      if (s === 'open') return next;
      if (s === undefined) {
        state.set(next, 'open');
        stack.push([next, 0]);
      }
    }
  }
  return undefined;
}
