// Trusted signing keys as the policy writes them:
//   { "id": "examples", "publicKey": "ed25519:<base64>" }
// where <base64> (standard alphabet, padded) is either the raw 32-byte Ed25519
// public key (what `capsule keygen` prints) or its DER SubjectPublicKeyInfo
// (44 bytes, e.g. `openssl pkey -pubout -outform DER | base64`).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

export interface TrustedKey {
  id: string;
  key: KeyObject;
}

const PREFIX = 'ed25519:';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

/** Parses `ed25519:<base64>`; a string is the problem. */
export function parsePublicKey(text: string): KeyObject | string {
  if (!text.startsWith(PREFIX)) return `must start with ${PREFIX}`;
  const b64 = text.slice(PREFIX.length);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return 'is not base64';
  const der = Buffer.from(b64, 'base64');
  let spki: Buffer;
  if (der.length === 32) spki = Buffer.concat([SPKI_HEADER, der]);
  else if (der.length === 44 && der.subarray(0, 12).equals(SPKI_HEADER)) spki = der;
  else return `decodes to ${der.length} bytes; expected a raw 32-byte Ed25519 key or its 44-byte DER SPKI`;
  try {
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    return `is not an Ed25519 public key (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** The canonical text form: `ed25519:` + base64 of the raw 32 bytes. */
export function formatPublicKey(key: KeyObject): string {
  return PREFIX + rawPublicKey(key).toString('base64');
}

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_HEADER.length);
}

/** A short stable name for a key: `key-` + the first 8 hex digits of SHA-256 of its raw bytes. */
export function keyFingerprint(key: KeyObject): string {
  return `key-${createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 8)}`;
}
