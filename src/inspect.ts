// What capsule knows about a capability before running it: manifest, component
// imports and exports, what is requested vs granted, limits and tier. Used by
// `capsule inspect` and `capsule list`; never runs guest code.
import { CapsuleError } from './errors.js';
import { currentHost } from './host-paths.js';
import type { ImportLink } from './grants/interfaces.js';
import { attemptPlan } from './plan/plan.js';
import type { TierDecision } from './policy/tier.js';
import type { Loaded, Runtime } from './runtime.js';
import type { Manifest } from './registry/manifest.js';
import type { CompiledComponent } from './sandbox/compile.js';
import type { Limits } from './sandbox/job.js';

export interface InspectReport {
  id: string;
  source: 'registry' | 'file';
  manifest?: Manifest;
  digest: string;
  /** The trusted key that signed the manifest (registry capabilities that are signed). */
  signedBy?: string;
  world: string | null;
  /** wasi: linked to capsule's deny-by-default WASI; granted/denied: a custom interface. */
  imports: ImportLink[];
  exports: string[];
  granted?: {
    host: string[];
    clocks: boolean;
    random: boolean;
    /** Variable names only: values stay out of reports. */
    env: string[];
    fs: { read: string[]; write: string[]; blocked: string[] };
    net: string[];
    /** The policy's net.blocked patterns (refused whatever `net` says). */
    netBlocked: string[];
  };
  notGranted: string[];
  limits?: Limits;
  tier?: TierDecision;
  /** Why a run would be refused before any guest code ran, if it would. */
  refusal?: { code: string; message: string };
}

export async function inspectTarget(rt: Runtime, target: string, isFile: boolean): Promise<InspectReport> {
  let component: CompiledComponent | undefined;
  let manifest: Manifest;
  let signedBy: string | undefined;
  if (isFile) {
    ({ component, manifest } = await rt.loadFile(target));
  } else {
    ({ component, manifest, signedBy } = await rt.load(target));
  }
  const report: InspectReport = {
    id: manifest.id,
    source: isFile ? 'file' : 'registry',
    manifest: isFile ? undefined : manifest,
    digest: component?.digest ?? '',
    ...(signedBy === undefined ? {} : { signedBy }),
    world: component ? component.shape.world : manifest.world,
    imports: [],
    exports: component?.shape.exports ?? [],
    notGranted: [],
  };
  return planReport(rt, { manifest, component }, report);
}

/** The plan a run would make (src/plan/plan.ts), as far as it gets, and the tier a runner would really give it. */
async function planReport(rt: Runtime, loaded: Loaded, report: InspectReport): Promise<InspectReport> {
  const attempt = attemptPlan(loaded, rt.policy, currentHost());
  const { decision, refusal } = attempt;
  report.imports = attempt.imports;
  if (refusal) report.refusal = { code: refusal.code, message: refusal.message };
  if (!decision) {
    report.notGranted = Array.isArray(refusal?.details?.notGranted) ? (refusal.details.notGranted as string[]) : [];
    return report;
  }
  const { fs, env, ...rest } = decision.grants;
  report.granted = { ...rest, env: Object.keys(env), fs: { read: fs.read, write: fs.write, blocked: [...fs.blocked, ...(fs.blockedPaths ?? [])] } };
  report.notGranted = decision.notGranted;
  report.limits = decision.limits;
  // The tier is shown even when something else would refuse the run.
  report.tier = attempt.tier;
  if (attempt.plan) {
    try {
      report.tier = await rt.resolveTier(loaded, attempt.plan.tier, decision);
    } catch (e) {
      if (!(e instanceof CapsuleError)) throw e;
      report.refusal = { code: e.code, message: e.message };
    }
  }
  return report;
}
