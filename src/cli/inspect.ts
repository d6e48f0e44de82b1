// `capsule inspect <id|file>`: manifest, imports/exports, requested vs granted, tier.
import { type InspectReport, inspectTarget } from '../inspect.js';
import { Runtime } from '../runtime.js';
import { fileCapabilityId } from '../run-input.js';
import { flagGrants, flagPermissions, isFileTarget, type ParsedArgs } from './args.js';
import { escapeControls } from './safe-text.js';
import { bytes } from './format.js';
import { usage } from './errors.js';
import { requested } from './list.js';

const LINK_TEXT = {
  wasi: 'linked to capsule WASI (deny by default)',
  granted: 'granted',
  denied: 'DENIED (not granted)',
};

export async function inspectCommand(a: ParsedArgs): Promise<number> {
  const target = a.positionals[0];
  if (!target) throw usage('inspect needs a capability id or a .wasm file');
  const isFile = isFileTarget(target);
  const rt = await Runtime.create({
    capabilitiesDir: a.capabilitiesDirs,
    policy: a.values.policy as string | undefined,
    extraGrants: flagGrants(a, isFile ? fileCapabilityId(target) : target),
    fileRequest: isFile ? flagPermissions(a) : undefined,
  });
  try {
    const report = await inspectTarget(rt, target, isFile);
    process.stdout.write(a.values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    return 0;
  } finally {
    await rt.close();
  }
}

function render(r: InspectReport): string {
  const m = r.manifest;
  const out: string[] = [];
  const field = (k: string, v: string) => out.push(`  ${k.padEnd(12)}${v}`);
  out.push(m ? `${r.id} ${m.version} (${m.provider.name})` : r.id);
  if (m?.description) field('description', m.description);
  field('source', r.source === 'file' ? 'file (no manifest)' : 'registry');
  if (r.digest) field('digest', r.digest);
  if (r.signedBy) field('signed by', `${r.signedBy} (verified)`);
  field('world', r.world ?? 'none (not a capability or a command)');
  if (m) field('level', m.securityLevel ?? 'pure');
  if (m?.runtime === 'container' && m.container) {
    field('container', [m.container.image, ...(m.container.command ?? [])].join(' '));
  }
  if (r.tier) {
    const via = r.tier.runner ? `, runner ${r.tier.runner}` : '';
    field('tier', `${r.tier.tier} (${r.tier.reason}${via})`);
    if (r.tier.warning) field('warning', r.tier.warning);
  }
  if (r.limits) {
    const cpu = `${r.limits.cpuMs !== undefined ? `, cpu ${r.limits.cpuMs} ms` : ''}${r.limits.fuel !== undefined ? `, fuel ${r.limits.fuel}` : ''}`;
    field('limits', `memory ${bytes(r.limits.memoryBytes)}, timeout ${r.limits.timeoutMs} ms${cpu}, output ${bytes(r.limits.outputBytes)}`);
  }
  out.push('', 'imports');
  if (r.imports.length === 0) out.push('  (none)');
  const width = Math.max(0, ...r.imports.map((i) => i.name.length));
  for (const i of r.imports) out.push(`  ${i.name.padEnd(width)}  ${LINK_TEXT[i.link]}`);
  out.push('', 'exports', ...(r.exports.length ? r.exports.map((e) => `  ${e}`) : ['  (none)']));
  if (m && r.source === 'registry') {
    out.push('', 'requested', `  ${requested(m).join(', ') || '(nothing)'}`);
  }
  if (r.granted) {
    const g = r.granted;
    const list = [
      ...g.host,
      ...(g.clocks ? ['clocks'] : []),
      ...(g.random ? ['random'] : []),
      ...g.env.map((e) => `env ${e}`),
      ...g.fs.read.map((p) => `read ${p}`),
      ...g.fs.write.map((p) => `write ${p}`),
      ...g.fs.blocked.map((p) => `blocked ${p}`),
      ...g.net.map((h) => `net ${h}`),
      ...g.netBlocked.map((h) => `net blocked ${h}`),
    ];
    out.push('granted', `  ${list.join(', ') || '(nothing)'}`);
  }
  if (r.notGranted.length > 0) out.push('not granted', ...r.notGranted.map((n) => `  ${n}`));
  out.push('', r.refusal ? `would be refused: ${r.refusal.code}: ${r.refusal.message}` : 'would run: yes');
  // Manifest fields and import names come from files: each line stays one line.
  return `${out.map((l) => escapeControls(l)).join('\n')}\n`;
}
