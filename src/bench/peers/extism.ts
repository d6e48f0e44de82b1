// The peer: the Extism JS SDK running an equivalent Extism-ABI plugin
// (fixtures/build/bench-extism-*.wasm), in the calling thread and with
// runInWorker. @extism/extism is optional: without it the rows say so.
import { readFile } from 'node:fs/promises';
import { fixturePath } from '../setup.js';
import type { Target } from '../measure.js';
import type { Workload } from '../workloads.js';

interface ExtismPlugin {
  call(name: string, input?: string | Uint8Array): Promise<{ text(): string } | null>;
  reset(): Promise<boolean>;
  close(): Promise<void>;
}
type CreatePlugin = (manifest: { wasm: Array<{ data: Uint8Array }> }, opts: { useWasi: boolean; runInWorker: boolean }) => Promise<ExtismPlugin>;

// A variable specifier keeps bundlers from pulling the SDK into dist/.
const EXTISM_PACKAGE = '@extism/extism';

// SDK 1.0.3 never reuses a memory block index between calls, and past 32 768
// blocks its addresses overflow i64 ("cannot assign to this block"). An
// application has to reset() now and then; so does the bench, inside the timed
// calls, so the peer pays what an application would.
const RESET_EVERY = 4096;

/** The SDK's createPlugin, or the reason it cannot be loaded. */
export async function loadExtism(): Promise<CreatePlugin | string> {
  try {
    const mod = (await import(EXTISM_PACKAGE)) as { default?: CreatePlugin; createPlugin?: CreatePlugin };
    const create = mod.createPlugin ?? mod.default;
    return create ?? `${EXTISM_PACKAGE} has no createPlugin export`;
  } catch {
    return `${EXTISM_PACKAGE} is not installed (npm install ${EXTISM_PACKAGE})`;
  }
}

export function extismTarget(create: CreatePlugin, w: Workload, plugin: string, runInWorker: boolean): Target {
  const plugins: ExtismPlugin[] = [];
  const text = JSON.stringify(w.input() ?? null);
  let wasm: Uint8Array | undefined;
  const open = async () => {
    if (!wasm) throw new Error(`${plugin}: opened before its wasm was read`);
    return create({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker });
  };
  const calls: number[] = [];
  const call = async (i: number) => {
    const p = plugins[i];
    if (!p) throw new Error(`${plugin}: no plugin prepared for caller ${i}`);
    const n = (calls[i] ?? 0) + 1;
    calls[i] = n;
    if (n % RESET_EVERY === 0) await p.reset();
    const out = await p.call('run', text);
    if (!out) throw new Error(`${plugin} returned no output`);
    return JSON.parse(out.text()) as unknown;
  };
  return {
    async cold() {
      wasm = await readFile(fixturePath(plugin));
      const t = performance.now();
      plugins.push(await open());
      const output = await call(0);
      return { ms: performance.now() - t, output };
    },
    call,
    // One plugin per caller: a plugin runs one call at a time.
    async prepare(n) {
      while (plugins.length < n) plugins.push(await open());
    },
    async close() {
      await Promise.all(plugins.map((p) => p.close()));
    },
  };
}
