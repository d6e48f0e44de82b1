// The long-lived runtime under test. The supervisor (supervisor.mjs) forks this
// process and sends it one case at a time; if the runtime takes the process down,
// the supervisor sees the exit, counts a crash and starts a fresh child.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRuntime, CapsuleError, ERROR_CODES } from '../../dist/index.js';
import { withNonce } from './wasm.mjs';

const { root, cacheDir, workDir, policy, audit } = JSON.parse(process.argv[2]);
const catalog = path.join(root, 'capabilities');
const send = (m) => process.send?.(m);

// Anything thrown outside a call's promise would kill an embedding app: report it as a crash.
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    send({ type: 'fatal', event: ev, message: String(e?.stack ?? e).slice(0, 2000) });
    setTimeout(() => process.exit(70), 50);
  });
}

// The supervisor is gone (killed, or the campaign ended): do not linger with a worker pool.
process.on('disconnect', () => process.exit(0));

const rtOpts = (extra) => ({ cacheDir, auditLog: audit ? path.join(workDir, 'audit.jsonl') : false, pool: { minThreads: 1, maxThreads: 2 }, ...extra });
const rt = await createRuntime(rtOpts({ capabilitiesDir: catalog, policy }));

export function classify(e) {
  if (e instanceof CapsuleError && ERROR_CODES.includes(e.code)) {
    return { class: e.code === 'INTERNAL' ? 'internal' : 'capsule', code: e.code, message: String(e.message).slice(0, 600) };
  }
  const name = e?.constructor?.name ?? typeof e;
  return { class: 'non-capsule', code: name, message: String(e?.stack ?? e).slice(0, 1200) };
}

function special(kind) {
  switch (kind) {
    case 'function': return () => 1;
    case 'symbol': return Symbol('x');
    case 'bigint': return { n: 10n };
    case 'cyclic': { const o = { a: 1 }; o.self = o; return o; }
    case 'proxy-throw': return new Proxy({}, { ownKeys() { throw new Error('proxy trap'); }, get() { throw new Error('proxy get'); } });
    case 'getter-throw': return { get x() { throw new Error('getter'); } };
    case 'undefined': return undefined;
    case 'date': return new Date(NaN);
    case 'map': return new Map([[1, 2]]);
    case 'typed-array': return new Uint8Array(1024);
    case 'sparse': { const a = []; a[1e6] = 1; return a; }
    case 'deep-value': { let v = 0; for (let i = 0; i < 200000; i++) v = [v]; return v; }
    case 'to-json-throws': return { toJSON() { throw new Error('toJSON'); } };
    default: return {};
  }
}

function inputOf(c) {
  if (c.special) return special(c.special);
  try {
    return JSON.parse(c.inputText);
  } catch {
    return c.inputText; // not JSON text: an API caller can still pass the string
  }
}

async function runCase(c) {
  const dir = path.join(workDir, String(c.index));
  const input = inputOf(c);
  if (c.caps === 'catalog' && c.policy === 'fixed') {
    return c.target.file ? rt.runFile(path.join(dir, c.target.file), input, c.opts) : rt.run(c.target.id, input, c.opts);
  }
  // Manifests and policies are read when a runtime is created: these cases get
  // their own runtime, in this same process (the transpiler and caches are shared).
  const own = await createRuntime(rtOpts({
    capabilitiesDir: c.caps === 'case' ? path.join(dir, 'caps') : catalog,
    policy: c.policy === 'case' ? path.join(dir, 'policy.json') : policy,
    pool: { maxThreads: 1 },
  }));
  try {
    return await (c.target.file ? own.runFile(path.join(dir, c.target.file), input, c.opts) : own.run(c.target.id, input, c.opts));
  } finally {
    await own.close();
  }
}

/** Valid components must still load and run here, including one never compiled before. */
async function canary(nonce) {
  const problems = [];
  const expect = async (what, p, check) => {
    try {
      const { output } = await p;
      if (!check(output)) problems.push(`${what}: wrong output ${JSON.stringify(output).slice(0, 200)}`);
    } catch (e) {
      const c = classify(e);
      problems.push(`${what}: ${c.code}: ${c.message.slice(0, 300)}`);
    }
  };
  await expect('demo.echo', rt.run('demo.echo', { nonce }), (o) => o?.nonce === nonce);
  await expect('demo.text.wordcount', rt.run('demo.text.wordcount', { text: 'a b c' }), (o) => o?.words === 3);
  for (const name of ['counter', 'fail']) {
    const file = path.join(workDir, `canary-${name}-${nonce}.wasm`);
    // a new digest, so the transpiler itself is exercised, not the cache
    writeFileSync(file, withNonce(new Uint8Array(readFileSync(path.join(root, 'fixtures', 'build', `${name}.wasm`))), nonce));
    if (name === 'counter') await expect(`fresh ${name}.wasm`, rt.runFile(file, {}), (o) => o?.count === 1);
    else {
      try {
        await rt.runFile(file, {});
        problems.push(`fresh fail.wasm: resolved, expected CAPABILITY_ERROR`);
      } catch (e) {
        if (e?.code !== 'CAPABILITY_ERROR') problems.push(`fresh fail.wasm: ${classify(e).code}: ${classify(e).message.slice(0, 300)}`);
      }
    }
  }
  return problems;
}

process.on('message', async (m) => {
  if (m.type === 'case') {
    const t0 = performance.now();
    let outcome;
    try {
      await runCase(m.case);
      outcome = { class: 'ok' };
    } catch (e) {
      outcome = classify(e);
    }
    send({ type: 'result', index: m.case.index, outcome, ms: performance.now() - t0, rss: process.memoryUsage().rss });
  } else if (m.type === 'canary') {
    send({ type: 'canary', problems: await canary(m.nonce), rss: process.memoryUsage().rss });
  } else if (m.type === 'stop') {
    await rt.close();
    process.exit(0);
  }
});

// Warm up: start the pool and load the transpiler before the first timed case.
await rt.run('demo.echo', {});
send({ type: 'ready', rss: process.memoryUsage().rss });
