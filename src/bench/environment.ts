// Where the figures were taken: they mean little without the machine.
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Environment } from './types.js';

export function environment(capsuleVersion: string): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    capsuleVersion,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    startedAt: new Date().toISOString(),
  };
}

/** capsule's version from package.json (dist/ sits one level below the package root). */
export function capsuleVersion(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
