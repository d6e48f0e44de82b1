// capsule as a user gets it: `npm pack`'s tarball installed into an empty app, offline.
// The app's lockfile is built from capsule's own (its non-dev packages, with their resolved
// URLs and integrity, plus the tarball as a file: dependency, plus any dev packages asked
// for with everything they depend on), so `npm ci --offline` installs from the npm cache
// the repository's own `npm ci` filled: no network, and the versions capsule is tested with.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './helpers.js';

interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockPackage>;
}
export interface PackFile {
  path: string;
  size: number;
}

export const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

/** `npm pack` of the repository (dist/ is built before the tests; --ignore-scripts: no second build). */
export function pack(): { tarball: string; files: PackFile[] } {
  const out = tempDir('capsule-pack-');
  const info = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], ROOT)) as { filename: string; files: PackFile[] }[];
  const first = info[0];
  if (first === undefined) throw new Error('npm pack printed no result');
  return { tarball: path.join(out, first.filename), files: first.files };
}

/** The lockfile entries `name` needs, required from `from`, resolved as Node does (nested first). */
function closure(lock: Lockfile, names: string[]): Record<string, LockPackage> {
  const found: Record<string, LockPackage> = {};
  const visit = (name: string, from: string, optional: boolean): void => {
    for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
      const where = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      const entry = lock.packages[where];
      if (entry) {
        if (found[where]) return;
        found[where] = entry;
        const optionalPeers = entry.peerDependenciesMeta ?? {};
        for (const d of Object.keys(entry.dependencies ?? {})) visit(d, where, false);
        for (const d of Object.keys(entry.optionalDependencies ?? {})) visit(d, where, true);
        for (const d of Object.keys(entry.peerDependencies ?? {})) if (!optionalPeers[d]?.optional) visit(d, where, true);
        return;
      }
      if (dir === '') break;
    }
    // Platform packages of other systems, and peers nobody installed, are not in the lockfile.
    if (!optional) throw new Error(`${name} (needed by ${from || 'the app'}) is not in package-lock.json`);
  };
  for (const n of names) visit(n, '', false);
  return found;
}

/** An empty app with the tarball installed and, as devDependencies, `devPackages` from capsule's lockfile. */
export function installApp(tarball: string, devPackages: string[] = []): string {
  const app = tempDir('capsule-app-');
  const spec = `file:${tarball}`;
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, unknown>;
    bin: Record<string, string>;
    engines: Record<string, string>;
    license: string;
  };
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const devDependencies = Object.fromEntries(devPackages.map((n) => [n, pkg.devDependencies[n] ?? '*']));
  const root = { name: 'app', version: '1.0.0', dependencies: { capsule: spec }, ...(devPackages.length ? { devDependencies } : {}) };
  const packages: Record<string, LockPackage> = {
    '': root,
    'node_modules/capsule': {
      version: pkg.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      ...(pkg.peerDependencies ? { peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta } : {}),
      bin: pkg.bin,
      engines: pkg.engines,
    } as LockPackage,
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || entry.dev === true) continue;
    packages[where] = entry;
  }
  Object.assign(packages, closure(lock, devPackages));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ private: true, type: 'module', ...root }, null, 2));
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  npm(['ci', '--offline', '--no-audit', '--no-fund'], app);
  return app;
}
