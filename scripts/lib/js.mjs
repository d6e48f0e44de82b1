// Builds a JavaScript capability into a WebAssembly component with componentize-js.
//
//   import { buildJs } from './lib/js.mjs';
//   const bytes = await buildJs('capabilities/x/src/plugin.js', { world: 'capability' });
//
// Two steps:
//  1. esbuild bundles the entry and its npm imports (resolved from the repo's node_modules)
//     into ONE ES module, because componentize-js takes a single module and cannot resolve
//     packages. `capsule:*` / `wasi:*` imports stay external: they are the component's imports.
//     Two fix-ups make ordinary npm code and plain specifiers work in the engine:
//     - componentize-js names WIT imports with the package version ('capsule:host/log@0.1.0');
//       plugins write 'capsule:host/log' and the version from wit/capsule.wit is appended.
//     - The engine's SpiderMonkey rejects Unicode property escapes (it has no ICU data), so a
//       regex like `/\p{L}/u` (used by e.g. `marked`) is a SyntaxError when the module loads.
//       Such regex literals (found with acorn's tokenizer) are rewritten to explicit code-point
//       classes with regexpu-core: same semantics, bigger text (marked: 52 KB -> 91 KB).
//       Patterns built at run time from strings (`new RegExp('\\p{L}', 'u')`) are not rewritten.
//  2. componentize-js splices the bundle into its SpiderMonkey engine for the given world of
//     wit/capsule.wit, pre-initialises it with wizer and returns the component bytes.
//
// Builds are NOT byte-reproducible: wizer runs the engine's start-up with the build host's real
// WASI clocks and randomness and snapshots the heap (even with identical paths the bytes differ),
// and componentize-js also records its random temp paths. Two builds
// of the same source differ by a few bytes in size and in millions of bytes of heap snapshot, so
// check a committed component against the digest in its manifest instead of rebuilding it.
//
// Why the preopen below: componentize-js's "splicer" is itself a jco-transpiled component that
// reads the engine/WIT files through WASI, backed by @bytecodealliance/preview2-shim. Since
// preview2-shim 0.26 the shim starts with NO preopened directories, so the splicer fails to
// read the WIT file. We therefore add a '/' -> '/' preopen to the shim's process-global default
// filesystem BEFORE componentize-js is (dynamically) imported. This widens the default
// preview2-shim filesystem for the whole process, so use this module only from build tooling
// (scripts/), never from the runtime or from a process that also runs untrusted components
// with the shim's default filesystem.
import { build } from 'esbuild';
import * as acorn from 'acorn';
import rewritePattern from 'regexpu-core';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const defaultWitPath = path.join(root, 'wit', 'capsule.wit');

// componentize-js engine features, all disabled by default: then the component imports nothing
// but its world's imports (no wasi:* at all), so it needs no WASI grants. Consequences, checked
// with componentize-js 0.22: no fetch(), no console output, no timers (setTimeout panics, per its
// README); Date.now() returns the build time on every call and Math.random() the same sequence in
// every instance (both frozen in the wizer snapshot); an Error thrown out of an export traps
// ('unreachable', no message). Pass `disableFeatures` to keep 'random' or 'clocks' if a plugin
// needs them (and grant them in its manifest).
export const DEFAULT_DISABLED_FEATURES = Object.freeze(['http', 'fetch-event', 'stdio', 'clocks', 'random']);

let componentizeFn;

/** The `package ns:name@version;` line of the WIT file, for versioned import specifiers. */
async function witPackage() {
  const text = await readFile(defaultWitPath, 'utf8').catch((e) => {
    throw new Error(`buildJs: cannot read ${defaultWitPath}: ${e.message}`);
  });
  const m = /^\s*package\s+([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?\s*;/m.exec(text);
  if (!m) throw new Error(`buildJs: no "package ns:name@version;" line in ${defaultWitPath}`);
  return { name: m[1], version: m[2] };
}

/** esbuild plugin: keeps WIT imports external, adding the package version where missing. */
function witImports({ name, version }) {
  return {
    name: 'capsule-wit-imports',
    setup(b) {
      b.onResolve({ filter: /^(capsule|wasi):/ }, ({ path: spec }) => {
        const versioned = version && spec.startsWith(`${name}/`) && !spec.includes('@') ? `${spec}@${version}` : spec;
        return { path: versioned, external: true };
      });
    },
  };
}

/** Rewrites regex literals that use \p{..} / \P{..} into ICU-free equivalents. */
export function lowerUnicodePropertyEscapes(code, file = 'bundle') {
  const edits = [];
  try {
    for (const token of acorn.tokenizer(code, { ecmaVersion: 'latest', sourceType: 'module' })) {
      if (token.type !== acorn.tokTypes.regexp) continue;
      const { pattern, flags } = token.value;
      if (!/\\[pP]\{/.test(pattern)) continue;
      const lowered = rewritePattern(pattern, flags, { unicodePropertyEscapes: 'transform' });
      edits.push([token.start, token.end, `/${lowered}/${flags}`]);
    }
  } catch (e) {
    throw new Error(`buildJs: cannot tokenize ${file} to rewrite regular expressions: ${e.message}`);
  }
  for (const [start, end, text] of edits.reverse()) code = code.slice(0, start) + text + code.slice(end);
  return code;
}

async function loadComponentize() {
  if (componentizeFn) return componentizeFn;
  const fs = await import('@bytecodealliance/preview2-shim/filesystem');
  if (!fs._getPreopens().some(([, virtualPath]) => virtualPath === '/')) {
    fs._addPreopen('/', '/');
  }
  // Dynamic import, after the preopen exists (the splicer instantiates at import time).
  ({ componentize: componentizeFn } = await import('@bytecodealliance/componentize-js'));
  return componentizeFn;
}

/**
 * Bundles and componentizes a JavaScript capability.
 * @param {string} srcPath entry module (relative paths resolve against the current directory)
 * @param {{ world: string, disableFeatures?: string[], minify?: boolean }} options
 *   world: world name in wit/capsule.wit ('capability' or 'pure-capability')
 *   disableFeatures: componentize-js engine features to disable (default DEFAULT_DISABLED_FEATURES)
 *   minify: minify the bundle (default false: readable stack traces in error messages)
 *   witPath: WIT file or directory holding `world` (default wit/capsule.wit)
 * @returns {Promise<Uint8Array>} the component bytes
 */
export async function buildJs(srcPath, { world, disableFeatures = DEFAULT_DISABLED_FEATURES, minify = false, witPath = defaultWitPath } = {}) {
  if (typeof srcPath !== 'string' || srcPath === '') throw new TypeError('buildJs: srcPath must be a non-empty string');
  if (typeof world !== 'string' || world === '') throw new TypeError('buildJs: options.world must be a world name from wit/capsule.wit');
  const entry = path.resolve(srcPath);
  try {
    if (!(await stat(entry)).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new Error(`buildJs: cannot read entry ${entry}: ${e.message}`);
  }

  // Everything goes into one fresh temp directory, removed at the end. The bundle sits alone in
  // src/: componentize-js maps the bundle's directory as the guest's '/' during pre-initialisation,
  // and the engine names the module by its file name.
  const dir = await mkdtemp(path.join(tmpdir(), 'capsule-js-'));
  const srcDir = path.join(dir, 'src');
  const bundlePath = path.join(srcDir, path.basename(entry).replace(/\.[cm]?[jt]s$/, '') + '.js');
  try {
    let bundle;
    try {
      const out = await build({
        entryPoints: [entry],
        outfile: bundlePath,
        write: false,
        absWorkingDir: root,
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        target: 'es2022',
        mainFields: ['module', 'main'],
        nodePaths: [path.join(root, 'node_modules')],
        plugins: [witImports(await witPackage())],
        minify,
        legalComments: 'none',
        logLevel: 'silent',
      });
      bundle = out.outputFiles[0].text;
    } catch (e) {
      const details = (e.errors ?? []).map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n');
      throw new Error(`buildJs: bundling ${entry} failed${details ? `:\n${details}` : `: ${e.message}`}`);
    }

    bundle = lowerUnicodePropertyEscapes(bundle, entry);
    await mkdir(srcDir);
    await writeFile(bundlePath, bundle);

    const componentize = await loadComponentize();
    // componentize-js shortens the source path against process.cwd() when the cwd contains it
    // (e.g. cwd '/' or '/tmp'), which changes the recorded file name and exposes the whole cwd to
    // the pre-initialiser. Run from the bundle's directory in that (rare) case.
    const cwd = process.cwd();
    const restoreCwd = (srcDir + path.sep).startsWith(cwd.endsWith(path.sep) ? cwd : cwd + path.sep) ? cwd : undefined;
    let result;
    try {
      if (restoreCwd) process.chdir(srcDir);
      // componentize-js creates its work directory under os.tmpdir() synchronously at the start of
      // the call and leaks it when splicing fails (e.g. unknown world): point TMPDIR at our
      // directory for that synchronous part so the finally below removes it in every case.
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = dir;
      let pending;
      try {
        pending = componentize({ sourcePath: bundlePath, witPath, worldName: world, disableFeatures: [...disableFeatures] });
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
      }
      result = await pending;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`buildJs: componentize of ${entry} (world "${world}") failed: ${msg}`);
    } finally {
      if (restoreCwd) process.chdir(restoreCwd);
    }
    if (!(result?.component instanceof Uint8Array) || result.component.length === 0) {
      throw new Error(`buildJs: componentize of ${entry} returned no component`);
    }
    return result.component;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
