// A container capability's call (manifest `runtime: "container"`): the image and
// command from the manifest, the command-world input ({ args?, stdin?, env? }) and
// output ({ exitCode, stdout, stderr }), always in the VM tier's runner.
import { CapsuleError } from './errors.js';
import type { Decision } from './policy/decide.js';
import type { Manifest } from './registry/manifest.js';
import type { CommandInput } from './sandbox/job.js';
import type { ContainerOutput, VmRunner } from './tiers/vm/vm-tier.js';

export function runContainerCapability(runner: VmRunner, m: Manifest, decision: Decision, input: CommandInput, signal?: AbortSignal): Promise<ContainerOutput> {
  if (!m.container) throw new CapsuleError('MANIFEST_INVALID', `${m.id}: runtime container needs a /container field`);
  return runner.runCommand(
    {
      capabilityId: m.id,
      image: m.container.image,
      command: m.container.command ?? [],
      input,
      grants: decision.grants,
      limits: decision.limits,
    },
    signal,
  );
}
