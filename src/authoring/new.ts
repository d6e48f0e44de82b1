// `capsule new <id> --lang js|ts|c|wat`: a capability directory that builds, passes its
// examples and runs as it is: capability.json, src/, examples.json and a README.
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { type Lang, LANGS, TEMPLATES } from './templates.js';

const ID = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

export interface NewOptions {
  lang: string;
  /** Where to create it (default ./<id>). */
  dir?: string;
}

/** Writes the capability; returns its directory and the files written. */
export async function scaffold(id: string, o: NewOptions): Promise<{ dir: string; files: string[] }> {
  if (!ID.test(id) || id.length > 128)
    throw new CapsuleError('USAGE', `capability id ${JSON.stringify(id)}: use two or more dot-separated parts of a-z 0-9 - (e.g. acme.slug)`);
  if (!(LANGS as readonly string[]).includes(o.lang)) throw new CapsuleError('USAGE', `--lang ${o.lang}: expected one of ${LANGS.join(', ')}`);
  const lang = o.lang as Lang;
  const dir = path.resolve(o.dir ?? id);
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new CapsuleError('USAGE', `${dir} exists and is not empty`);
  const t = TEMPLATES[lang]();
  const manifest = {
    $schema: 'https://capsule.dev/schema/capability.schema.json',
    id,
    version: '0.1.0',
    provider: { name: id.split('.')[0] ?? id },
    description: `${id}: a ${lang.toUpperCase()} capability made by capsule new`,
    component: 'component.wasm',
    world: 'capability',
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    securityLevel: 'pure',
    limits: { memoryBytes: 67108864, timeoutMs: 2000, outputBytes: 65536 },
  };
  const files: Record<string, string> = {
    'capability.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'examples.json': `${JSON.stringify(t.examples, null, 2)}\n`,
    'README.md': readme(id, lang),
    ...t.files,
  };
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(dir, rel);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, text, { flag: 'wx' });
  }
  return { dir, files: Object.keys(files) };
}

const TOOLS: Record<Lang, string> = {
  js: 'JavaScript needs two build tools beside capsule: `npm install --save-dev @bytecodealliance/componentize-js@0.22.0 esbuild@0.28.2`.',
  ts: 'TypeScript needs two build tools beside capsule: `npm install --save-dev @bytecodealliance/componentize-js@0.22.0 esbuild@0.28.2` (and `typescript` to type-check: `npx tsc -p .`).',
  c: 'C needs clang with the wasm32 target and wasi-libc (Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`).',
  wat: 'WAT needs nothing beside capsule.',
};

function readme(id: string, lang: Lang): string {
  const dir = id;
  return `# ${id}

Made by \`capsule new ${id} --lang ${lang}\`. See capsule's docs/authoring.md.

${TOOLS[lang]}

    capsule build ${dir}                  # src/ -> component.wasm, digest pinned in capability.json
    capsule test ${dir}                   # runs examples.json: each input, its expected output
    capsule run ${id} --capabilities . --input '${JSON.stringify(TEMPLATES[lang]().examples[0]?.input ?? {})}'

## Permissions

This capability asks for nothing, so it runs with nothing granted. To request more, add
a \`permissions\` object to capability.json; the policy (or \`--allow-*\` flags) decides
what it gets. For example:

    "permissions": {
      "host": ["capsule:host/log"],
      "fs": { "read": ["data/"] },
      "env": ["LANG"],
      "net": { "outbound": ["api.example.com:443"] }
    }

and then \`capsule test ${dir} --allow-host capsule:host/log --allow-read data/\`.
A relative path is relative to the directory capsule runs in.

## Signing

    capsule keygen --out keys --id ${id.split('.')[0] ?? id}
    capsule build ${dir} --sign keys/${id.split('.')[0] ?? id}.key
`;
}
