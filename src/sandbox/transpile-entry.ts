// The transpiler's own process (bundled as dist/transpile-host.js, started by
// transpile-host.ts): runs jco's componentWit and transpileBytes on one
// component per request and replies over the IPC channel. jco is Rust compiled to
// wasm: on some malformed components it panics and is then unusable for the life
// of its instance, its output can be huge, and its heap use is unbounded. Here all
// of that costs a disposable process, never the runtime's.
import type { TranspileLimits, TranspileReply, TranspileRequest } from './transpile-host.js';

interface Jco {
  componentWit(bytes: Uint8Array): Promise<string>;
  transpileBytes(bytes: Uint8Array, opts: Record<string, unknown>): Promise<{ files: Record<string, Uint8Array>; imports: string[] }>;
}

async function loadJco(): Promise<Jco> {
  const [{ transpileBytes }, { componentWit }] = await Promise.all([
    import('@bytecodealliance/jco-transpile'),
    import('@bytecodealliance/jco-transpile/wasm-tools'),
  ]);
  return { componentWit, transpileBytes } as Jco;
}

const MIB = 1024 * 1024;
const size = (n: number) => (n >= MIB ? `${(n / MIB).toFixed(1)} MiB` : `${n} bytes`);

function refused(message: string): TranspileReply {
  return { ok: false, message, limit: true };
}

async function handle(jco: Jco, bytes: Uint8Array, limits: TranspileLimits): Promise<TranspileReply> {
  try {
    // The WIT first: it is cheap, and a deeply nested type shows in its size
    // before transpileBytes spends seconds writing lifting code for it.
    const wit = await jco.componentWit(bytes);
    if (wit.length > limits.maxWitBytes) {
      return refused(`its WIT is ${size(wit.length)}, more than the ${size(limits.maxWitBytes)} allowed (deeply nested types?)`);
    }
    const out = await jco.transpileBytes(bytes, { name: 'component', instantiation: { tag: 'async' }, noTypescript: true, quiet: true });
    const glue = out.files['component.js'];
    if (glue === undefined) return { ok: false, message: 'the transpiler wrote no component.js' };
    if (glue.length > limits.maxGlueBytes) {
      return refused(`its JavaScript glue is ${size(glue.length)}, more than the ${size(limits.maxGlueBytes)} allowed (deeply nested types?)`);
    }
    // Only what compile.ts keeps: the glue and the core modules.
    const files: Record<string, Uint8Array> = { 'component.js': glue };
    for (const [name, data] of Object.entries(out.files)) if (name.endsWith('.wasm')) files[name] = data;
    return { ok: true, wit, files, imports: out.imports };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('transpile-host.js runs as a child process with an IPC channel');
  // The parent going away ends this process: it serves nobody else.
  process.on('disconnect', () => process.exit(0));
  const jco = await loadJco();
  process.on('message', (req: TranspileRequest) => {
    void handle(jco, req.bytes, req.limits).then((reply) => send(reply));
  });
  send({ ready: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`transpile-host: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
