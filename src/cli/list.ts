// `capsule list`: every capability found, what it requests, and whether it is usable.
import { requiredTier } from '../policy/tier.js';
import { toolName } from '../tool-catalog.js';
import type { Manifest } from '../registry/manifest.js';
import { Runtime } from '../runtime.js';
import type { ParsedArgs } from './args.js';
import { oneLine } from './safe-text.js';
import { table } from './format.js';

export async function listCommand(a: ParsedArgs): Promise<number> {
  const rt = await Runtime.create({ capabilitiesDir: a.capabilitiesDirs, policy: a.values.policy as string | undefined });
  try {
    const rows = rt.registry.list().map((e) => ({
      id: e.id,
      version: e.manifest?.version ?? '',
      world: e.manifest?.world ?? '',
      level: e.manifest ? (e.manifest.securityLevel ?? 'pure') : '',
      tier: e.manifest ? requiredTier(e.manifest, rt.policy.doc).tier : '',
      permissions: e.manifest ? requested(e.manifest) : [],
      description: e.manifest?.description ?? '',
      // The name rt.tools() and a model's tool call use (README: Tool catalog).
      tool: e.manifest ? toolName(e.manifest.id) : undefined,
      error: e.error ? { code: e.error.code, message: e.error.message } : undefined,
    }));
    if (a.values.json) {
      // What a caller (an agent framework, an editor) needs to call each one: its schemas.
      const entries = rt.registry.list();
      const withSchemas = rows.map((r, i) => {
        const m = entries[i]?.manifest;
        return m ? { ...r, inputSchema: m.inputSchema, outputSchema: m.outputSchema } : r;
      });
      process.stdout.write(`${JSON.stringify(withSchemas, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write(`no capabilities found in ${a.capabilitiesDirs.join(', ')}\n`);
      return 0;
    }
    const body = rows.map((r) => [r.id, r.version, r.world, r.level, r.tier, r.permissions.join(', ') || '-', r.error ? `${r.error.code}` : r.description]);
    process.stdout.write(`${table(['ID', 'VERSION', 'WORLD', 'LEVEL', 'TIER', 'REQUESTS', 'DESCRIPTION'], body)}\n`);
    const broken = rows.filter((r) => r.error);
    for (const r of broken) process.stdout.write(`\n${r.id}: ${r.error?.code}: ${oneLine(r.error?.message ?? '')}`);
    if (broken.length > 0) process.stdout.write('\n');
    return 0;
  } finally {
    await rt.close();
  }
}

/** What a manifest asks for, one short item per permission. */
export function requested(m: Manifest): string[] {
  const p = m.permissions ?? {};
  return [
    ...(p.host ?? []),
    ...(p.clocks ? ['clocks'] : []),
    ...(p.random ? ['random'] : []),
    ...(p.fs?.read ?? []).map((r) => `read ${r}`),
    ...(p.fs?.write ?? []).map((w) => `write ${w}`),
    ...(p.env ?? []).map((e) => `env ${e}`),
    ...(p.net?.outbound ?? []).map((n) => `net ${n}`),
  ];
}
