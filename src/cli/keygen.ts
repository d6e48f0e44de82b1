// `capsule keygen [--out DIR] [--id NAME]`: a new Ed25519 signing key.
// The private key goes to DIR/<id>.key (PKCS#8 PEM, mode 0600, preceded by a
// `capsule-key-id: <id>` line that `capsule sign` reads); the public key line
// for the policy's trustedKeys is printed on stdout.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { refuseKernelPath } from '../kernel-paths.js';
import { formatPublicKey, keyFingerprint } from '../policy/keys.js';
import { KEY_ID } from '../registry/signature.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';

export const KEY_ID_HEADER = 'capsule-key-id:';

export async function keygenCommand(a: ParsedArgs): Promise<number> {
  const dir = path.resolve((a.values.out as string | undefined) ?? '.');
  refuseKernelPath(dir, '--out', 'USAGE');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const id = (a.values.id as string | undefined) ?? keyFingerprint(publicKey);
  if (!KEY_ID.test(id)) throw usage(`--id ${JSON.stringify(id)}: use 1 to 64 of A-Z a-z 0-9 . _ -`);
  const file = path.join(dir, `${id}.key`);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${KEY_ID_HEADER} ${id}\n${pem}`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600); // whatever the umask
  } catch (e) {
    const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
    throw new CapsuleError('USAGE', `${file}: ${exists ? 'exists; capsule keygen never overwrites a key' : messageOf(e)}`);
  }
  process.stderr.write(`private key written to ${file} (mode 0600); add this to the policy's trustedKeys:\n`);
  process.stdout.write(`${JSON.stringify({ id, publicKey: formatPublicKey(publicKey) })}\n`);
  return 0;
}
