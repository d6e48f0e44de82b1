// A container capability's Job (manifest `runtime: "container"`): the image and
// command from the manifest with the command-world input ({ args?, stdin?, env? }).
// It goes down the same dispatch path as a component's Job, to the VM tier's runner.
import { CapsuleError } from './errors.js';
import type { Decision } from './policy/decide.js';
import type { Manifest } from './registry/manifest.js';
import type { CommandInput, ContainerJob } from './sandbox/job.js';

export function containerJob(m: Manifest, decision: Decision, input: CommandInput): ContainerJob {
  if (!m.container) throw new CapsuleError('MANIFEST_INVALID', `${m.id}: runtime container needs a /container field`);
  return {
    capabilityId: m.id,
    image: m.container.image,
    command: m.container.command ?? [],
    input,
    grants: decision.grants,
    limits: decision.limits,
  };
}
