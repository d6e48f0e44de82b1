// Runs a hostile guest inside a separate embedding process (test/probes/embed.mjs),
// so a guest that kills its host kills that process, not the test runner.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { CAPABILITIES, ROOT } from './helpers.js';

export interface EmbedSpec {
  /** A component file to run with runFile, or a capability id in capabilitiesDir. */
  file?: string;
  id?: string;
  input?: unknown;
  opts?: Record<string, unknown>;
  /** Must include the bundled catalog (for the plain call afterwards); default it alone. */
  capabilitiesDir?: string | string[];
  policy?: unknown;
  pool?: Record<string, unknown>;
  auditLog?: string | false;
}

export interface EmbedOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  output?: unknown;
}

export interface EmbedReport {
  /** The child's exit status and signal: 0 and null when the host lived. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  hostile?: EmbedOutcome;
  plain?: EmbedOutcome;
  peakRssBytes?: number;
}

export function embed(spec: EmbedSpec, timeoutMs = 120_000): EmbedReport {
  const full = { capabilitiesDir: CAPABILITIES, ...spec };
  const r = spawnSync(process.execPath, [path.join(ROOT, 'test', 'probes', 'embed.mjs'), JSON.stringify(full)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const report: EmbedReport = { status: r.status, signal: r.signal, stderr: r.stderr };
  try {
    Object.assign(report, JSON.parse(line));
  } catch {
    // the child died before reporting: status/signal say how
  }
  return report;
}

/**
 * The invariant of docs/security.md: the host process lived, the hostile call failed
 * with a CapsuleError (one of `codes`, when given), peak RSS stayed under `maxRssBytes`,
 * and a plain call afterwards succeeded.
 */
export function expectHostSurvived(r: EmbedReport, opts: { codes?: string[]; maxRssBytes: number }): void {
  expect({ status: r.status, signal: r.signal, stderr: r.status === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(r.hostile?.ok).toBe(false);
  if (opts.codes) expect(opts.codes).toContain(r.hostile?.code);
  else expect(r.hostile?.code).not.toBe('NOT_A_CAPSULE_ERROR');
  expect(r.peakRssBytes).toBeLessThan(opts.maxRssBytes);
  expect(r.plain).toEqual({ ok: true, output: { still: 'alive' } });
}
