// Reads what a component imports and exports from its embedded WIT, before any
// instantiation, and decides which capsule world it fits.
import { CapsuleError } from '../errors.js';
import type { World } from './job.js';

export interface ComponentShape {
  /** Every import the component's world declares (not only those jco sees used). */
  imports: string[];
  exports: string[];
  /** capability, command, or null when it is neither. */
  world: World | null;
  /** The world's WIT text, for `inspect`. */
  wit: string;
}

const CAPABILITY_RUN = /^run: func\(input: string\) -> result<string, string>$/;

export function shapeFromWit(wit: string): ComponentShape {
  const world = worldBody(wit).replace(/\/\/[^\n]*/g, '');
  const imports: string[] = [];
  const exports: string[] = [];
  for (const item of topLevelItems(world)) {
    const [, kind, body = ''] = /^(import|export)\s+(.*?);?$/s.exec(item) ?? [];
    if (!kind) continue;
    (kind === 'import' ? imports : exports).push(body.replace(/\s+/g, ' ').trim());
  }
  return { imports: imports.map(importName), exports, world: worldOf(exports), wit };
}

function worldOf(exports: string[]): World | null {
  const [only] = exports;
  if (exports.length === 1 && only !== undefined && CAPABILITY_RUN.test(only)) return 'capability';
  if (exports.some((e) => /^wasi:cli\/run@0\.2\.\d+/.test(e))) return 'command';
  return null;
}

/** `wasi:io/streams@0.2.3` stays whole; `name: func(...)` or `name: interface {…}` becomes `name`. */
function importName(item: string): string {
  const colon = /^([a-z0-9-]+)\s*:\s*(func|interface)\b/.exec(item);
  return colon?.[1] ?? item;
}

function worldBody(wit: string): string {
  const start = wit.search(/^world\s+[\w-]+\s*\{/m);
  if (start === -1) throw new CapsuleError('COMPONENT_INVALID', 'component has no world in its WIT');
  const open = wit.indexOf('{', start);
  let depth = 0;
  for (let i = open; i < wit.length; i++) {
    if (wit[i] === '{') depth++;
    else if (wit[i] === '}' && --depth === 0) return wit.slice(open + 1, i);
  }
  throw new CapsuleError('COMPONENT_INVALID', 'component WIT is truncated');
}

/** Split a world body into its items, keeping inline `interface { ... }` bodies whole. */
function topLevelItems(body: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if ((ch === ';' && depth === 0) || (ch === '}' && depth === 0)) {
      if (current.trim()) items.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  return items;
}

/** Explain why a component is not one capsule can run, naming what it does export. */
export function notAWorld(shape: ComponentShape, expected?: World): CapsuleError {
  const has = shape.exports.length > 0 ? shape.exports.join('; ') : 'nothing';
  const want = expected ? `the ${expected} world` : 'the capability world (export run: func(input: string) -> result<string, string>) or a wasi:cli/command';
  return new CapsuleError('COMPONENT_INVALID', `not a capsule capability: expected ${want}, but it exports ${has}`, {
    exports: shape.exports,
  });
}
