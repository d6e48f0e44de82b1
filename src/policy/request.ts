// What a capability asks for, as the policy layer sees it. The registry's
// Manifest is a superset, so policy never has to know about manifests on disk.
import type { Permissions, SecurityLevel } from '../grants/permissions.js';
import type { World } from '../sandbox/job.js';

export type Isolation = 'auto' | 'inline' | 'worker' | 'process' | 'vm';
/** `wasm`: a WebAssembly component (the default). `container`: an OCI image, always in the VM tier. */
export type CapabilityRuntime = 'wasm' | 'container';

export interface RequestedLimits {
  memoryBytes?: number;
  timeoutMs?: number;
  cpuMs?: number;
  fuel?: number;
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
