// A container capability's Job (manifest `runtime: "container"`): the image and
// command from the manifest with the command-world input ({ args?, stdin?, env? }).
// It goes down the same dispatch path as a component's Job, to the VM tier's runner.
import { CapsuleError } from './errors.js';
import type { Decision } from './policy/decide.js';
import type { Manifest } from './registry/manifest.js';
import type { CommandInput, ContainerJob } from './sandbox/job.js';

export function containerJob(m: Manifest, decision: Decision, input: CommandInput): ContainerJob {
  if (!m.container) throw new CapsuleError('MANIFEST_INVALID', `${m.id}: runtime container needs a /container field`);
  // The command runs behind capsule's handshake shell (src/tiers/vm/spec.ts), not the image's entrypoint.
  if (!m.container.command?.length) {
    throw new CapsuleError('MANIFEST_INVALID', `${m.id}: /container/command is required: capsule runs it in place of the image's entrypoint`);
  }
  return {
    capabilityId: m.id,
    image: m.container.image,
    command: m.container.command,
    input,
    grants: decision.grants,
    limits: decision.limits,
  };
}
