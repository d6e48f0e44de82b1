// What the runtime writes to the audit log at each decision point, as one
// object so runtime.ts needs only a call per point. The audit layer below
// only chains and writes; this file knows what a load, a plan and a run are.
import { createHash, randomUUID } from 'node:crypto';
import { type Audit, type AuditEvent, openAudit, severityOf } from './audit/index.js';
import { CapsuleError, messageOf } from './errors.js';
import type { AuditDepth } from './grants/levels.js';
import type { Plan } from './plan/plan.js';
import type { Policy } from './policy/policy.js';
import type { Tier, TierDecision } from './policy/tier.js';
import type { Manifest } from './registry/manifest.js';
import type { CompiledComponent } from './sandbox/compile.js';
import type { Denial, Job } from './sandbox/job.js';

/** Codes that mean a limit stopped the call; each also gets a `limit` line. */
const LIMIT_CODES = new Set(['TIMEOUT', 'MEMORY_LIMIT', 'CPU_LIMIT', 'OUTPUT_TOO_LARGE']);
/** Long messages are cut so one line stays readable and small. */
const MAX_MESSAGE = 1000;

/** A container capability's job names its image (`name@sha256:…` when pinned). */
export type RunSubject = Pick<Job, 'capabilityId' | 'limits'> & { digest?: string; image?: string };

export interface RunRecord {
  run: string;
  /** What ran: the capability, its component digest (none for a container image) and limits. */
  call: RunSubject;
  tier: Tier;
  started: number;
  memoryBytes?: number;
  /** Accesses the guest tried and a granted interface refused. */
  denials?: Denial[];
  /** App host functions the guest called (`iface#fn` → count; never their arguments). */
  hostCalls?: Record<string, number>;
  /** What the call threw, if it did. */
  error?: unknown;
  /** Sizes and digests of what went in and out, as deep as the level's audit asks (grants/levels.ts). */
  io?: CallEvidence;
}

export type CallEvidence = { inputBytes: number; outputBytes: number; inputSha256?: string; outputSha256?: string };

/**
 * What a call's run.end line records of its input and output at `depth`: nothing, sizes, or
 * sizes and SHA-256. A string is taken as the JSON text itself (what crossed to the guest).
 */
export function callEvidence(depth: AuditDepth, input: unknown, output: unknown): CallEvidence | undefined {
  if (depth === 'minimal') return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const [i, o] = [text(input), text(output)];
  const sizes = { inputBytes: Buffer.byteLength(i, 'utf8'), outputBytes: Buffer.byteLength(o, 'utf8') };
  if (depth === 'standard') return sizes;
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  return { ...sizes, inputSha256: sha(i), outputSha256: sha(o) };
}

export class AuditTrail {
  /** Auditing is on: with it off, no record, run id or message is built for nobody to read. */
  readonly on: boolean;

  constructor(
    private readonly log: Audit,
    /** Who the records are on behalf of (the runtime's or the call's `principal`); none: the field is left out. */
    readonly principal?: string,
  ) {
    this.on = log.path !== undefined;
  }

  /** The same trail, recording on behalf of `principal` (the runtime's when the call names none). */
  as(principal: string | undefined): AuditTrail {
    return principal === undefined || principal === this.principal ? this : new AuditTrail(this.log, principal);
  }

  /**
   * `auditLog` as RuntimeOptions takes it: a path, false, or undefined ($CAPSULE_AUDIT_LOG when set).
   * `onError` hears about a batch of lines that could not be written, when it happens.
   */
  static async open(option: string | false | undefined, onError?: (e: CapsuleError) => void): Promise<AuditTrail> {
    return new AuditTrail(await openAudit(option, onError));
  }

  /** Waits until every line recorded so far is on disk; rejects (AUDIT_INVALID) if one could not be written. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  /** Flushes and lets the file go; rejects (AUDIT_INVALID) if any line could not be written. */
  close(): Promise<void> {
    return this.log.close();
  }

  get path(): string | undefined {
    return this.log.path;
  }

  opened(policy: Policy): void {
    this.record({ event: 'runtime.open', pid: process.pid, policy: policy.source, trustedKeys: policy.keys.map((k) => k.id) });
  }

  closed(): void {
    this.record({ event: 'runtime.close', pid: process.pid });
  }

  /** Records a load (registry capability or bare file) and its provenance, or why it failed. */
  async load(id: string, source: string, load: () => Promise<{ manifest: Manifest; component?: CompiledComponent; signedBy?: string }>) {
    try {
      const l = await load();
      const m = l.manifest;
      this.record({
        event: 'load',
        outcome: 'ok',
        capability: id,
        source,
        version: m.version,
        provider: m.provider.name,
        securityLevel: m.securityLevel ?? 'pure',
        digest: l.component?.digest ?? null,
        pinned: m.digest !== undefined && source !== 'file',
        signedBy: l.signedBy ?? null,
      });
      return l;
    } catch (e) {
      this.record({ event: 'load', ...failure(e), capability: id, source });
      throw e;
    }
  }

  /**
   * Records the plan for one call: effective grants and limits, how each import
   * links, an escalation to a stronger tier; or the denial that stops it.
   */
  plan(l: { manifest: Manifest; component?: CompiledComponent }, plan: () => Plan): Plan {
    if (!this.on) return plan();
    const id = l.manifest.id;
    let p: Plan;
    try {
      p = plan();
    } catch (e) {
      this.record({ event: 'denial', stage: 'plan', capability: id, ...failure(e) });
      throw e;
    }
    const g = p.decision.grants;
    this.record({
      event: 'grant',
      capability: id,
      // Names only for env and config: their values never reach the audit log.
      grants: {
        host: g.host,
        clocks: g.clocks,
        random: g.random,
        env: Object.keys(g.env),
        fs: g.fs,
        net: g.net,
        ...(g.netBlocked.length ? { netBlocked: g.netBlocked } : {}),
        ...(g.config ? { config: Object.keys(g.config) } : {}),
      },
      notGranted: p.decision.notGranted,
      limits: p.decision.limits,
      tier: p.tier.tier,
      tierReason: p.tier.reason,
    });
    if (l.component) {
      // The audit log has always called WASI linking `capsule-wasi`; its readers depend on that word.
      const imports = p.imports.map((i) => (i.link === 'wasi' ? { ...i, link: 'capsule-wasi' } : i));
      this.record({ event: 'link', capability: id, imports });
    }
    return p;
  }

  /**
   * Records how a call that needs a stronger tier (process, vm) is served: the
   * runner, a fallback the policy named (a warning), or ESCALATION_UNAVAILABLE.
   */
  async escalation(id: string, planned: TierDecision, resolve: () => Promise<TierDecision>): Promise<TierDecision> {
    if (!this.on || (planned.tier !== 'process' && planned.tier !== 'vm')) return resolve();
    const base = { event: 'escalation' as const, capability: id, tier: planned.tier, reason: planned.reason };
    try {
      const t = await resolve();
      const fallback = t.fallbackFrom ? { fallbackFrom: t.fallbackFrom, ranIn: t.tier, warning: t.warning ?? null } : {};
      this.record({ ...base, outcome: 'ok', runner: t.runner ?? null, ...fallback });
      return t;
    } catch (e) {
      this.record({ ...base, ...failure(e) });
      throw e;
    }
  }

  /**
   * A transpile-cache entry whose files no longer match the hashes recorded
   * when it was written: found when the entry was read (`stage: read`; it is
   * transpiled again) or when a file was loaded to run (`stage: use`; the call
   * fails with DIGEST_MISMATCH and the entry is removed).
   */
  cacheTampered(t: { stage: 'read' | 'use'; digest: string; origin: string; dir: string; files: string[] }): void {
    this.record({ event: 'cache.tampered', stage: t.stage, capability: t.origin, digest: t.digest, entry: t.dir, files: t.files });
  }

  /** Written before the job is dispatched. */
  runStart(call: RunSubject, tier: Tier): RunRecord {
    if (!this.on) return { run: '', call, tier, started: 0 };
    const r: RunRecord = { run: randomUUID(), call, tier, started: performance.now() };
    this.record({
      event: 'run.start',
      run: r.run,
      capability: call.capabilityId,
      digest: call.digest ?? null,
      tier,
      limits: call.limits,
      ...imageOf(call),
    });
    return r;
  }

  /** Written in a finally: a limit line first when a limit stopped the call, then the end line. */
  runEnd(r: RunRecord): void {
    if (!this.on) return;
    const durationMs = Math.round((performance.now() - r.started) * 1000) / 1000;
    const base = { run: r.run, capability: r.call.capabilityId, tier: r.tier, ...imageOf(r.call) };
    const end = r.error === undefined ? { outcome: 'ok' } : failure(r.error);
    if (LIMIT_CODES.has(end.outcome)) this.record({ event: 'limit', ...base, code: end.outcome, limits: r.call.limits });
    // At most 64 lines (the call's list is capped), then one summary line for the rest.
    for (const d of r.denials ?? []) {
      const what = d.kind === 'more' ? { count: d.count, byKind: d.byKind } : { target: d.target };
      this.record({ event: 'denial', ...base, kind: d.kind, ...what, reason: d.reason });
    }
    const memory = r.memoryBytes === undefined ? {} : { memoryBytes: r.memoryBytes };
    const host = r.hostCalls === undefined ? {} : { hostCalls: r.hostCalls };
    this.record({ event: 'run.end', ...base, ...end, durationMs, ...memory, ...host, ...(r.io ?? {}) });
  }

  /**
   * Every line says how much it matters (audit/severity.ts) and, when known, on
   * whose behalf: added after the event's own fields, so a line reads as before
   * up to them.
   */
  private record(e: AuditEvent): void {
    const principal = this.principal === undefined ? {} : { principal: this.principal };
    this.log.record({ ...e, severity: severityOf(e), ...principal });
  }
}

/** A container capability's image and, when pinned (`…@sha256:<hex>`), its digest. */
function imageOf(call: RunSubject): { image?: string; imageDigest?: string } {
  if (call.image === undefined) return {};
  const pin = /@(sha256:[0-9a-f]{64})$/.exec(call.image);
  return { image: call.image, ...(pin ? { imageDigest: pin[1] } : {}) };
}

function failure(e: unknown): { outcome: string; message: string; details?: Record<string, unknown> } {
  const err = e instanceof CapsuleError ? e : new CapsuleError('INTERNAL', messageOf(e));
  const message = err.message.length > MAX_MESSAGE ? `${err.message.slice(0, MAX_MESSAGE)}…` : err.message;
  return err.details === undefined ? { outcome: err.code, message } : { outcome: err.code, message, details: err.details };
}
