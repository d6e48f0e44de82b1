// Manifests (schema/capability.schema.json) and policies (schema/policy.schema.json)
// to mutate: a valid base document and, per field, values a loader must refuse or
// bound (near misses of the schema, odd types, huge and tricky strings).
import { ODD_STRINGS, ODD_NUMBERS, SCHEMA_TRICKS, mutateValue, oddValue } from './json.mjs';

export const MANIFEST_ID = 'fuzz.target';

export function baseManifest() {
  return {
    id: MANIFEST_ID,
    version: '1.0.0',
    provider: { name: 'fuzz', version: '1.0.0', url: 'https://example.com/fuzz' },
    description: 'echo under a fuzzed manifest',
    component: 'component.wasm',
    world: 'capability',
    inputSchema: { type: 'object', properties: { s: { type: 'string', maxLength: 64, pattern: '^[a-z]*$' } } },
    outputSchema: { type: 'object' },
    securityLevel: 'pure',
    permissions: { host: ['capsule:host/log'], clocks: true, random: true },
    limits: { memoryBytes: 16777216, timeoutMs: 1000, outputBytes: 65536 },
    isolation: 'auto',
  };
}

const longPath = (n) => '/nonexistent/' + 'a/'.repeat(n);
const PATHS = ['/', '/tmp', '.', '..', '../..', '/proc/self', '/dev', '/dev/zero', '/etc/cron.d', '/usr/local/bin', '~', '$HOME', '\u0000', '**', '**/'.repeat(100), '{a,b}'.repeat(200), '[', '+(x', 'x'.repeat(65536), '/tmp/(x)/{y}/[z]'];
const STAMPS = ['2020-01-01T00:00:00Z', '2099-12-31T23:59:59Z', '2026-12-31T23:59:60Z', '1970-01-01T00:00:00Z', '+275760-09-13T00:00:01Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+25:00', 'now', '', '2026-01-01'];

const MANIFEST_FIELDS = {
  id: ['Fuzz.Target', 'fuzz', 'fuzz..target', 'fuzz/target', '../fuzz.target', 'fuzz.target ', 'ｆuzz.target', 'a.' + 'b'.repeat(200)],
  version: ['1', '01.0.0', '1.0.0-' + 'x'.repeat(5000), 'v1.0.0'],
  'provider.name': ['', 'Evil-Plugin', 'evil-plugin ', 'x'.repeat(129)],
  'provider.url': ['not a uri', 'javascript:alert(1)', 'http://' + 'a'.repeat(10000)],
  component: ['../component.wasm', 'missing.wasm', 'component.WASM', 'pipe.wasm', 'dir.wasm', 'component.wasm/', './component.wasm', 'a/../component.wasm', 'x'.repeat(5000) + '.wasm'],
  digest: ['sha256:' + '0'.repeat(64), 'sha256:' + 'A'.repeat(64), 'md5:x', 'sha256:'],
  signature: ['', 'AAAA', 'x'.repeat(10000)],
  world: ['command', 'Capability', 'proxy', null],
  runtime: ['container', 'wasm', 'docker'],
  container: [{ image: 'alpine' }, { image: '-rm' }, { image: 'x', command: [1] }],
  inputSchema: SCHEMA_TRICKS,
  'inputSchema.properties.s.pattern': ['^(a+)+$', '(x+x+)+y', '^(a|a)*$', '(', '\\p{Lu}', '[', 'a{99999999}'],
  'inputSchema.properties.s.format': ['email', 'date-time', 'regex', 'uri', 'no-such-format'],
  outputSchema: SCHEMA_TRICKS,
  securityLevel: ['full', 'controlled', 'sandboxed', 'root'],
  'permissions.host': [['capsule:host/nope'], ['wasi:http/outgoing-handler'], ['CAPSULE:HOST/LOG']],
  'permissions.fs': [{ read: PATHS.slice(0, 6) }, { write: ['/'] }, { blocked: ['x'.repeat(65536)] }, { read: [longPath(20000)] }],
  'permissions.env': [['PATH'], ['HOME', 'AWS_SECRET_ACCESS_KEY'], ['1BAD'], ['A=B']],
  'permissions.net': [{ outbound: ['*'] }, { outbound: ['127.0.0.1:22'] }, { outbound: ['*.*.*'] }, { outbound: ['x'.repeat(70000)] }],
  'limits.memoryBytes': [0, 1, 65535, 65536, 2 ** 30, 2 ** 30 + 1, 2 ** 53, -1, 1.5],
  'limits.timeoutMs': [0, 1, 300000, 300001, -5, 1e308],
  'limits.outputBytes': [0, 1, 2 ** 40],
  'limits.cpuMs': [1, 0, 300001],
  'limits.inputBytes': [0, 1, 2 ** 40],
  isolation: ['vm', 'process', 'worker', 'inline', 'none'],
};

export function basePolicy() {
  return {
    grants: [
      { capabilities: ['demo.*', 'file.*', 'fuzz.*'], host: ['capsule:host/log'], clocks: true, random: true },
      { capabilities: 'demo.echo', tier: 'worker', fs: { read: ['/tmp'], write: [], blocked: ['/tmp/secret/**'] }, env: ['LANG', 'FUZZ=1'], net: { outbound: ['127.0.0.1'] }, ttlSeconds: 3600 },
      { capabilities: 'demo.text.*', expiresAt: '2099-01-01T00:00:00Z' },
    ],
    ceilings: { memoryBytes: 67108864, timeoutMs: 1000, outputBytes: 1048576, inputBytes: 16777216 },
    trustedKeys: [{ id: 'k', publicKey: 'ed25519:MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' }],
    requireSignature: ['full'],
    deniedProviders: ['evil-plugin'],
    escalate: ['sys.*'],
    fallback: null,
    onUngranted: 'refuse',
  };
}

const POLICY_FIELDS = {
  'grants.0.capabilities': ['*', '**', 'demo', 'DEMO.*', '*.*.*.*', '', [], ['demo.*', 'x'.repeat(100000)], 'a.' + '*.'.repeat(5000) + '*'],
  'grants.1.fs.read': [PATHS, [longPath(50000)], [longPath(5000)], ['relative/dir'], ['/proc/self/root/etc']],
  'grants.1.fs.write': [['/'], ['~'], ['/etc/cron.d/x'], ['/usr/local/bin'], [longPath(2000)]],
  'grants.1.fs.blocked': [['x'.repeat(65536)], ['(', '{', '['], ['**/'.repeat(2000)], ['!(a|b)'.repeat(100)]],
  'grants.1.env': [['*'], ['A='], ['PATH=' + 'x'.repeat(100000)], ['=x'], ['1A']],
  'grants.1.net.outbound': [['*'], ['[::1]'], ['localhost:0'], ['x'.repeat(70000)], ['*.']],
  'grants.1.tier': ['inline', 'vm', 'process', 'none'],
  'grants.1.ttlSeconds': [0, 1, -1, 1e308, 2 ** 53, 1.5],
  'grants.2.expiresAt': STAMPS,
  'ceilings.memoryBytes': [65535, 65536, 2 ** 30, 2 ** 30 + 1, 0],
  'ceilings.timeoutMs': [0, 1, 300000, 300001],
  'ceilings.outputBytes': [0, 1, 2 ** 53],
  'ceilings.cpuMs': [1, 10, 300000],
  'trustedKeys.0.publicKey': ['ed25519:', 'ed25519:AAAA', 'ed25519:' + 'A'.repeat(100000), 'rsa:x'],
  'trustedKeys.0.id': ['', '\u0000', 'x'.repeat(10000)],
  requireSignature: [['pure'], ['pure', 'controlled', 'sandboxed', 'full'], ['root']],
  deniedProviders: [['fuzz'], ['FUZZ '], ['ｆｕｚｚ'], ['x'.repeat(100000)]],
  escalate: [['*'], ['demo.*'], ['fuzz.*']],
  fallback: ['worker', 'process', 'inline', 'vm'],
  onUngranted: ['drop', 'ignore'],
};

function setPath(doc, dotted, value) {
  if (doc === null || typeof doc !== 'object') return; // an earlier mutation replaced the whole document
  const keys = dotted.split('.');
  let o = doc;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object') o[k] = /^\d+$/.test(k) ? [] : {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

/** Mutate a base document: field-aware values, generic JSON mutations, or both. Returns the doc and op names. */
function mutateDoc(rng, doc, fields, long) {
  const ops = [];
  for (let k = rng.weighted([[5, 1], [3, 2], [1, 4]]); k > 0; k--) {
    if (rng.chance(0.6)) {
      const field = rng.pick(Object.keys(fields));
      const v = rng.chance(0.85) ? structuredClone(rng.pick(fields[field])) : rng.chance(0.5) ? oddValue(rng) : rng.pick([...ODD_STRINGS, ...ODD_NUMBERS]);
      setPath(doc, field, v);
      ops.push(`field:${field}`);
    } else {
      const r = mutateValue(rng, doc, { long });
      doc = r.value;
      ops.push(`json:${r.op}`);
    }
  }
  return { doc, ops };
}

export const mutateManifest = (rng, long) => mutateDoc(rng, baseManifest(), MANIFEST_FIELDS, long);
export const mutatePolicy = (rng, long) => mutateDoc(rng, basePolicy(), POLICY_FIELDS, long);
