// Net grants of a container capability for real, with podman: the container joins an
// internal network where only the call's egress proxy (on the network's gateway) is
// reachable. Its command fetches two servers this test starts on the host's 127.0.0.1
// through the proxy: the granted one answers, the other is refused (403); a direct
// connection that ignores the proxy reaches nothing. Runs from the host root
// (`--rootfs /`, no image pull) with runc, as vm-podman.test.ts does; skipped where
// podman cannot run containers, or curl (the command's client) is missing.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { probeOci } from '../src/tiers/vm/oci.js';
import { which } from '../src/tiers/which.js';
import { manifest, tempDir, writeCapability } from './helpers.js';

const podman = await probeOci('podman');
const curl = which('curl');
const skip = !podman.available ? podman.reason : !curl ? 'curl not found (the command inside the container fetches with it)' : undefined;

interface Server {
  server: http.Server;
  port: number;
  hits: number;
}

async function serve(host: string): Promise<Server> {
  const s: Server = { server: http.createServer(), port: 0, hits: 0 };
  s.server.on('request', (_req, res) => {
    s.hits += 1;
    res.end('hello');
  });
  await new Promise<void>((r) => s.server.listen(0, host, () => r()));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

/** The host's first non-loopback IPv4 address: a direct route out that the internal network must not have. */
function hostAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe.skipIf(skip !== undefined)(`podman --rootfs egress through the proxy (${skip ?? podman.reason})`, () => {
  const network = `capsule-egress-test-${process.pid}`;
  const outside = hostAddress();
  let rt: Runtime;
  let granted: Server;
  let other: Server;
  let direct: Server | undefined;

  beforeAll(async () => {
    granted = await serve('127.0.0.1');
    other = await serve('127.0.0.1');
    direct = outside ? await serve(outside) : undefined;
    const dir = tempDir('capsule-egress-');
    // The granted server by plain http, and its port as https too (a CONNECT tunnel).
    const outbound = [`http://127.0.0.1:${granted.port}`, `https://127.0.0.1:${granted.port}`];
    // Each line: the HTTP status curl saw (000: no connection at all); for https, the
    // proxy's answer to CONNECT (the TLS handshake after it fails: the server speaks http).
    const fetch = [
      'curl -s -o /dev/null -w "%{http_code}\\n" --max-time 20 "$1"',
      'curl -s -o /dev/null -w "%{http_code}\\n" --max-time 20 "$2"',
      'curl -s -o /dev/null -w "%{http_code}\\n" --max-time 5 --noproxy "*" "$1"',
      'curl -s -o /dev/null -w "%{http_connect}\\n" --max-time 20 "$4"',
      'curl -s -o /dev/null -w "%{http_connect}\\n" --max-time 20 "$5"',
      '[ -z "$3" ] || curl -s -o /dev/null -w "%{http_code}\\n" --max-time 5 --noproxy "*" "$3"',
    ].join('; ');
    writeCapability(
      dir,
      'egress.fetch',
      manifest('egress.fetch', {
        runtime: 'container',
        world: 'command',
        securityLevel: 'sandboxed',
        permissions: { net: { outbound } },
        container: { image: 'ignored-in-rootfs-mode', command: ['sh', '-c', fetch, 'fetch'] },
        limits: { timeoutMs: 60_000 },
      }),
    );
    const policy = { grants: [{ capabilities: 'egress.*', net: { outbound } }] };
    rt = await createRuntime({ capabilitiesDir: dir, policy, vm: { runner: 'podman', runtime: 'runc', rootfs: '/', egressNetwork: network } });
  });

  afterAll(async () => {
    await rt?.close();
    for (const s of [granted, other, direct]) s?.server.close();
    try {
      execFileSync('podman', ['network', 'rm', '-f', network], { stdio: 'ignore' });
    } catch {
      // never created (the run failed before): nothing to remove
    }
  });

  it('the granted loopback host answers through the proxy; another is refused; a direct connection reaches nothing', async () => {
    const args = [
      `http://127.0.0.1:${granted.port}/`,
      `http://127.0.0.1:${other.port}/`,
      direct ? `http://${outside}:${direct.port}/` : '',
      `https://127.0.0.1:${granted.port}/`,
      `https://127.0.0.1:${other.port}/`,
    ];
    const { output, denials } = await rt.run<{ exitCode: number; stdout: string; stderr: string }>('egress.fetch', { args });
    const [viaProxy, refused, bypassLoopback, tunnel, tunnelRefused, bypassHost] = output.stdout.trim().split('\n');
    expect(viaProxy).toBe('200');
    expect(refused).toBe('403');
    expect(tunnel).toBe('200');
    expect(tunnelRefused).toBe('403');
    // Without the proxy: the container's own loopback has no server, and the host's
    // address on another interface has no route from the internal network.
    expect(bypassLoopback).toBe('000');
    if (direct) expect(bypassHost).toBe('000');
    // The tunnel reached the granted server, but its TLS hello is no HTTP request.
    expect(granted.hits).toBe(1);
    expect(other.hits).toBe(0);
    expect(direct?.hits ?? 0).toBe(0);
    expect(denials).toEqual([
      { kind: 'net', target: `http://127.0.0.1:${other.port}/`, reason: 'host not granted' },
      { kind: 'net', target: `127.0.0.1:${other.port}`, reason: 'host not granted (CONNECT)' },
    ]);
    // The network capsule created is internal, so nothing but the gateway is routed.
    expect(execFileSync('podman', ['network', 'inspect', network, '--format', '{{.Internal}}'], { encoding: 'utf8' }).trim()).toBe('true');
  });
});
