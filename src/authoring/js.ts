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

async function bundle(entry: string, minify: boolean): Promise<string> {
  const esbuild = await loadPeer<EsbuildModule>('esbuild', JS_TOOLS, 'building JavaScript');
  const { name, version } = await witPackage(capsuleWitFile());
  try {
    const out = await esbuild.build({
      entryPoints: [entry],
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
            b.onResolve({ filter: /^(capsule|wasi):/ }, ({ path: spec }) => {
              const versioned = version && spec.startsWith(`${name}/`) && !spec.includes('@') ? `${spec}@${version}` : spec;
              return { path: versioned, external: true };
            });
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
  const code = await lower(await bundle(entry, opts.minify ?? false), entry);
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
