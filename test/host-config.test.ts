// capsule:host/config (README: Config): values from the policy's grants and the
// call's own grants, read by the guest; never written to the audit log.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

const CONFIG = 'capsule:host/config';
let rt: Runtime;
let auditLog: string;
beforeAll(async () => {
  const caps = tempDir('capsule-config-');
  writeCapability(caps, 'cfg.reader', manifest('cfg.reader', { permissions: { host: [CONFIG] } }), fixture('host-config'));
  writeCapability(caps, 'cfg.ungranted', manifest('cfg.ungranted', { permissions: { host: [CONFIG] } }), fixture('host-config'));
  auditLog = path.join(tempDir('capsule-config-audit-'), 'audit.jsonl');
  rt = await createRuntime({
    capabilitiesDir: caps,
    auditLog,
    policy: {
      grants: [{ capabilities: 'cfg.reader', host: [CONFIG], config: { greeting: '"from-policy-7f3a"' } }],
      perCall: { config: ['greeting'] },
    },
    pool: { minThreads: 1, maxThreads: 1 },
  });
});
afterAll(() => rt.close());

describe('capsule:host/config', () => {
  it("the guest reads the policy's value, and a call's own value over it; the audit log has neither", async () => {
    expect((await rt.run('cfg.reader', {})).output).toBe('from-policy-7f3a');
    expect((await rt.run('cfg.reader', {}, { grants: { config: { greeting: '"per-call-91bc"' } } })).output).toBe('per-call-91bc');
    await rt.flushAudit();
    const text = readFileSync(auditLog, 'utf8');
    expect(text).not.toContain('from-policy-7f3a');
    expect(text).not.toContain('per-call-91bc');
    expect(text).toContain('"config":["greeting"]');
  });

  it('a key the perCall ceiling does not list is PERMISSION_DENIED; ungranted config is IMPORT_DENIED', async () => {
    const e = await failure(rt.run('cfg.reader', {}, { grants: { config: { other: 'x' } } }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toContain('config other');
    expect((await failure(rt.run('cfg.ungranted', {}))).code).toBe('IMPORT_DENIED');
  });
});
