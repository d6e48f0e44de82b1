// Provenance, checked at load before any guest code runs, in this order:
// provider deny list (PROVIDER_DENIED), digest pin (DIGEST_MISMATCH, in
// readComponent), then the signature (SIGNATURE_INVALID): a signature present
// must verify against a key the policy trusts and the manifest must pin its
// digest (else the component is not covered); the policy's `requireSignature`
// levels make a signature mandatory.
import { CapsuleError } from '../errors.js';
import type { Policy } from '../policy/policy.js';
import type { Manifest } from './manifest.js';
import { type CapabilityEntry, readComponent } from './registry.js';
import { checkSignatureText } from './signature.js';

/**
 * A provider name as the deny list compares it: Unicode NFKC (full-width and
 * compatibility forms fold to plain letters), case folded, whitespace trimmed and
 * collapsed, invisible format characters dropped, so `Evil-Plugin`, `"evil-plugin "` and `ｅｖｉｌ-plugin` are all `evil-plugin`.
 */
function providerKey(name: string): string {
  // Invisible format characters (zero-width space, joiners) are dropped too.
  return name
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

export function checkProvider(m: Manifest, policy: Policy): void {
  const denied = new Set((policy.doc.deniedProviders ?? []).map(providerKey));
  if (!denied.has(providerKey(m.provider.name))) return;
  throw new CapsuleError('PROVIDER_DENIED', `${m.id}: provider ${JSON.stringify(m.provider.name)} is on the policy's deniedProviders list`, {
    provider: m.provider.name,
  });
}

/** The id of the key that signed `m`, or undefined for an unsigned manifest the policy lets run. */
export function checkSignature(m: Manifest, digest: string, policy: Policy): string | undefined {
  const level = m.securityLevel ?? 'pure';
  const fail = (why: string) => new CapsuleError('SIGNATURE_INVALID', `${m.id}: ${why}`);
  if (m.signature === undefined) {
    if ((policy.doc.requireSignature ?? []).includes(level)) {
      throw fail(`the policy requires a signature for securityLevel ${level}, and the manifest has none`);
    }
    return undefined;
  }
  if (m.digest === undefined && m.runtime !== 'container') throw fail('the manifest is signed but does not pin digest, so its component is not covered');
  const check = checkSignatureText(m, digest, policy.keys);
  if (!check.ok) throw fail(check.problem);
  return check.keyId;
}

/** `name@sha256:<64 hex>`: the digest a container capability's image is pinned to. */
export function imagePin(image: string): string | undefined {
  return /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
}

/**
 * A container capability has no component: its signature covers the manifest and the
 * image's pinned digest (in place of a component digest), so an image that is not
 * pinned (`name@sha256:…`) is not covered by any signature. Where the policy requires
 * a signature for the capability's level, an unpinned image is refused.
 */
export function checkContainerProvenance(m: Manifest, policy: Policy): string | undefined {
  checkProvider(m, policy);
  const level = m.securityLevel ?? 'pure';
  const image = m.container?.image ?? '';
  const pin = imagePin(image);
  const required = (policy.doc.requireSignature ?? []).includes(level);
  if ((required || m.signature !== undefined) && pin === undefined) {
    const why = required ? `the policy requires a signature for securityLevel ${level}` : 'the manifest is signed';
    throw new CapsuleError(
      'SIGNATURE_INVALID',
      `${m.id}: ${why}, but its image ${JSON.stringify(image)} is not pinned by digest (name@sha256:…), so no signature covers what runs`,
    );
  }
  return checkSignature(m, pin ?? '', policy);
}

export interface Verified {
  bytes: Uint8Array;
  signedBy: string | undefined;
}

/** Reads a registry capability's component after checking provider, digest and signature. */
export async function readVerified(entry: CapabilityEntry, m: Manifest, policy: Policy): Promise<Verified> {
  checkProvider(m, policy);
  const bytes = await readComponent(entry, m);
  // readComponent checked the pin; sign over the pinned digest (equal to the bytes').
  const signedBy = checkSignature(m, m.digest ?? '', policy);
  return { bytes, signedBy };
}
