// C: clang + wasi-libc into a core module, then a component with wasm-tools.
//
// - Preflight: a missing toolchain otherwise surfaces as an obscure clang or wasm-ld
//   error, so clang, wasm-ld and (for commands) wasi-libc and the wasm32 compiler-rt
//   builtins are checked first, with the Debian packages to install.
// - Compile (-c -O2) and link as two clang calls: when the driver both optimises and links
//   it runs the first `wasm-opt` on PATH over the output; linking without -O keeps the bytes
//   independent of PATH, so rebuilds are identical.
// - -Wl,--strip-debug: Debian's wasi-libc ships DWARF naming build paths; the name section
//   is kept for readable traps.
// - world "command": a wasi-libc program, wrapped with jco's wasi_snapshot_preview1 command
//   adapter (preview1 imports become WASI 0.2 imports, `_start` an export of wasi:cli/run).
//   A program that imports wasi:cli/exit's exit-with-code directly gets a small WIT world
//   embedded declaring it, its WASI version read from the adapter (passed to C as
//   CAPSULE_WASI_CLI_VERSION) so both sides name the same interface.
// - world "capability": freestanding, no libc, so the core module imports nothing (checked:
//   a stray import would become an unexpected capability); the pure-capability world of
//   wit/capsule.wit is embedded so componentNew lifts `run` / `cabi_realloc` / `cabi_post_run`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CapsuleError } from '../errors.js';
import { capsuleWitFile, findInNodeModules } from './package-files.js';
import { componentEmbed, componentNew } from './wasm-tools.js';

const execFileP = promisify(execFile);

export const C_INSTALL_HINT =
  'install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian/Ubuntu: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)';
const ADAPTER = path.join('@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.command.wasm');

export type CKind = 'command' | 'pure-capability';

const FLAGS: Record<CKind, { target: string[]; compile: string[]; link: string[] }> = {
  command: {
    target: ['--target=wasm32-wasi', '--sysroot=/usr'],
    compile: ['-O2', '-std=c11', '-Wall', '-Wextra'],
    link: ['-Wl,--strip-debug'],
  },
  'pure-capability': {
    target: ['--target=wasm32-unknown-unknown'],
    // -ffreestanding also implies -fno-builtin: no libc calls are synthesised.
    compile: ['-O2', '-std=c11', '-Wall', '-Wextra', '-ffreestanding'],
    // --no-entry: a library. --stack-first: a stack overflow traps instead of overwriting data.
    link: ['-nostdlib', '-Wl,--no-entry', '-Wl,--stack-first', '-Wl,--strip-debug'],
  },
};

const clang = () => process.env.CLANG ?? 'clang';

async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    const out = await execFileP(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    if (out.stderr.trim()) process.stderr.write(out.stderr); // compiler warnings
    return out;
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string; stdout?: string; message: string };
    if (err.code === 'ENOENT') throw new CapsuleError('BUILD_FAILED', `${cmd} not found: ${C_INSTALL_HINT}`);
    const detail = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim() || err.message;
    throw new CapsuleError('BUILD_FAILED', `${cmd} ${args.join(' ')} failed:\n${detail}`);
  }
}

/** Whether clang is on PATH (tests skip C with this as the reason). */
export async function hasClang(): Promise<boolean> {
  try {
    await execFileP(clang(), ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function adapterBytes(srcPath: string): Promise<Uint8Array> {
  const file = findInNodeModules(ADAPTER, path.dirname(srcPath));
  if (!file) throw new CapsuleError('BUILD_FAILED', `a C command needs jco's WASI command adapter: run npm install --save-dev @bytecodealliance/jco`);
  return new Uint8Array(await readFile(file));
}

async function moduleImports(bytes: Uint8Array): Promise<WebAssembly.ModuleImportDescriptor[]> {
  return WebAssembly.Module.imports(await WebAssembly.compile(new Uint8Array(bytes)));
}

/** The adapter's WASI 0.2.x version, e.g. "0.2.12", from its wasi:cli/exit import. */
async function adapterCliVersion(adapter: Uint8Array): Promise<string> {
  for (const { module } of await moduleImports(adapter)) {
    const m = /^wasi:cli\/exit@(.+)$/.exec(module);
    if (m?.[1]) return m[1];
  }
  throw new CapsuleError('BUILD_FAILED', 'the WASI command adapter does not import wasi:cli/exit; unsupported jco version');
}

// Declares exit-with-code (unstable in WASI 0.2) for command programs that import it. `exit`
// is repeated so that the interface matches the adapter's and the two merge.
const commandExtrasWit = (version: string) => `package capsule:c-command;

world command-extras {
  import wasi:cli/exit@${version};
}

package wasi:cli@${version} {
  interface exit {
    exit: func(status: result);
    @unstable(feature = cli-exit-with-code)
    exit-with-code: func(status-code: u8);
  }
}
`;

async function checkToolchain(kind: CKind): Promise<void> {
  const { target } = FLAGS[kind];
  await run(clang(), ['--version']);
  // -print-prog-name / -print-file-name echo the bare name when not found.
  const ld = (await run(clang(), [...target, '-print-prog-name=wasm-ld'])).stdout.trim();
  if (!path.isAbsolute(ld)) throw new CapsuleError('BUILD_FAILED', `wasm-ld not found: ${C_INSTALL_HINT}`);
  if (kind === 'command') {
    const libc = (await run(clang(), [...target, '-print-file-name=libc.a'])).stdout.trim();
    if (!path.isAbsolute(libc)) throw new CapsuleError('BUILD_FAILED', `wasi-libc not found: ${C_INSTALL_HINT}`);
    const rt = (await run(clang(), [...target, '-print-libgcc-file-name'])).stdout.trim();
    if (!existsSync(rt)) throw new CapsuleError('BUILD_FAILED', `wasm32 compiler-rt builtins not found (${rt}): ${C_INSTALL_HINT}`);
  }
}

/** Compiles and links `srcPath` to a core module (no component wrapping). */
export async function buildCoreC(srcPath: string, kind: CKind, adapter?: Uint8Array): Promise<Uint8Array> {
  await checkToolchain(kind);
  const { target, link } = FLAGS[kind];
  const compile = [...FLAGS[kind].compile];
  if (adapter) compile.push(`-DCAPSULE_WASI_CLI_VERSION="${await adapterCliVersion(adapter)}"`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'capsule-c-'));
  try {
    const obj = path.join(dir, 'main.o');
    const wasm = path.join(dir, 'main.wasm');
    await run(clang(), [...target, ...compile, '-c', path.resolve(srcPath), '-o', obj]);
    await run(clang(), [...target, ...link, obj, '-o', wasm]);
    return new Uint8Array(await readFile(wasm));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * kind "command": a wasi:cli/command component. kind "pure-capability": a component of
 * capsule:host/pure-capability (exports run, imports nothing).
 */
export async function buildC(srcPath: string, kind: CKind): Promise<Uint8Array> {
  if (kind === 'command') {
    const adapter = await adapterBytes(srcPath);
    const core = await buildCoreC(srcPath, kind, adapter);
    const version = await adapterCliVersion(adapter);
    const imports = await moduleImports(core);
    let module = core;
    if (imports.some((i) => i.module === `wasi:cli/exit@${version}`)) {
      module = await componentEmbed({
        binary: core,
        witSource: commandExtrasWit(version),
        world: 'command-extras',
        features: { tag: 'list', val: ['cli-exit-with-code'] },
      });
    }
    return componentNew(module, [['wasi_snapshot_preview1', adapter]]);
  }
  const core = await buildCoreC(srcPath, kind);
  const imports = await moduleImports(core);
  if (imports.length > 0) {
    const names = imports.map((i) => `${i.module}.${i.name}`).join(', ');
    throw new CapsuleError('BUILD_FAILED', `${srcPath}: a pure capability must import nothing, but imports ${names}`);
  }
  const witSource = await readFile(capsuleWitFile(), 'utf8');
  const embedded = await componentEmbed({ binary: core, witSource, world: 'pure-capability' });
  return componentNew(embedded);
}
