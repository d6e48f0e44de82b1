// What a capability asks for, as the policy layer sees it. The registry's
// Manifest is a superset, so policy never has to know about manifests on disk.
import type { Permissions, SecurityLevel } from '../grants/permissions.js';
import type { World } from '../sandbox/job.js';
import type { CapsuleCapabilityManifest } from '../schema-types.js';

// Taken from the types generated from schema/capability.schema.json, so a field the
// schema gains (as limits.fuel did) is not written a second time here.
export type Isolation = NonNullable<CapsuleCapabilityManifest['isolation']>;
/** `wasm`: a WebAssembly component (the default). `container`: an OCI image, always in the VM tier. */
export type CapabilityRuntime = NonNullable<CapsuleCapabilityManifest['runtime']>;
export type RequestedLimits = NonNullable<CapsuleCapabilityManifest['limits']>;

export interface CapabilityRequest {
  id: string;
  world: World;
  securityLevel?: SecurityLevel;
  permissions?: Permissions;
  limits?: RequestedLimits;
  isolation?: Isolation;
  runtime?: CapabilityRuntime;
}
