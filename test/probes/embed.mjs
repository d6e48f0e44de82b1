// An embedding app in its own process: runs one hostile guest, then a plain call,
// and prints what happened as one JSON line. The parent test asserts that this
// process lived (exit status), stayed within its memory (peak RSS), and that the
// plain call afterwards still worked. Arguments: one JSON object, see embed.ts.
import { createRuntime, CapsuleError } from '../../dist/index.js';

const spec = JSON.parse(process.argv[2]);
const rt = await createRuntime({ capabilitiesDir: spec.capabilitiesDir, policy: spec.policy ?? {}, pool: spec.pool, auditLog: spec.auditLog ?? false });
const rssBefore = process.memoryUsage().rss;
const outcome = (p) =>
  p.then(
    (r) => ({ ok: true, output: r.output }),
    (e) =>
      e instanceof CapsuleError ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'NOT_A_CAPSULE_ERROR', message: String(e?.stack ?? e) },
  );
const hostile = await outcome(spec.file ? rt.runFile(spec.file, spec.input ?? null, spec.opts ?? {}) : rt.run(spec.id, spec.input ?? null, spec.opts ?? {}));
const plain = await outcome(rt.run('demo.echo', { still: 'alive' }));
await rt.close();
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ hostile, plain, rssBeforeBytes: rssBefore, peakRssBytes })}\n`);
