// The package's public surface is what the README documents: the names under
// "### API (everything `capsule` exports)" against the built entry's runtime
// exports (dist/index.js) and its declarations (dist/index.d.ts), both ways.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const HEADING = '### API (everything `capsule` exports)';

/** The README's list: `Values:` and `Types:` bullets, each starting with one or more `Name`s. */
function readmeApi(): { values: string[]; types: string[] } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(HEADING);
  if (start < 0) throw new Error(`README.md has no "${HEADING}" section`);
  const body = readme.slice(start + HEADING.length).split(/\n#{2,3} /)[0] ?? '';
  const out: { values: string[]; types: string[] } = { values: [], types: [] };
  let into: string[] | undefined;
  for (const line of body.split('\n')) {
    if (line === 'Values:') into = out.values;
    else if (line === 'Types:') into = out.types;
    else if (line.startsWith('- ') && into !== undefined) {
      // The names before the first ':' (a call's parentheses dropped).
      const head = line.slice(2).split(/:\s/)[0] ?? '';
      for (const m of head.matchAll(/`([A-Za-z_$][\w$]*)(?:\([^`]*\))?`/g)) into.push(m[1] ?? '');
    } else if (line.trim() !== '' && !line.startsWith('  ')) into = undefined;
  }
  return out;
}

/** Names a declaration file exports. tsc writes index.d.ts as re-export lists; any other form fails loudly. */
function declaredExports(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
  const names: string[] = [];
  const statements = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const st of statements) {
    const list = /^export (?:type )?\{([^}]*)\}(?: from '[^']+')?$/.exec(st);
    if (list === null) throw new Error(`dist/index.d.ts: an export form this test does not read: ${st}`);
    for (const part of (list[1] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')) {
      const name =
        part
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .at(-1) ?? '';
      names.push(name);
    }
  }
  return names;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('the public API is the README list', () => {
  const api = readmeApi();

  it('the README lists some values and types, each once', () => {
    expect(api.values.length).toBeGreaterThan(0);
    expect(api.types.length).toBeGreaterThan(0);
    const all = [...api.values, ...api.types];
    expect(new Set(all).size).toBe(all.length);
  });

  it('dist/index.js exports exactly the README values', async () => {
    const mod = (await import(path.join(ROOT, 'dist', 'index.js'))) as Record<string, unknown>;
    expect(sorted(Object.keys(mod))).toEqual(sorted(api.values));
  });

  it('dist/index.d.ts exports exactly the README values and types', () => {
    expect(sorted(declaredExports(path.join(ROOT, 'dist', 'index.d.ts')))).toEqual(sorted([...api.values, ...api.types]));
  });

  it('the library bundle carries no bench code (capsule/bench is its own entry)', () => {
    const index = readFileSync(path.join(ROOT, 'dist', 'index.js'), 'utf8');
    expect(index).not.toMatch(/src\/bench\//);
    expect(readFileSync(path.join(ROOT, 'dist', 'bench.js'), 'utf8')).toMatch(/src\/bench\/harness\.ts/);
  });
});
