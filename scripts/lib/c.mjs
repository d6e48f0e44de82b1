// Builds a C source file into a WebAssembly component. Used by
// scripts/build-fixtures.mjs and scripts/build-capabilities.mjs.
//
// Why each step exists:
// - Preflight: a missing toolchain otherwise surfaces as an obscure clang or
//   wasm-ld error, so check for clang, wasm-ld and (for commands) wasi-libc and
//   the wasm32 compiler-rt builtins first, and say what to install.
// - Compile (-c -O2) and link as two clang calls: when the clang driver both
//   optimises and links it runs the first `wasm-opt` on PATH over the output,
//   and `npm run` puts node_modules/.bin (binaryen's wasm-opt) on PATH. Linking
//   without -O keeps the bytes independent of PATH, so rebuilds are identical.
// - -Wl,--strip-debug: Debian's wasi-libc ships DWARF that names build paths
//   and is most of the output size; the name section is kept for readable
//   traps. What remains (code, data, names, clang's producers section) depends
//   only on the source and the toolchain versions.
// - kind "command": wasi-libc program, then componentNew with jco's
//   wasi_snapshot_preview1 *command* adapter, which turns the preview1 imports
//   into WASI 0.2 imports and `_start` into an export of wasi:cli/run.
//   preview1's proc_exit(n) reaches the host only as ok/err (status 0 or 1), so
//   a program that needs an exact status may import wasi:cli/exit's
//   exit-with-code directly (see fixtures/src/exit-code.c). Only then is a small
//   WIT world declaring it embedded, so componentNew knows its type; its WASI
//   version is read from the adapter and passed to C as CAPSULE_WASI_CLI_VERSION
//   so both sides name the same interface.
// - kind "pure-capability": freestanding, no libc, so the core module imports
//   nothing (checked below: a stray import would become an unexpected
//   capability). componentEmbed adds the `pure-capability` world from
//   wit/capsule.wit as a custom section, which tells componentNew how to lift
//   the core exports `run` / `cabi_realloc` / `cabi_post_run` into
//   `export run: func(input: string) -> result<string, string>`.
// - Intermediate files go to a fresh directory in os.tmpdir() that is removed
//   afterwards; its name never reaches the output (no debug info is emitted).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';

const execFileP = promisify(execFile);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIT_FILE = path.join(root, 'wit', 'capsule.wit');
const COMMAND_ADAPTER = path.join(
  root, 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.command.wasm',
);
const INSTALL_HINT = 'install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian/Ubuntu: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)';

const CLANG = process.env.CLANG ?? 'clang';

const FLAGS = {
  command: {
    target: ['--target=wasm32-wasi', '--sysroot=/usr'],
    compile: ['-O2', '-std=c11', '-Wall', '-Wextra'],
    link: ['-Wl,--strip-debug'],
  },
  'pure-capability': {
    target: ['--target=wasm32-unknown-unknown'],
    // -ffreestanding also implies -fno-builtin: no libc calls are synthesised.
    compile: ['-O2', '-std=c11', '-Wall', '-Wextra', '-ffreestanding'],
    // --no-entry: a library, not a program. Exports come from export_name
    // attributes in the source; wasm-ld exports "memory" itself. --stack-first
    // makes a stack overflow trap instead of overwriting static data.
    link: ['-nostdlib', '-Wl,--no-entry', '-Wl,--stack-first', '-Wl,--strip-debug'],
  },
};

async function run(cmd, args) {
  try {
    const out = await execFileP(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    if (out.stderr.trim()) process.stderr.write(out.stderr); // compiler warnings
    return out;
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`${cmd} not found: ${INSTALL_HINT}`);
    const detail = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim() || err.message;
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${detail}`);
  }
}

/** The adapter's WASI 0.2.x version, e.g. "0.2.12", from its wasi:cli/exit import. */
async function adapterCliVersion(adapter) {
  for (const { module } of WebAssembly.Module.imports(await WebAssembly.compile(adapter))) {
    const m = /^wasi:cli\/exit@(.+)$/.exec(module);
    if (m) return m[1];
  }
  throw new Error(`${COMMAND_ADAPTER} does not import wasi:cli/exit; unsupported adapter`);
}

// Declares exit-with-code (unstable in WASI 0.2, feature cli-exit-with-code) for
// command programs that import it. `exit` is repeated so that the interface
// matches the adapter's and the two merge.
const commandExtrasWit = (version) => `package capsule:c-command;

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

const checked = new Map();

/** Fails with an install hint unless the toolchain for `kind` is present. */
function checkToolchain(kind) {
  if (!checked.has(kind)) {
    checked.set(kind, (async () => {
      const { target } = FLAGS[kind];
      await run(CLANG, ['--version']);
      // -print-prog-name / -print-file-name echo the bare name when not found.
      const ld = (await run(CLANG, [...target, '-print-prog-name=wasm-ld'])).stdout.trim();
      if (!path.isAbsolute(ld)) throw new Error(`wasm-ld not found: ${INSTALL_HINT}`);
      if (kind === 'command') {
        const libc = (await run(CLANG, [...target, '-print-file-name=libc.a'])).stdout.trim();
        if (!path.isAbsolute(libc)) throw new Error(`wasi-libc not found: ${INSTALL_HINT}`);
        const rt = (await run(CLANG, [...target, '-print-libgcc-file-name'])).stdout.trim();
        if (!existsSync(rt)) throw new Error(`wasm32 compiler-rt builtins not found (${rt}): ${INSTALL_HINT}`);
        if (!existsSync(COMMAND_ADAPTER)) {
          throw new Error(`WASI command adapter not found at ${COMMAND_ADAPTER}: run npm install (devDependency @bytecodealliance/jco)`);
        }
      }
    })());
  }
  return checked.get(kind).catch((err) => {
    checked.delete(kind); // let a later call retry after the user installs things
    throw err;
  });
}

/**
 * Compiles and links `srcPath` to a core wasm module (no component wrapping).
 * Exposed for quick behavioural checks of commands under node:wasi.
 * @param {string} srcPath
 * @param {{ kind: 'command' | 'pure-capability' }} options
 * @returns {Promise<Uint8Array>}
 */
export async function buildCoreC(srcPath, { kind } = {}) {
  if (!Object.hasOwn(FLAGS, kind)) {
    throw new Error(`buildC: kind must be "command" or "pure-capability", got ${JSON.stringify(kind)}`);
  }
  await checkToolchain(kind);
  const { target, link } = FLAGS[kind];
  const compile = [...FLAGS[kind].compile];
  if (kind === 'command') {
    const version = await adapterCliVersion(await readFile(COMMAND_ADAPTER));
    compile.push(`-DCAPSULE_WASI_CLI_VERSION="${version}"`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'capsule-c-'));
  try {
    const obj = path.join(dir, 'main.o');
    const wasm = path.join(dir, 'main.wasm');
    await run(CLANG, [...target, ...compile, '-c', path.resolve(srcPath), '-o', obj]);
    await run(CLANG, [...target, ...link, obj, '-o', wasm]);
    return new Uint8Array(await readFile(wasm));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Builds `srcPath` into component bytes.
 * kind "command": a wasi:cli/command component (exports wasi:cli/run).
 * kind "pure-capability": a component of world capsule:host/pure-capability
 * (exports run: func(input: string) -> result<string, string>; no imports).
 * @param {string} srcPath
 * @param {{ kind: 'command' | 'pure-capability' }} options
 * @returns {Promise<Uint8Array>}
 */
export async function buildC(srcPath, { kind } = {}) {
  const core = await buildCoreC(srcPath, { kind });
  if (kind === 'command') {
    const adapter = new Uint8Array(await readFile(COMMAND_ADAPTER));
    const version = await adapterCliVersion(adapter);
    const imports = WebAssembly.Module.imports(await WebAssembly.compile(core));
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
  const imports = WebAssembly.Module.imports(await WebAssembly.compile(core));
  if (imports.length > 0) {
    const names = imports.map((i) => `${i.module}.${i.name}`).join(', ');
    throw new Error(`${srcPath}: a pure capability must import nothing, but imports ${names}`);
  }
  const witSource = await readFile(WIT_FILE, 'utf8');
  const embedded = await componentEmbed({ binary: core, witSource, world: 'pure-capability' });
  return componentNew(embedded);
}
