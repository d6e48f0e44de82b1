// What a capability asks for, as the policy layer sees it. The registry's
// Manifest is a superset, so policy never has to know about manifests on disk.
import type { World } from '../sandbox/job.js';

export type SecurityLevel = 'pure' | 'controlled' | 'sandboxed' | 'full';
export type Isolation = 'auto' | 'inline' | 'worker' | 'process' | 'vm';
/** `wasm`: a WebAssembly component (the default). `container`: an OCI image, always in the VM tier. */
export type CapabilityRuntime = 'wasm' | 'container';

export interface Permissions {
  host?: string[];
  fs?: { read?: string[]; write?: string[]; blocked?: string[] };
  env?: string[];
  net?: { outbound?: string[] };
  clocks?: boolean;
  random?: boolean;
}

export interface RequestedLimits {
  memoryBytes?: number;
  timeoutMs?: number;
  cpuMs?: number;
  outputBytes?: number;
  inputBytes?: number;
}

export interface CapabilityRequest {
  id: string;
  world: World;
  securityLevel?: SecurityLevel;
  permissions?: Permissions;
  limits?: RequestedLimits;
  isolation?: Isolation;
  runtime?: CapabilityRuntime;
}
