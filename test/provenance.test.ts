// Provenance: digest pin + Ed25519 signatures over the manifest, trusted keys and
// signature requirements in the policy, provider deny list; keygen/sign/verify.
import { createHash, createPublicKey } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, createRuntime, type PolicyDocument } from '../dist/index.js';
import { cli, fixture, manifest, STACK_TRACE, tempDir, writeCapability } from './helpers.js';

interface KeyLine {
  id: string;
  publicKey: string;
}

let root: string;
let caps: string;
let alice: KeyLine;
let mallory: KeyLine;
const keyFile = (id: string) => path.join(root, 'keys', `${id}.key`);
const manifestOf = (id: string) => path.join(caps, id, 'capability.json');
const readManifest = (id: string) => JSON.parse(readFileSync(manifestOf(id), 'utf8')) as Record<string, unknown>;
const writeManifest = (id: string, m: Record<string, unknown>) => writeFileSync(manifestOf(id), JSON.stringify(m, null, 2));

function keygen(id: string): KeyLine {
  const r = cli(['keygen', '--out', path.join(root, 'keys'), '--id', id]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as KeyLine;
}

function sign(id: string, key: string): void {
  const r = cli(['sign', path.join(caps, id), '--key', keyFile(key)]);
  expect(r.status, r.stderr).toBe(0);
}

/** A signed copy of test.signed under a new id (the signature covers the id, so re-sign). */
function signedCopy(id: string, key = 'alice', extra: Record<string, unknown> = {}): void {
  writeCapability(caps, id, manifest(id, extra), fixture('counter'));
  sign(id, key);
}

async function runWith(policy: PolicyDocument, id: string): Promise<unknown> {
  const rt = await createRuntime({ capabilitiesDir: caps, policy, pool: { minThreads: 0, maxThreads: 1 } });
  try {
    return (await rt.run(id, {})).output;
  } finally {
    await rt.close();
  }
}

async function refusal(policy: PolicyDocument, id: string): Promise<CapsuleError> {
  const e = await runWith(policy, id).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CapsuleError);
  return e as CapsuleError;
}

const trustAlice = (): PolicyDocument => ({ trustedKeys: [alice], requireSignature: ['pure'] });

beforeAll(() => {
  root = tempDir('capsule-prov-');
  caps = path.join(root, 'caps');
  alice = keygen('alice');
  mallory = keygen('mallory');
  signedCopy('test.signed');
  signedCopy('test.tampered-component');
  copyFileSync(fixture('fail'), path.join(caps, 'test.tampered-component', 'component.wasm'));
  signedCopy('test.repinned');
  signedCopy('test.tampered-manifest');
  signedCopy('test.untrusted', 'mallory');
  signedCopy('test.evil', 'alice', { provider: { name: 'evil-plugin' } });
  writeCapability(caps, 'test.unsigned', manifest('test.unsigned'), fixture('counter'));
  signedCopy('test.unpinned');
});

describe('keygen', () => {
  it('writes the private key with mode 0600 and prints the trustedKeys entry', () => {
    expect(statSync(keyFile('alice')).mode & 0o777).toBe(0o600);
    expect(alice.id).toBe('alice');
    expect(alice.publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(alice.publicKey.slice(8), 'base64')).toHaveLength(32);
    expect(alice.publicKey).not.toBe(mallory.publicKey);
  });

  it('never overwrites an existing key', () => {
    const before = readFileSync(keyFile('alice'), 'utf8');
    const r = cli(['keygen', '--out', path.join(root, 'keys'), '--id', 'alice']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exists/);
    expect(readFileSync(keyFile('alice'), 'utf8')).toBe(before);
  });
});

describe('signatures at load', () => {
  it('a manifest signed by a trusted key runs, and sign pinned its digest', async () => {
    const m = readManifest('test.signed');
    expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m.signature).toMatch(/^ed25519:alice:[A-Za-z0-9+/]{86}==$/);
    expect(await runWith(trustAlice(), 'test.signed')).toEqual({ count: 1 });
  });

  it('a trusted key may also be given as base64 DER SubjectPublicKeyInfo', async () => {
    const raw = Buffer.from(alice.publicKey.slice('ed25519:'.length), 'base64');
    const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
    const policy: PolicyDocument = { trustedKeys: [{ id: 'alice', publicKey: `ed25519:${spki}` }], requireSignature: ['pure'] };
    expect(await runWith(policy, 'test.signed')).toEqual({ count: 1 });
  });

  it('a tampered component is DIGEST_MISMATCH', async () => {
    const e = await refusal(trustAlice(), 'test.tampered-component');
    expect(e.code).toBe('DIGEST_MISMATCH');
  });

  it('a tampered component whose digest was re-pinned in the manifest is SIGNATURE_INVALID', async () => {
    copyFileSync(fixture('fail'), path.join(caps, 'test.repinned', 'component.wasm'));
    const m = readManifest('test.repinned');
    const other = readManifest('test.tampered-component'); // same signer, but pins the counter's digest
    expect(other.digest).toBe(m.digest);
    m.digest = `sha256:${createHash('sha256')
      .update(readFileSync(fixture('fail')))
      .digest('hex')}`;
    writeManifest('test.repinned', m);
    const e = await refusal(trustAlice(), 'test.repinned');
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.message).toMatch(/does not verify/);
  });

  it('a manifest edited after signing is SIGNATURE_INVALID', async () => {
    const m = readManifest('test.tampered-manifest');
    m.limits = { timeoutMs: 300000 };
    writeManifest('test.tampered-manifest', m);
    const e = await refusal(trustAlice(), 'test.tampered-manifest');
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.message).toMatch(/key "alice" does not verify/);
  });

  it('a signature by a key the policy does not trust is SIGNATURE_INVALID, even when not required', async () => {
    for (const policy of [trustAlice(), { trustedKeys: [alice] }]) {
      const e = await refusal(policy, 'test.untrusted');
      expect(e.code).toBe('SIGNATURE_INVALID');
      expect(e.message).toMatch(/key "mallory", which the policy does not trust \(trusted keys: alice\)/);
    }
  });

  it('a key id the policy trusts, but with another key, does not verify', async () => {
    const e = await refusal({ trustedKeys: [{ id: 'alice', publicKey: mallory.publicKey }] }, 'test.signed');
    expect(e.code).toBe('SIGNATURE_INVALID');
  });

  it('a provider on deniedProviders is PROVIDER_DENIED, signed or not', async () => {
    const e = await refusal({ ...trustAlice(), deniedProviders: ['evil-plugin'] }, 'test.evil');
    expect(e.code).toBe('PROVIDER_DENIED');
    expect(e.message).toMatch(/evil-plugin/);
    expect(await runWith(trustAlice(), 'test.evil')).toEqual({ count: 1 });
  });

  it('requireSignature makes an unsigned manifest SIGNATURE_INVALID for those levels only', async () => {
    const e = await refusal(trustAlice(), 'test.unsigned');
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.message).toMatch(/requires a signature for securityLevel pure/);
    expect(await runWith({ trustedKeys: [alice], requireSignature: ['controlled', 'full'] }, 'test.unsigned')).toEqual({ count: 1 });
  });

  it('a signed manifest that does not pin its digest is refused', async () => {
    const m = readManifest('test.unpinned');
    delete m.digest;
    writeManifest('test.unpinned', m);
    const e = await refusal(trustAlice(), 'test.unpinned');
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.message).toMatch(/does not pin digest/);
  });

  it('a bare component file has no signature: refused where the policy requires one for pure', async () => {
    const rt = await createRuntime({ capabilitiesDir: caps, policy: trustAlice() });
    try {
      await expect(rt.runFile(fixture('counter'), {})).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    } finally {
      await rt.close();
    }
  });

  it('a trusted key that does not decode makes the policy invalid, naming it', async () => {
    const bad = { trustedKeys: [{ id: 'broken', publicKey: 'ed25519:AAAA' }] };
    await expect(createRuntime({ capabilitiesDir: caps, policy: bad })).rejects.toMatchObject({
      code: 'POLICY_INVALID',
      message: expect.stringMatching(/trustedKeys\/0\/publicKey \(key "broken"\)/),
    });
  });
});

describe('capsule verify', () => {
  const policyFile = () => {
    const f = path.join(root, 'policy.json');
    writeFileSync(f, JSON.stringify(trustAlice()));
    return f;
  };

  it('prints each check and OK for a good signature', () => {
    const r = cli(['verify', path.join(caps, 'test.signed'), '--policy', policyFile()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/digest +sha256:[0-9a-f]{64}: matches component\.wasm/);
    expect(r.stdout).toMatch(/signature +valid, by trusted key "alice"/);
    expect(r.stdout).toMatch(/verdict: OK\n$/);
  });

  it('fails with the code for a tampered component, an edited manifest, an untrusted key', () => {
    const cases: [string, string][] = [
      ['test.tampered-component', 'DIGEST_MISMATCH'],
      ['test.tampered-manifest', 'SIGNATURE_INVALID'],
      ['test.untrusted', 'SIGNATURE_INVALID'],
      ['test.unsigned', 'SIGNATURE_INVALID'],
    ];
    for (const [id, code] of cases) {
      const r = cli(['verify', path.join(caps, id), '--policy', policyFile()]);
      expect(r.status, id).toBe(1);
      expect(r.stdout).toContain(`verdict: FAILED (${code})`);
      expect(r.stderr).toMatch(new RegExp(`^capsule: ${code}: ${id.replace('.', '\\.')}`));
      expect(r.stderr).not.toMatch(STACK_TRACE);
    }
  });

  it('inspect names the key that signed a capability', () => {
    const r = cli(['inspect', 'test.signed', '--capabilities', caps, '--policy', policyFile(), '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'test.signed', signedBy: 'alice' });
    const unsigned = cli(['inspect', 'test.unsigned', '--capabilities', caps, '--json']);
    expect(JSON.parse(unsigned.stdout).signedBy).toBeUndefined();
  });

  it('sign re-pins and re-signs after a change, and verify passes again', () => {
    cpSync(path.join(caps, 'test.tampered-manifest'), path.join(root, 'resign', 'test.tampered-manifest'), { recursive: true });
    const dir = path.join(root, 'resign', 'test.tampered-manifest');
    expect(cli(['verify', dir, '--policy', policyFile()]).status).toBe(1);
    expect(cli(['sign', dir, '--key', keyFile('alice')]).status).toBe(0);
    expect(cli(['verify', dir, '--policy', policyFile()]).status).toBe(0);
  });
});
