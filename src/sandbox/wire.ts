// The Job protocol for tiers outside this process (a child process, a VM): a Job
// becomes JSON (the bundle directory instead of compiled modules), and the other
// side compiles the same core files and runs the same execute().
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CapsuleError } from '../errors.js';
import { compileBundle } from './compile.js';
import type { Job, WireJob } from './job.js';

/** The serialisable form of `job`; `bundleDir` replaces the bundle's directory (a VM mounts it elsewhere). */
export function toWire(job: Job, bundleDir?: string): WireJob {
  if (!job.bundle) {
    throw new CapsuleError('INTERNAL', `${job.capabilityId}: the job has no bundle directory, so it cannot leave this process`);
  }
  const { modules: _modules, glueUrl: _glueUrl, bundle, hostCall: _hostCall, hostPort: _hostPort, fetch: _fetch, ...rest } = job;
  return { ...rest, bundle: { ...bundle, dir: bundleDir ?? bundle.dir } };
}

/** A runnable Job from its wire form. */
export async function fromWire(wire: WireJob): Promise<Job> {
  const { bundle } = wire;
  return {
    ...wire,
    modules: await compileBundle(bundle, wire.limits.memoryBytes),
    glueUrl: pathToFileURL(path.join(bundle.dir, bundle.glue)).href,
    bundle,
  };
}
