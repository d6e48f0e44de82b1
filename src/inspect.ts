// What capsule knows about a capability before running it: manifest, component
// imports and exports, what is requested vs granted, limits and tier. Used by
// `capsule inspect` and `capsule list`; never runs guest code.
import { CapsuleError } from './errors.js';
import { decide } from './policy/decide.js';
import { chooseTier, type TierDecision } from './policy/tier.js';
import { isWasi, unversioned } from './sandbox/interface-name.js';
import type { Loaded, Runtime } from './runtime.js';
import type { Manifest } from './registry/manifest.js';
import type { CompiledComponent } from './sandbox/compile.js';
import type { Limits } from './sandbox/job.js';
import { fileManifest } from './run-input.js';

export interface ImportReport {
  name: string;
  /** wasi: linked to capsule's deny-by-default WASI; granted/denied: a custom interface. */
  link: 'wasi' | 'granted' | 'denied';
}

export interface InspectReport {
  id: string;
  source: 'registry' | 'file';
  manifest?: Manifest;
  digest: string;
  world: string | null;
  imports: ImportReport[];
  exports: string[];
  granted?: { host: string[]; clocks: boolean; random: boolean; env: string[] };
  notGranted: string[];
  limits?: Limits;
  tier?: TierDecision;
  /** Why a run would be refused before any guest code ran, if it would. */
  refusal?: { code: string; message: string };
}

export async function inspectTarget(rt: Runtime, target: string, isFile: boolean): Promise<InspectReport> {
  let component: CompiledComponent | undefined;
  let manifest: Manifest;
  if (isFile) {
    component = await rt.compileFile(target);
    manifest = fileManifest(target, component);
  } else {
    ({ component, manifest } = await rt.load(target));
  }
  const report: InspectReport = {
    id: manifest.id,
    source: isFile ? 'file' : 'registry',
    manifest: isFile ? undefined : manifest,
    digest: component?.digest ?? '',
    world: component ? component.shape.world : manifest.world,
    imports: [],
    exports: component?.shape.exports ?? [],
    notGranted: [],
  };
  return planReport(rt, { manifest, component }, report);
}

async function planReport(rt: Runtime, loaded: Loaded, report: InspectReport): Promise<InspectReport> {
  const { manifest, component } = loaded;
  const decision = decide(manifest, rt.policy);
  report.granted = { ...decision.grants, env: Object.keys(decision.grants.env) };
  report.notGranted = decision.notGranted;
  report.limits = decision.limits;
  const granted = new Set(decision.grants.host.map(unversioned));
  report.imports = (component?.shape.imports ?? []).map((name) => ({
    name,
    link: isWasi(name) ? 'wasi' : granted.has(unversioned(name)) ? 'granted' : 'denied',
  }));
  try {
    // The tier is shown even when something else would refuse the run.
    report.tier = chooseTier(manifest, rt.policy.doc, decision.policyGrants, undefined);
    const planned = rt.plan(loaded).tier;
    report.tier = await rt.resolveTier(loaded, planned);
  } catch (e) {
    if (!(e instanceof CapsuleError)) throw e;
    report.refusal = { code: e.code, message: e.message };
  }
  return report;
}

