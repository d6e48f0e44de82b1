// Reading `network inspect` for capsule's egress network (src/tiers/vm/egress-network.ts):
// only an internal network with an IPv4 gateway is used.
import { describe, expect, it } from 'vitest';
import { createArgv, parseInspect } from '../../src/tiers/vm/egress-network.js';

describe('egress network', () => {
  it('an internal network: its IPv4 gateway, whatever else is listed', () => {
    expect(parseInspect('capsule-egress', 'true 10.89.0.1 \n')).toEqual({ name: 'capsule-egress', gateway: '10.89.0.1' });
    expect(parseInspect('capsule-egress', 'true fd00::1 172.18.0.1 ')).toEqual({ name: 'capsule-egress', gateway: '172.18.0.1' });
  });

  it('a network of that name that is not internal is refused: it would route anywhere', () => {
    expect(parseInspect('capsule-egress', 'false 10.89.0.1')).toMatch(/exists but is not --internal/);
  });

  it('no gateway (podman --disable-dns on an internal network) is refused with what inspect said', () => {
    expect(parseInspect('capsule-egress', 'true <nil> ')).toMatch(/has no IPv4 gateway \(inspect said "true <nil>"\)/);
  });

  it('is created --internal', () => {
    expect(createArgv('capsule-egress')).toEqual(['network', 'create', '--internal', 'capsule-egress']);
  });
});
