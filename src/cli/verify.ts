// `capsule verify <dir> [--policy F]`: the load-time provenance checks on one
// capability directory (provider deny list, digest pin, signature against the
// policy's trusted keys), one line per check, then a verdict; exit 1 on failure.
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { loadPolicy } from '../policy/policy.js';
import { readManifest } from '../registry/manifest.js';
import { checkProvider, checkSignature } from '../registry/provenance.js';
import { readComponent } from '../registry/registry.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { escapeControls } from './safe-text.js';

export async function verifyCommand(a: ParsedArgs): Promise<number> {
  const dir = a.positionals[0];
  if (!dir) throw usage('verify needs a capability directory');
  const manifestPath = path.resolve(dir, 'capability.json');
  const manifest = await readManifest(manifestPath);
  const policy = await loadPolicy(a.values.policy as string | undefined);
  const out = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(11)}${escapeControls(v)}\n`);
  process.stdout.write(`${escapeControls(`${manifest.id} ${manifest.version} (${manifestPath})`)}\n`);
  out('policy', policy.source);
  try {
    checkProvider(manifest, policy);
    out('provider', `${manifest.provider.name}: not denied`);
    await readComponent({ id: manifest.id, dir: path.dirname(manifestPath), manifestPath }, manifest);
    out('digest', manifest.digest ? `${manifest.digest}: matches ${manifest.component}` : 'not pinned: the component is not covered');
    const signedBy = checkSignature(manifest, manifest.digest ?? '', policy);
    const level = manifest.securityLevel ?? 'pure';
    out('signature', signedBy ? `valid, by trusted key ${JSON.stringify(signedBy)}` : `none (the policy does not require one for ${level})`);
  } catch (e) {
    if (e instanceof CapsuleError) process.stdout.write(`verdict: FAILED (${e.code})\n`);
    throw e;
  }
  process.stdout.write('verdict: OK\n');
  return 0;
}
