// src/grants/ is the pure permission model: the layer check keeps node:fs and node:os
// out of its imports; this keeps the globals that read the host out of its code.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const GRANTS = fileURLToPath(new URL('../../src/grants', import.meta.url));

it('no file of src/grants reads process, the clock or the environment', () => {
  const files = readdirSync(GRANTS).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  const uses = files.flatMap((f) =>
    readFileSync(path.join(GRANTS, f), 'utf8')
      .split('\n')
      .map((line, i) => ({ where: `${f}:${i + 1}`, code: line.replace(/\/\/.*$|^\s*\*.*$/, '') }))
      .filter(({ code }) => /\b(process\.|Date\.now|new Date\(|performance\.now|globalThis\.)/.test(code))
      .map(({ where }) => where),
  );
  expect(uses).toEqual([]);
});
