// What auditing costs a call: echo on two runtimes of the same tier, one writing
// an audit log and one not, called alternately, one call each (which goes first
// alternates too), so a change in the machine's load hits both sides alike.
// The audited runtime writes to a fresh file in the temp directory; its lines go
// out in batches off the event loop (README: Audit), and flushAudit() waits for
// them: the wait after the last call is reported as the final flush.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime } from '../api.js';
import { CapsuleError, messageOf } from '../errors.js';
import type { Tier } from '../policy/tier.js';
import type { Runtime } from '../runtime.js';
import type { CapsuleContext } from './capsule-target.js';
import { type Budget, summarize } from './stats.js';
import type { AuditCost } from './types.js';
import { WORKLOADS } from './workloads.js';

/** The name `--workloads` selects this pair by. */
export const AUDIT_WORKLOAD = 'echo-audit';
export const AUDIT_WORKLOAD_DESCRIPTION = 'echo with auditing off and on, on two runtimes of one tier, interleaved call by call';

const WARMUP_CALLS = 3;

export async function measureAuditCost(ctx: CapsuleContext, tier: Tier, budget: Budget): Promise<AuditCost> {
  const echo = WORKLOADS.find((w) => w.name === 'echo');
  if (!echo) throw new Error('the echo workload is missing from WORKLOADS');
  const input = echo.input();
  const dir = await mkdtemp(path.join(tmpdir(), 'capsule-bench-audit-'));
  const file = path.join(dir, 'audit.jsonl');
  const open = (auditLog: string | false) =>
    createRuntime({
      capabilitiesDir: ctx.capabilitiesDirs,
      policy: ctx.policy,
      auditLog,
      cacheDir: path.join(dir, 'cache'),
      pool: { minThreads: 1, maxThreads: 1 },
    });
  let off: Runtime | undefined;
  let on: Runtime | undefined;
  try {
    off = await open(false);
    on = await open(file);
    const call = async (rt: Runtime) => {
      const t = performance.now();
      echo.check((await rt.run(echo.capability, input, { tier })).output);
      return performance.now() - t;
    };
    for (let i = 0; i < WARMUP_CALLS; i++) {
      await call(off);
      await call(on);
    }
    await on.flushAudit();
    const before = (await readFile(file, 'utf8')).split('\n').length - 1;
    const offMs: number[] = [];
    const onMs: number[] = [];
    const end = performance.now() + budget.durationMs;
    while (offMs.length < budget.maxSamples && (offMs.length < budget.minSamples || performance.now() < end)) {
      if (offMs.length % 2 === 0) {
        offMs.push(await call(off));
        onMs.push(await call(on));
      } else {
        onMs.push(await call(on));
        offMs.push(await call(off));
      }
    }
    const t = performance.now();
    await on.flushAudit();
    const flushMs = performance.now() - t;
    const after = (await readFile(file, 'utf8')).split('\n').length - 1;
    const offSummary = summarize(offMs);
    const onSummary = summarize(onMs);
    return {
      tier,
      status: 'ok',
      off: offSummary,
      on: onSummary,
      overheadUs: (onSummary.p50 - offSummary.p50) * 1000,
      linesPerCall: (after - before) / onMs.length,
      finalFlushMs: flushMs,
    };
  } catch (e) {
    return { tier, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  } finally {
    await off?.close();
    await on?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
