// The capsule-owned container network that a container capability with net grants
// joins: `--internal`, so it reaches nothing but the host's address on its bridge
// (the gateway), where the call's egress proxy (egress-proxy.ts) listens. Created on
// first use by docker or podman; a network of that name that is not internal is
// refused rather than used, since it would route to the whole network.
import { CapsuleError } from '../../errors.js';
import { runBounded } from '../exec.js';
import type { OciCli } from './oci.js';

export const EGRESS_NETWORK = 'capsule-egress';

export interface EgressNetwork {
  name: string;
  /** The host's IPv4 address on the network's bridge. */
  gateway: string;
}

/** Both CLIs name the gateway differently in `network inspect`. */
function inspectFormat(cli: OciCli): string {
  return cli === 'podman' ? '{{.Internal}} {{range .Subnets}}{{.Gateway}} {{end}}' : '{{.Internal}} {{range .IPAM.Config}}{{.Gateway}} {{end}}';
}

export function createArgv(name: string): string[] {
  // Not podman's --disable-dns: an internal network without DNS gets no gateway address
  // (podman 4.3, netavark), and the gateway is where the proxy is reached.
  return ['network', 'create', '--internal', name];
}

/** `true 10.89.0.1 fd00::1` → the IPv4 gateway, or a reason the network cannot be used. */
export function parseInspect(name: string, out: string): EgressNetwork | string {
  const [internal, ...gateways] = out.trim().split(/\s+/);
  if (internal !== 'true') return `network ${name} exists but is not --internal: it would route to the whole network; remove it and capsule recreates it`;
  const gateway = gateways.find((g) => /^\d{1,3}(\.\d{1,3}){3}$/.test(g));
  if (!gateway) return `network ${name} has no IPv4 gateway (inspect said ${JSON.stringify(out.trim())})`;
  return { name, gateway };
}

/** Finds or creates the egress network; ESCALATION_UNAVAILABLE with the CLI's words when it cannot. */
export async function ensureEgressNetwork(cli: OciCli, command: string, timeoutMs: number, name = EGRESS_NETWORK): Promise<EgressNetwork> {
  const fail = (why: string) =>
    new CapsuleError('ESCALATION_UNAVAILABLE', `${cli}: no egress network for net grants: ${why}`, { runner: cli, cliMessage: why });
  const inspect = () => runBounded(command, ['network', 'inspect', name, '--format', inspectFormat(cli)], timeoutMs);
  let found = await inspect();
  if (found.code !== 0) {
    const made = await runBounded(command, createArgv(name), timeoutMs);
    // A concurrent call may have created it first: inspect again either way.
    found = await inspect();
    if (found.code !== 0) throw fail((made.stderr || found.stderr).trim().split('\n').pop() || `exit ${made.code}`);
  }
  const parsed = parseInspect(name, found.stdout);
  if (typeof parsed === 'string') throw fail(parsed);
  return parsed;
}
