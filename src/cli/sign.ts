// `capsule sign <dir> --key F [--id NAME]`: pins the component's digest in
// <dir>/capability.json and signs the manifest with an Ed25519 key from
// `capsule keygen` (or any PKCS#8 PEM Ed25519 key, with --id).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { formatPublicKey } from '../policy/keys.js';
import { checkManifest } from '../registry/manifest.js';
import { readComponent } from '../registry/registry.js';
import { KEY_ID, signManifest } from '../registry/signature.js';
import { digestOf } from '../registry/component-file.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { KEY_ID_HEADER } from './keygen.js';

export async function signCommand(a: ParsedArgs): Promise<number> {
  const dir = a.positionals[0];
  const keyFile = a.values.key as string | undefined;
  if (!dir || !keyFile) throw usage('sign needs a capability directory and --key F');
  await signDirectory(dir, keyFile, a.values.id as string | undefined);
  return 0;
}

/** Pins the digest of <dir>'s component and signs its manifest (also `capsule build --sign`). */
export async function signDirectory(dir: string, keyFile: string, idFlag: string | undefined): Promise<void> {
  const { key, id } = readPrivateKey(keyFile, idFlag);
  const manifestPath = path.resolve(dir, 'capability.json');
  const raw = readJson(manifestPath);
  const manifest = checkManifest(raw, manifestPath);
  // Hash the component as it is now (the old pin, if any, is what this replaces).
  const bytes = await readComponent({ id: manifest.id, dir: path.dirname(manifestPath), manifestPath }, { ...manifest, digest: undefined });
  const signed: Record<string, unknown> = { ...raw, digest: digestOf(bytes) };
  delete signed.signature;
  signed.signature = signManifest(signed, signed.digest as string, key, id);
  checkManifest(signed, manifestPath);
  const tmp = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(signed, null, 2)}\n`);
  renameSync(tmp, manifestPath);
  process.stdout.write(
    `signed ${manifest.id} ${manifest.version}\n  digest     ${String(signed.digest)}\n  key        ${id} (${formatPublicKey(createPublicKey(key))})\n`,
  );
}

function readJson(file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new Error('not a JSON object');
  } catch (e) {
    throw new CapsuleError('MANIFEST_INVALID', `${file}: ${messageOf(e)}`);
  }
}

function readPrivateKey(file: string, idFlag: string | undefined): { key: KeyObject; id: string } {
  let text: string;
  let key: KeyObject;
  try {
    text = readFileSync(file, 'utf8');
    key = createPrivateKey(text);
  } catch (e) {
    throw usage(`--key ${file}: ${messageOf(e)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw usage(`--key ${file}: an ${key.asymmetricKeyType} key; capsule signs with Ed25519`);
  const header = text
    .split('\n')
    .find((l) => l.startsWith(KEY_ID_HEADER))
    ?.slice(KEY_ID_HEADER.length)
    .trim();
  const id = idFlag ?? header;
  if (!id) throw usage(`--key ${file} has no ${KEY_ID_HEADER} line; give the key's policy id with --id`);
  if (!KEY_ID.test(id)) throw usage(`key id ${JSON.stringify(id)}: use 1 to 64 of A-Z a-z 0-9 . _ -`);
  return { key, id };
}
