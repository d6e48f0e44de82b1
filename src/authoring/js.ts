// JavaScript / TypeScript: esbuild bundles the entry and its npm imports into ONE ES module
// (componentize-js takes a single module and resolves no packages), then componentize-js
// splices it into its SpiderMonkey engine for a world of wit/capsule.wit and pre-initialises it.
//   - `capsule:*` / `wasi:*` imports stay external: they are the component's imports. A
//     `capsule:host/…` import without a version gets the WIT package's (componentize-js
//     names imports with it: 'capsule:host/log@0.1.0').
//   - mainFields module, main: platform neutral, so that npm packages resolve as for a bundle.
//   - Engine features follow the manifest: all off (the component imports nothing but its
//     world's imports, so it needs no WASI grants) except clocks / random / http when the
//     manifest requests clocks / random / net. Off, Date.now() is the build time and
//     Math.random() the same sequence in every instance (both frozen in the snapshot).
// Builds are not byte-reproducible: wizer snapshots a heap made with the build host's clocks.
// Warm-up (the manifest's build.warmup): componentize-js evaluates the module's top level inside
// wizer, before the snapshot, so a wrapper module that calls `run` with the declared inputs there
// leaves the engine's lazily made state (compiled functions, shapes, caches) in the snapshot
// every instance starts from. Host imports cannot be called inside wizer: capsule:host/log goes
// through a shim that drops the lines logged during the warm-up and forwards every later one.
//
// componentize-js's splicer is itself a jco-transpiled component reading the engine and WIT
// through preview2-shim, which (since 0.26) starts with no preopened directory: '/' is added to
// the shim's process-global filesystem before componentize-js is imported. That widens it for
// the whole process, so this runs only in `capsule build`, which runs no guest.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { guestWarnings, hasPropertyEscape, lowerPropertyEscapes } from './js-lint.js';
import { capsuleWitFile } from './package-files.js';
import { JS_TOOLS, loadPeer } from './peer.js';

type Feature = 'stdio' | 'random' | 'clocks' | 'http' | 'fetch-event';
export const ALL_FEATURES: readonly Feature[] = ['http', 'fetch-event', 'stdio', 'clocks', 'random'];

export interface JsBuildOptions {
  /** World name in witPath: 'capability' (imports log) or 'pure-capability'. */
  world: string;
  /** Engine features to keep (default none). */
  keepFeatures?: readonly Feature[];
  /** WIT file or directory holding `world` (default capsule's wit/capsule.wit). */
  witPath?: string;
  minify?: boolean;
  /** Receives one line per guest limitation the bundle appears to reach. */
  warn?: (message: string) => void;
  /** Inputs (JSON text) passed through the entry's `run` before the snapshot, in order. */
  warmup?: readonly string[];
}

type EsbuildModule = typeof import('esbuild');
type ComponentizeModule = typeof import('@bytecodealliance/componentize-js');
type Componentize = ComponentizeModule['componentize'];

let componentizeFn: Componentize | undefined;

async function loadComponentize(): Promise<Componentize> {
  if (componentizeFn) return componentizeFn;
  interface ShimFs {
    _getPreopens(): [unknown, string][];
    _addPreopen(virtualPath: string, hostPath: string): void;
  }
  const fs = await loadPeer<ShimFs>('@bytecodealliance/preview2-shim/filesystem', JS_TOOLS, 'building JavaScript');
  if (!fs._getPreopens().some(([, virtualPath]) => virtualPath === '/')) fs._addPreopen('/', '/');
  // Dynamic import, after the preopen exists (the splicer instantiates at import time).
  componentizeFn = (await loadPeer<ComponentizeModule>('@bytecodealliance/componentize-js', JS_TOOLS, 'building JavaScript')).componentize;
  return componentizeFn;
}

/** The `package ns:name@version;` of a WIT file. */
async function witPackage(witFile: string): Promise<{ name: string; version: string | undefined }> {
  const text = await readFile(witFile, 'utf8');
  const m = /^\s*package\s+([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?\s*;/m.exec(text);
  if (!m?.[1]) throw new CapsuleError('BUILD_FAILED', `no "package ns:name@version;" line in ${witFile}`);
  return { name: m[1], version: m[2] };
}

/** Names of the warm-up's virtual modules (esbuild namespaces and the state module's specifier). */
const WARM_STATE = 'capsule-build:warmup';
const LOG_SHIM = 'capsule-warmup-log';

/**
 * The module esbuild bundles when there is a warm-up: the entry's exports, then its `run`
 * called with each input at the top level (which componentize-js runs before the snapshot).
 * A failing input fails the build, naming the input by its index.
 */
function warmEntry(entry: string, inputs: readonly string[]): string {
  const spec = JSON.stringify(entry);
  return [
    `import * as plugin from ${spec};`,
    `import { warmup } from '${WARM_STATE}';`,
    `export * from ${spec};`,
    `warmup(plugin.run, ${JSON.stringify(inputs)});`,
  ].join('\n');
}

const WARM_STATE_MODULE = `export const state = { warming: false };
export function warmup(run, inputs) {
  if (typeof run !== 'function') throw new Error('capsule warm-up: the module exports no run function');
  state.warming = true;
  try {
    inputs.forEach((input, i) => {
      let out;
      try {
        out = run(input);
      } catch (e) {
        const why = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
        throw new Error(\`capsule warm-up: build.warmup[\${i}] failed: \${why}\`);
      }
      if (typeof out !== 'string') throw new Error(\`capsule warm-up: build.warmup[\${i}]: run returned \${typeof out}, not a string\`);
    });
  } finally {
    state.warming = false;
  }
}
`;

/** capsule:host/log during a warm-up: lines logged while warming are dropped (wizer links no host). */
const logShim = (real: string) => `import { log as hostLog } from ${JSON.stringify(real)};
import { state } from '${WARM_STATE}';
export function log(level, message) {
  if (!state.warming) hostLog(level, message);
}
`;

async function bundle(entry: string, minify: boolean, warmup?: readonly string[]): Promise<string> {
  const esbuild = await loadPeer<EsbuildModule>('esbuild', JS_TOOLS, 'building JavaScript');
  const { name, version } = await witPackage(capsuleWitFile());
  const warm = warmup !== undefined && warmup.length > 0;
  const logInterface = `${name}/log${version ? `@${version}` : ''}`;
  try {
    const out = await esbuild.build({
      ...(warm
        ? { stdin: { contents: warmEntry(entry, warmup), resolveDir: path.dirname(entry), sourcefile: 'capsule-warmup.js', loader: 'js' as const } }
        : { entryPoints: [entry] }),
      absWorkingDir: path.dirname(entry),
      write: false,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      minify,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [
        {
          name: 'capsule-wit-imports',
          setup(b) {
            b.onResolve({ filter: /^(capsule|wasi):/ }, ({ path: spec, namespace }) => {
              const versioned = version && spec.startsWith(`${name}/`) && !spec.includes('@') ? `${spec}@${version}` : spec;
              // While warming, the plugin's log import is the shim; the shim's own import is the real one.
              if (warm && versioned === logInterface && namespace !== LOG_SHIM) return { path: versioned, namespace: LOG_SHIM };
              return { path: versioned, external: true };
            });
            if (!warm) return;
            b.onResolve({ filter: new RegExp(`^${WARM_STATE}$`) }, () => ({ path: WARM_STATE, namespace: WARM_STATE }));
            b.onLoad({ filter: /.*/, namespace: WARM_STATE }, () => ({ contents: WARM_STATE_MODULE, loader: 'js' }));
            b.onLoad({ filter: /.*/, namespace: LOG_SHIM }, ({ path: real }) => ({ contents: logShim(real), loader: 'js' }));
          },
        },
      ],
    });
    return out.outputFiles[0]?.text ?? '';
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const details = errors.map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n');
    throw new CapsuleError('BUILD_FAILED', `bundling ${entry} failed${details ? `:\n${details}` : `: ${messageOf(e)}`}`);
  }
}

async function lower(code: string, entry: string): Promise<string> {
  if (!hasPropertyEscape(code)) return code;
  const why = `${entry} uses \\p{…} regexes, whose rewrite`;
  const acorn = await loadPeer<Parameters<typeof lowerPropertyEscapes>[1]>('acorn', 'acorn@8.17.0 regexpu-core@6.4.0', why);
  const rp = await loadPeer<{ default: Parameters<typeof lowerPropertyEscapes>[2] }>('regexpu-core', 'acorn@8.17.0 regexpu-core@6.4.0', why);
  try {
    return lowerPropertyEscapes(code, acorn, rp.default);
  } catch (e) {
    throw new CapsuleError('BUILD_FAILED', `${entry}: cannot rewrite its \\p{…} regular expressions: ${messageOf(e)}`);
  }
}

/** Bundles and componentizes a JavaScript or TypeScript entry; returns the component bytes. */
export async function buildJs(srcPath: string, opts: JsBuildOptions): Promise<Uint8Array> {
  const entry = path.resolve(srcPath);
  const code = await lower(await bundle(entry, opts.minify ?? false, opts.warmup), entry);
  for (const w of guestWarnings(code, await readFile(entry, 'utf8'))) opts.warn?.(`${path.basename(entry)}: ${w}`);
  // One fresh temp directory, removed at the end. The bundle sits alone in src/: componentize-js
  // maps its directory as the guest's '/' while pre-initialising and names the module by file.
  const dir = await mkdtemp(path.join(tmpdir(), 'capsule-js-'));
  const srcDir = path.join(dir, 'src');
  const bundlePath = path.join(srcDir, `${path.basename(entry).replace(/\.[cm]?[jt]s$/, '')}.js`);
  try {
    await mkdir(srcDir);
    await writeFile(bundlePath, code);
    const componentize = await loadComponentize();
    const keep = new Set(opts.keepFeatures ?? []);
    const disableFeatures = ALL_FEATURES.filter((f) => !keep.has(f));
    // componentize-js shortens the source path against process.cwd() when the cwd contains it,
    // which changes the recorded file name: run from the bundle's directory in that case.
    const cwd = process.cwd();
    const restoreCwd = `${srcDir}${path.sep}`.startsWith(cwd.endsWith(path.sep) ? cwd : cwd + path.sep) ? cwd : undefined;
    let result: Awaited<ReturnType<Componentize>>;
    try {
      if (restoreCwd) process.chdir(srcDir);
      // componentize-js makes its work directory under os.tmpdir() synchronously and leaks it
      // when splicing fails: point TMPDIR at ours for that part so the finally removes it.
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = dir;
      let pending: ReturnType<Componentize>;
      try {
        pending = componentize({ sourcePath: bundlePath, witPath: opts.witPath ?? capsuleWitFile(), worldName: opts.world, disableFeatures });
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
      }
      result = await pending;
    } catch (e) {
      throw new CapsuleError('BUILD_FAILED', `componentize of ${entry} (world "${opts.world}") failed: ${messageOf(e)}`);
    } finally {
      if (restoreCwd) process.chdir(restoreCwd);
    }
    if (!(result?.component instanceof Uint8Array) || result.component.length === 0) {
      throw new CapsuleError('BUILD_FAILED', `componentize of ${entry} returned no component`);
    }
    return result.component;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
