// Ed25519 signatures over a manifest and its component digest.
//
// Signed bytes (UTF-8):
//   "capsule-manifest-signature-v1\n" + digest + "\n" + JCS(manifest without "signature")
// where digest is the component's `sha256:<hex>` and JCS is RFC 8785 canonical
// JSON (object keys sorted by UTF-16 code units, no whitespace, JSON.stringify
// escaping and number form), computed by the `canonicalize` package.
// The manifest's `signature` field holds `ed25519:<keyId>:<base64 of the 64-byte signature>`.
import { type KeyObject, sign, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { TrustedKey } from '../policy/keys.js';

export const SIGNATURE_CONTEXT = 'capsule-manifest-signature-v1';
const FORM = /^ed25519:(.+):([A-Za-z0-9+/]{86}==)$/;

/** Key ids that fit in the signature form and in file names. */
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function signedBytes(manifest: object, digest: string): Buffer {
  const { signature: _ignored, ...rest } = manifest as Record<string, unknown>;
  return Buffer.from(`${SIGNATURE_CONTEXT}\n${digest}\n${canonicalize(rest) ?? ''}`, 'utf8');
}

export function signManifest(manifest: object, digest: string, privateKey: KeyObject, keyId: string): string {
  return `ed25519:${keyId}:${sign(null, signedBytes(manifest, digest), privateKey).toString('base64')}`;
}

export function parseSignature(text: string): { keyId: string; bytes: Buffer } | undefined {
  const m = FORM.exec(text);
  const [, keyId, bytes] = m ?? [];
  return keyId !== undefined && bytes !== undefined ? { keyId, bytes: Buffer.from(bytes, 'base64') } : undefined;
}

export type SignatureCheck = { ok: true; keyId: string } | { ok: false; keyId?: string; problem: string };

/** Checks `manifest.signature` against the trusted keys; the problem says why it fails, in one line. */
export function checkSignatureText(manifest: { signature?: string }, digest: string, keys: TrustedKey[]): SignatureCheck {
  const text = manifest.signature ?? '';
  const sig = parseSignature(text);
  if (!sig) return { ok: false, problem: 'signature is not of the form ed25519:<keyId>:<base64 of 64 bytes>' };
  const trusted = keys.find((k) => k.id === sig.keyId);
  if (!trusted) {
    const known = keys.length === 0 ? 'the policy trusts no keys' : `trusted keys: ${keys.map((k) => k.id).join(', ')}`;
    return { ok: false, keyId: sig.keyId, problem: `signed by key ${JSON.stringify(sig.keyId)}, which the policy does not trust (${known})` };
  }
  if (!verify(null, signedBytes(manifest, digest), trusted.key, sig.bytes)) {
    return {
      ok: false,
      keyId: sig.keyId,
      problem: `signature by key ${JSON.stringify(sig.keyId)} does not verify: the manifest or the component changed after signing`,
    };
  }
  return { ok: true, keyId: sig.keyId };
}
