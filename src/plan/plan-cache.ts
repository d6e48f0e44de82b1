// Plans kept between calls. A plan (plan.ts) is a pure function of the subject,
// the policy, the call's overrides and what it read of the host: the current
// directory, some environment variables, some answers of the disk, and the clock.
// This keeps each plan with exactly what it read, and hands it back only while all
// of that still holds: the same policy object, the same directory, the same value
// of every variable it read, the same disk answers, and a clock still between when
// it was made and the policy's next grant expiry. Anything else plans again, so a
// kept plan is the plan a fresh planning would make. Refusals are never kept: a
// refused call (CONTEXT_EXPIRED included) is planned, and refused, every time.
import type { PathFacts } from '../grants/fs.js';
import type { DecideContext } from '../policy/decide.js';
import type { NumberedGrant } from '../policy/expiry.js';
import type { PlanCall } from './plan.js';

/** What a plan depends on besides its subject and call: the policy's grants (with their expiry) are all it reads of one. */
export interface PlanPolicy {
  grants: NumberedGrant[];
}

/** What one planning read of the host, to check again before its plan is reused. */
interface HostReads {
  cwd: string;
  env: Map<string, string | undefined>;
  disk: { ask: 'realpath' | 'isFile'; path: string; answer: string | boolean | undefined }[];
  /** The plan holds for now in [from, until): until the earliest grant expiry after it was made. */
  from: number;
  until: number;
}

interface Entry<V> {
  policy: object;
  reads: HostReads;
  value: V;
}

/** Distinct call overrides kept per subject; beyond that the oldest is dropped (a caller varying timeoutMs cannot grow it). */
export const PLANS_PER_SUBJECT = 32;

export class PlanCache<S extends object, V> {
  private readonly bySubject = new WeakMap<S, Map<string, Entry<V>>>();
  /** Plans made (not reused): for tests and the bench. */
  made = 0;

  constructor(private readonly perSubject = PLANS_PER_SUBJECT) {}

  /**
   * The kept value for `subject` × `key` under `policy` if what it read of `host` still
   * holds, else `plan(ctx)` run against a ctx that records what it reads (kept if it returns).
   */
  get(subject: S, key: string, policy: PlanPolicy, host: DecideContext, plan: (ctx: DecideContext) => V): V {
    let plans = this.bySubject.get(subject);
    const kept = plans?.get(key);
    if (kept && kept.policy === policy && stillHolds(kept.reads, host)) return kept.value;
    const { ctx, reads } = recording(host, nextExpiry(policy, host.now));
    this.made++;
    const value = deepFreeze(plan(ctx));
    if (!plans) {
      plans = new Map();
      this.bySubject.set(subject, plans);
    }
    plans.delete(key);
    if (plans.size >= this.perSubject) plans.delete(plans.keys().next().value as string);
    plans.set(key, { policy, reads, value });
    return value;
  }
}

/** The earliest time after `now` at which a policy grant expires (Infinity: none does). */
function nextExpiry(policy: PlanPolicy, now: number): number {
  let until = Number.POSITIVE_INFINITY;
  for (const g of policy.grants) if (g.expiresAt !== undefined && g.expiresAt > now && g.expiresAt < until) until = g.expiresAt;
  return until;
}

/** A context that answers as `host` does and notes every answer it gave. */
function recording(host: DecideContext, until: number): { ctx: DecideContext; reads: HostReads } {
  const reads: HostReads = { cwd: host.cwd, env: new Map(), disk: [], from: host.now, until };
  const env = new Proxy(host.env, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (typeof name === 'string') reads.env.set(name, value);
      return value;
    },
  });
  const disk: PathFacts = {
    realpath(p) {
      const answer = host.disk.realpath(p);
      reads.disk.push({ ask: 'realpath', path: p, answer });
      return answer;
    },
    isFile(p) {
      const answer = host.disk.isFile(p);
      reads.disk.push({ ask: 'isFile', path: p, answer });
      return answer;
    },
  };
  return { ctx: { cwd: host.cwd, env, disk, now: host.now }, reads };
}

function stillHolds(r: HostReads, host: DecideContext): boolean {
  if (host.now < r.from || host.now >= r.until || host.cwd !== r.cwd) return false;
  for (const [name, value] of r.env) if (host.env[name] !== value) return false;
  return r.disk.every((d) => (d.ask === 'realpath' ? host.disk.realpath(d.path) : host.disk.isFile(d.path)) === d.answer);
}

/** A kept plan is shared by every call that reuses it: nothing may change it. */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** Every field of a call that planning reads: the compiler refuses a PlanCall field missing here. */
const PLAN_INPUTS: Record<keyof PlanCall, true> = {
  timeoutMs: true,
  cpuMs: true,
  fuel: true,
  memoryLimitBytes: true,
  outputBytes: true,
  inputBytes: true,
  writeBytes: true,
  files: true,
  openFiles: true,
  connections: true,
  grants: true,
  tier: true,
};
const PLAN_INPUT_NAMES = Object.keys(PLAN_INPUTS) as (keyof PlanCall)[];

/** The cache key of a call's overrides (plain data, as run options are read: run-input.ts). */
export function planKey(call: PlanCall): string {
  return JSON.stringify(PLAN_INPUT_NAMES.map((k) => call[k] ?? null));
}
