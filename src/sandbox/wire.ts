// The Job protocol for tiers outside this process (a child process, a VM): a Job
// becomes JSON (the bundle directory instead of compiled modules), and the other
// side compiles the same core files and runs the same execute().
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CapsuleError } from '../errors.js';
import type { BundleRef, Job, WireJob } from './job.js';

/** The serialisable form of `job`; `bundleDir` replaces the bundle's directory (a VM mounts it elsewhere). */
export function toWire(job: Job, bundleDir?: string): WireJob {
  if (!job.bundle) {
    throw new CapsuleError('INTERNAL', `${job.capabilityId}: the job has no bundle directory, so it cannot leave this process`);
  }
  const { modules: _modules, glueUrl: _glueUrl, bundle, ...rest } = job;
  return { ...rest, bundle: { ...bundle, dir: bundleDir ?? bundle.dir } };
}

/**
 * Compiles a bundle's core files for a call with `memoryBytes` of memory. This is
 * where the other side of the boundary must apply the host's compile step: once the
 * memory-cap rewrite (sandbox/memory-cap.ts on main) is here, each file's bytes go
 * through `capMemories(bytes, pagesFor(memoryBytes))` before compiling. Until then
 * the job runner's V8 flag --wasm-max-mem-pages enforces the same cap per memory.
 */
export async function compileBundle(bundle: BundleRef, memoryBytes: number): Promise<Record<string, WebAssembly.Module>> {
  void memoryBytes;
  const modules: Record<string, WebAssembly.Module> = {};
  for (const file of bundle.coreFiles) {
    if (path.basename(file) !== file) throw new CapsuleError('INTERNAL', `bundle core file ${file} is not a plain file name`);
    modules[file] = await WebAssembly.compile(await readFile(path.join(bundle.dir, file)));
  }
  return modules;
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
