// Host interface grants: which of a component's imports link. WASI imports
// always link to capsule's deny-by-default WASI (each call then checks its
// own grant); a custom interface links only when the policy grants it by
// name, without version. IMPORT_DENIED is decided here and nowhere else, and
// the per-import report (inspect, the audit log's `link` event) is built here.
import { CapsuleError } from '../errors.js';

/** `wasi:io/streams@0.2.3` → `wasi:io/streams`: grants and host tables carry no version. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}

export function isWasi(name: string): boolean {
  return name.startsWith('wasi:');
}

/** Whether a grant list covers an interface name: compared without version. */
function coveredBy(granted: readonly string[]): (name: string) => boolean {
  const ok = new Set(granted.map(unversioned));
  return (name) => ok.has(unversioned(name));
}

/** The custom (non-WASI) imports that `granted` does not cover. */
export function ungrantedImports(imports: string[], granted: string[]): string[] {
  const covered = coveredBy(granted);
  return imports.filter((name) => !isWasi(name) && !covered(name));
}

/** request ∩ grants for host interfaces: the names kept, and `host NAME` for each refused. */
export function intersectHost(requested: string[], granted: string[]): { host: string[]; notGranted: string[] } {
  const covered = coveredBy(granted);
  return { host: requested.filter(covered), notGranted: requested.filter((h) => !covered(h)).map((h) => `host ${h}`) };
}

/** The IMPORT_DENIED error for `names`. */
export function importDenied(names: string[], why = 'the policy does not grant it'): CapsuleError {
  const list = names.join(', ');
  return new CapsuleError('IMPORT_DENIED', `component imports ${list}: ${why}`, { imports: names });
}

/**
 * Throws IMPORT_DENIED when a component's imports cannot link under `granted`:
 * a custom import no grant covers, or (when `implemented` is given: the host
 * interfaces capsule has) a granted one capsule has no implementation of.
 */
export function checkImports(imports: string[], granted: string[], implemented?: ReadonlySet<string>): void {
  const denied = ungrantedImports(imports, granted);
  if (denied.length > 0) throw importDenied(denied);
  if (implemented === undefined) return;
  const missing = imports.find((name) => !isWasi(name) && !implemented.has(unversioned(name)));
  if (missing !== undefined) throw importDenied([missing], 'capsule has no implementation of it');
}

/** How one import links: to capsule's WASI, or a custom interface granted or denied. */
export interface ImportLink {
  name: string;
  link: 'wasi' | 'granted' | 'denied';
}

/** How each import links under `granted` (undefined: nothing was granted, the plan was refused). */
export function linkReport(imports: string[], granted: string[] | undefined): ImportLink[] {
  const covered = coveredBy(granted ?? []);
  return imports.map((name) => ({ name, link: isWasi(name) ? 'wasi' : covered(name) ? 'granted' : 'denied' }));
}
